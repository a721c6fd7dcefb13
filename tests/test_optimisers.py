"""The optimiser and activation options of the models, and the grid of ``12_optimisers.ipynb`` on tiny data."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_training import toy_segments, toy_split

from mgc_helpers.beyond import optimisers
from mgc_helpers.core.profiles import PROFILES
from mgc_helpers.data.splits import Split
from mgc_helpers.models import experiments, networks, training
from mgc_helpers.plotting.results import plot_learning_curves


@pytest.fixture(autouse=True)
def _runs_in_this_process(monkeypatch):
    """The grids here train in this process, so that the split functions can count their calls
    (the grid in worker processes gives the same numbers: tests/test_compute.py)."""
    from mgc_helpers.core import compute

    monkeypatch.setenv(compute.TRAIN_JOBS_ENV, "1")


HIDDEN = {"mlp": ("dense_1", "dense_2", "dense_3"), "rnn_lstm": ("dense",),
          "cnn": ("conv_1", "conv_2", "conv_3", "dense"), "cnn_tutorial": ("conv_1", "conv_2", "conv_3", "dense")}


# ---------------------------------------------------------------------------------------- the model options
@pytest.mark.parametrize("name", ["mlp", "rnn_lstm", "cnn"])
def test_optimizer_and_activation_reach_the_built_model(name):
    model = networks.build_model(name, optimizer="adadelta", activation="tanh", learning_rate=1.0)
    assert type(model.optimizer).__name__ == "Adadelta"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1.0)
    for layer in HIDDEN[name]:
        assert model.get_layer(layer).activation.__name__ == "tanh", layer
    assert model.get_layer("softmax").activation.__name__ == "softmax"
    if name == "rnn_lstm":  # the LSTM cells keep their own gates and state
        lstm = model.get_layer("lstm_1")
        assert lstm.activation.__name__ == "tanh" and lstm.recurrent_activation.__name__ == "sigmoid"


@pytest.mark.parametrize("name,expected", [("mlp", 1031306), ("mlp_dropout", 1031306), ("rnn_lstm", 57802),
                                           ("cnn", 25034), ("cnn_tutorial", 45514)])
def test_defaults_are_the_papers_and_options_keep_the_parameter_count(name, expected):
    model = networks.build_model(name)
    assert model.count_params() == expected
    assert type(model.optimizer).__name__ == "Adam"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-4)
    for layer in HIDDEN.get(name, HIDDEN["mlp"]):
        assert model.get_layer(layer).activation.__name__ == "relu", layer
    for act in ("sigmoid", "tanh"):
        assert networks.build_model(name, activation=act, optimizer="sgd").count_params() == expected


@pytest.mark.parametrize("name", ["sgd", "adagrad", "adadelta", "adam"])
def test_make_optimizer_uses_the_given_rate(name):
    opt = networks.make_optimizer(name, learning_rate=0.02)
    assert type(opt) is networks.OPTIMIZERS[name]
    assert float(np.asarray(opt.learning_rate)) == pytest.approx(0.02)
    if name == "sgd":
        assert float(np.asarray(opt.momentum)) == 0.0  # plain SGD, as the paper describes it


def test_unknown_optimizer_or_activation_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown optimizer 'rmsprop'; choose one of \['sgd', 'adagrad'"):
        networks.build_model("mlp", optimizer="rmsprop")
    with pytest.raises(ValueError, match=r"unknown activation 'gelu'; choose one of \['relu', 'sigmoid', 'tanh'\]"):
        networks.build_model("cnn", activation="gelu")
    with pytest.raises(ValueError, match="unknown optimizer 'Adam'"):
        networks.make_optimizer("Adam")
    with pytest.raises(ValueError, match="learning_rate must be positive"):
        networks.make_optimizer("sgd", learning_rate=0)
    segs = toy_segments(n_tracks=2, segments=2)
    with pytest.raises(ValueError, match="unknown activation 'softplus'"):
        training.train(segs, toy_split(segs), model="mlp", epochs=1, activation="softplus")


# ---------------------------------------------------------------------------------------- training
def test_train_records_the_options_and_train_or_load_compares_them(tmp_path):
    segs = toy_segments(n_tracks=4, segments=3)
    split = toy_split(segs)
    path = tmp_path / "models" / "mlp"
    first, loaded = training.train_or_load(segs, split, model="mlp", path=path, epochs=1, optimizer="sgd",
                                           activation="tanh", learning_rate=0.01)
    assert not loaded
    assert first.params["optimizer"] == "sgd" and first.params["activation"] == "tanh"
    assert type(first.model.optimizer).__name__ == "SGD"
    assert first.model.get_layer("dense_1").activation.__name__ == "tanh"
    _, loaded = training.train_or_load(segs, split, model="mlp", path=path, epochs=1, optimizer="sgd",
                                       activation="tanh", learning_rate=0.01)
    assert loaded
    _, loaded = training.train_or_load(segs, split, model="mlp", path=path, epochs=1, optimizer="adagrad",
                                       activation="tanh", learning_rate=0.01)
    assert not loaded  # another optimiser: trained again
    _, loaded = training.train_or_load(segs, split, model="mlp", path=path, epochs=1, optimizer="adagrad",
                                       activation="sigmoid", learning_rate=0.01)
    assert not loaded  # another activation: trained again
    reloaded = training.load_model(path)
    assert reloaded.model.get_layer("dense_2").activation.__name__ == "sigmoid"
    assert type(reloaded.model.optimizer).__name__ == "Adagrad"


def test_a_model_saved_before_the_options_existed_counts_as_adam_with_relu(tmp_path):
    segs = toy_segments(n_tracks=4, segments=3)
    split = toy_split(segs)
    path = tmp_path / "mlp"
    first, loaded = training.train_or_load(segs, split, model="mlp", path=path, epochs=1)
    assert not loaded and first.params["optimizer"] == "adam" and first.params["activation"] == "relu"
    meta_path = path.with_name("mlp.json")
    meta = json.loads(meta_path.read_text())
    del meta["params"]["optimizer"], meta["params"]["activation"]
    meta_path.write_text(json.dumps(meta))
    _, loaded = training.train_or_load(segs, split, model="mlp", path=path, epochs=1)
    assert loaded
    meta_path.write_text(json.dumps(meta))
    _, loaded = training.train_or_load(segs, split, model="mlp", path=path, epochs=1, activation="tanh")
    assert not loaded


# ---------------------------------------------------------------------------------------- the grid
def test_designs_and_plans():
    assert [(c.optimizer, c.learning_rate) for c in optimisers.design("optimisers")] == [
        ("sgd", 1e-4), ("sgd", 0.01), ("adagrad", 1e-4), ("adagrad", 0.01), ("adadelta", 1e-4), ("adadelta", 1.0),
        ("adam", 1e-4), ("adam", 1e-3)]
    assert {c.activation for c in optimisers.design("optimisers")} == {"relu"}
    both = optimisers.plan_configs("optimisers+activations")
    assert len(both) == 10 and len(set(both)) == 10
    assert [c.rate_kind for c in optimisers.design("optimisers")[:2]] == ["paper", "usual"]
    with pytest.raises(ValueError, match="unknown design 'optimizers'"):
        optimisers.design("optimizers")
    assert optimisers.resolve_plan((("cnn", "activations", 1, 3),)) == (("cnn", "activations", 1, 3),)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        optimisers.resolve_plan((("cnn", "activations", 1, 3),), epochs=0)


def test_every_profile_has_a_valid_plan_with_all_three_models():
    for name, prof in PROFILES.items():
        assert {m for m, *_ in prof.optim_plan} == {"mlp", "rnn_lstm", "cnn"}, name
        for model, designs, n_seeds, epochs in prof.optim_plan:
            assert model in networks.MODEL_NAMES and optimisers.plan_configs(designs)
            assert 1 <= n_seeds <= len(prof.seeds) and epochs >= 1
        assert any(n == len(prof.seeds) or n >= 2 for _, _, n, _ in prof.optim_plan), name  # some std


def test_rates_table_names_the_usual_defaults_and_keras_defaults():
    rates = optimisers.rates_table()
    assert rates.loc["AdaDelta", "usual default"] == 1.0
    assert rates.loc["AdaDelta", "Keras 3 default"] == pytest.approx(1e-3)
    assert rates["paper's rate"].eq(1e-4).all()
    assert rates.loc["Adam", "usual default"] == rates.loc["Adam", "Keras 3 default"]


def _split_fn(calls):
    def split_fn(segments, protocol, *, seed=0):
        calls.append((protocol, seed))
        split = toy_split(segments, seed)
        return Split(f"{protocol} (seed {seed})", split.train, split.valid, split.test)
    return split_fn


def test_optimiser_grid_on_tiny_data_is_tidy_saved_and_reused(tmp_path):
    segs = toy_segments(n_tracks=4, segments=3)
    out = tmp_path / "tables" / "optimisers.csv"
    calls: list[tuple[str, int]] = []
    plan = (("mlp", "activations", 2, 2),)
    runs, hist = optimisers.run_optimiser_grid(segs, plan=plan, seeds=(0, 1, 2), batch_size=8, out=out,
                                               split_fn=_split_fn(calls))
    assert len(runs) == 6 and len(calls) == 6 and set(runs["seed"]) == {0, 1}
    assert set(optimisers.RUN_KEYS) <= set(runs.columns) and set(runs["protocol"]) == {"track"}
    assert runs["accuracy"].between(0, 1).all()
    assert len(hist) == 12 and hist["epoch"].tolist()[:2] == [1, 2]
    assert out.is_file() and (tmp_path / "tables" / "optimisers_histories.csv").is_file()

    calls.clear()  # the same plan again: every run is reused, nothing is trained
    again, hist_again = optimisers.run_optimiser_grid(segs, plan=plan, seeds=(0, 1, 2), batch_size=8, out=out,
                                                      split_fn=_split_fn(calls))
    assert calls == []
    pd.testing.assert_frame_equal(again, runs)
    pd.testing.assert_frame_equal(hist_again, hist)

    calls.clear()  # one more epoch is another run
    optimisers.run_optimiser_grid(segs, plan=(("mlp", "activations", 1, 3),), seeds=(0,), batch_size=8, out=out,
                                  split_fn=_split_fn(calls))
    assert len(calls) == 3 and len(pd.read_csv(out)) == 9

    summary = optimisers.summarize_grid(runs)
    assert summary["label"].tolist() == ["Adam, lr 0.0001, ReLU", "Adam, lr 0.0001, sigmoid", "Adam, lr 0.0001, tanh"]
    assert summary["n_seeds"].eq(2).all()
    relu = runs[runs["activation"] == "relu"]["accuracy"]
    assert summary.loc[0, "accuracy_mean"] == pytest.approx(relu.mean())
    table = optimisers.grid_table(summary)
    assert table.shape == (3, 1) and list(table.columns) == ["MLP"] and "±" in table.iloc[0, 0]
    curves = optimisers.mean_curves(hist)
    assert set(curves) == {("mlp", label) for label in summary["label"]}
    assert curves[("mlp", "Adam, lr 0.0001, ReLU")].shape == (2, 3)
    _, _, lines = plot_learning_curves({k[1]: v for k, v in curves.items()})
    assert len(lines) == 3

    with pytest.raises(ValueError, match=r"n_seeds must be in 1\.\.3"):
        optimisers.run_optimiser_grid(segs, plan=(("mlp", "activations", 4, 1),), seeds=(0, 1, 2))
    with pytest.raises(ValueError, match="unknown model"):
        optimisers.run_optimiser_grid(segs, plan=(("svm", "activations", 1, 1),), seeds=(0,))


def _without(path, **key):
    """Drop from a saved CSV the rows of one run; returns how many rows it had."""
    frame = pd.read_csv(path)
    match = np.logical_and.reduce([frame[k].eq(v).to_numpy() for k, v in key.items()])
    frame[~match].to_csv(path, index=False)
    return len(frame)


def test_optimiser_grid_resumes_runs_and_learning_curves(tmp_path):
    """An interrupted grid trains only what is missing, and the learning curves it keeps are the same numbers."""
    segs = toy_segments(n_tracks=4, segments=3)
    out = tmp_path / "optimisers.csv"
    curves = experiments.table_path(out, "histories")
    calls: list[tuple[str, int]] = []
    plan = (("mlp", "activations", 2, 2),)

    def grid():
        return optimisers.run_optimiser_grid(segs, plan=plan, seeds=(0, 1, 2), batch_size=8, out=out,
                                             split_fn=_split_fn(calls))

    runs, hist = grid()
    assert curves == tmp_path / "optimisers_histories.csv" and len(pd.read_csv(curves)) == 12
    saved_curves = pd.read_csv(curves)

    # stopped after the last run's curve was saved but before its row was: only that run is trained
    # again, and its curve replaces the saved one instead of being added twice
    calls.clear()
    _without(out, activation="tanh", seed=1)
    resumed, hist_resumed = grid()
    assert calls == [("track", 1)]
    pd.testing.assert_frame_equal(resumed.drop(columns="seconds"), runs.drop(columns="seconds"))
    pd.testing.assert_frame_equal(hist_resumed, hist)  # seeded: the same numbers, in the grid's order
    assert len(pd.read_csv(out)) == 6
    pd.testing.assert_frame_equal(pd.read_csv(curves), saved_curves)

    # a run whose learning curve is lost is not finished: trained again, its row not saved twice
    calls.clear()
    assert _without(curves, activation="relu", seed=0) == 12
    _, hist_again = grid()
    assert calls == [("track", 0)]
    pd.testing.assert_frame_equal(hist_again, hist)
    assert len(pd.read_csv(out)) == 6 and len(pd.read_csv(curves)) == 12

    # no curves at all: every run is trained again
    calls.clear()
    curves.unlink()
    grid()
    assert len(calls) == 6 and len(pd.read_csv(curves)) == 12 and len(pd.read_csv(out)) == 6


def test_gradient_norms_per_layer_and_activation():
    segs = toy_segments(n_tracks=2, segments=3)
    grads = optimisers.gradient_norms(segs, np.arange(12), model="mlp", seed=0)
    assert grads.shape[0] == 9 and set(grads["activation"]) == {"relu", "sigmoid", "tanh"}
    assert (grads["gradient_norm"] > 0).all()
    last = grads[grads["depth"] == 3]
    np.testing.assert_allclose(last["ratio_to_last"], 1.0)
    again = optimisers.gradient_norms(segs, np.arange(12), model="mlp", seed=0)
    np.testing.assert_allclose(again["gradient_norm"], grads["gradient_norm"], rtol=1e-6)  # deterministic
    with pytest.raises(ValueError, match="no segments"):
        optimisers.gradient_norms(segs, np.arange(0))


def _summary(rows):
    frame = pd.DataFrame(rows, columns=["model", "optimizer", "learning_rate", "activation", "accuracy_mean",
                                        "accuracy_std"])
    return frame


def test_paper_claims_are_computed_from_the_results():
    rows = [("mlp", o, r, "relu", acc, 0.01) for (o, r, acc) in [
        ("sgd", 1e-4, 0.3), ("sgd", 0.01, 0.1), ("adagrad", 1e-4, 0.3), ("adagrad", 0.01, 0.55),
        ("adadelta", 1e-4, 0.1), ("adadelta", 1.0, 0.4), ("adam", 1e-4, 0.5), ("adam", 1e-3, 0.52)]]
    rows += [("mlp", "adam", 1e-4, "sigmoid", 0.3, 0.01), ("mlp", "adam", 1e-4, "tanh", 0.49, 0.02)]
    rows += [("cnn", "adam", 1e-4, "relu", 0.6, np.nan), ("cnn", "adam", 1e-4, "sigmoid", 0.1, np.nan),
             ("cnn", "adam", 1e-4, "tanh", 0.4, np.nan)]
    grads = pd.DataFrame({"activation": ["relu", "relu", "sigmoid", "sigmoid"], "depth": [1, 2, 1, 2],
                          "ratio_to_last": [0.9, 1.0, 0.01, 1.0]})
    claims = optimisers.paper_claims(_summary(rows), grads).set_index(["claim", "model"])
    adam = claims.loc[("adam_best", "mlp")]
    assert not adam["held"] and adam["margin"] == pytest.approx(-0.03) and adam["detail"] == "adagrad"
    assert not adam["within_spread"]  # 0.03 is more than the larger std (0.01)
    assert ("adam_best", "cnn") not in claims.index  # the CNN did not run the optimisers
    assert claims.loc[("relu_beats_sigmoid", "mlp"), "held"] and claims.loc[("relu_beats_sigmoid", "cnn"), "held"]
    tanh = claims.loc[("relu_beats_tanh", "mlp")]
    assert tanh["held"] and tanh["within_spread"]  # 0.01 < 0.02
    assert claims.loc[("relu_no_vanishing", "mlp"), "held"]
    text = optimisers.claims_statement(claims.reset_index())
    assert text.startswith("Adam reaches the highest accuracy of the four optimisers: did not hold for the MLP.")
    assert "ReLU beats sigmoid: held for the MLP and CNN (one seed)." in text
    assert "With ReLU the gradient does not vanish towards the first layer: held for the MLP." in text
    # a vanishing ReLU gradient fails the claim
    grads.loc[0, "ratio_to_last"] = 0.001
    assert not optimisers.paper_claims(_summary(rows), grads).set_index("claim").loc["relu_no_vanishing", "held"]
