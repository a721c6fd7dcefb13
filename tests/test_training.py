"""Training on tiny learnable data: loss falls, history saved, reload, determinism, config checks."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mgc_helpers.core.config import FeatureConfig
from mgc_helpers.data.segments import SegmentSet
from mgc_helpers.data.splits import Split
from mgc_helpers.models import training

#: 3-s clips in 10 segments -> 13 frames of 13 MFCCs: small enough for fast tests, big enough for the CNN.
TINY = FeatureConfig(track_duration=3.0)
GENRES3 = ("blues", "metal", "pop")


def toy_segments(*, n_tracks=8, segments=6, seed=0, config=TINY, genres=GENRES3) -> SegmentSet:
    """Learnable toy problem: genre k raises MFCC k (and lowers the coefficients after it) by 2."""
    rng = np.random.default_rng(seed)
    frames, n_mfcc = config.segment_shape
    rows, y, track, group, seg = [], [], [], [], []
    for label, genre in enumerate(genres):
        for t in range(n_tracks):
            for s in range(segments):
                x = rng.standard_normal((frames, n_mfcc))
                x[:, label] += 2.0
                x[:, len(genres):] -= label
                rows.append(x)
                y.append(label)
                track.append(f"{genre}.{t:05d}")
                group.append(f"{genre}_a{t // 2}")
                seg.append(s)
    return SegmentSet(X=np.array(rows, dtype=np.float32), y=np.array(y), track=np.array(track),
                      group=np.array(group), segment=np.array(seg), genres=genres, config=config)


def toy_split(segs: SegmentSet, seed: int = 0) -> Split:
    index = np.random.default_rng(seed).permutation(len(segs))
    n_test, n_valid = len(segs) // 4, len(segs) // 6
    return Split("toy", index[n_test + n_valid:], index[n_test:n_test + n_valid], index[:n_test])


@pytest.fixture(scope="module")
def data():
    segs = toy_segments()
    return segs, toy_split(segs)


@pytest.fixture(scope="module")
def trained_mlp(data):
    segs, split = data
    return training.train(segs, split, model="mlp", epochs=6, batch_size=16, seed=0, learning_rate=1e-3)


def test_training_learns_the_toy_problem(data, trained_mlp):
    segs, split = data
    h = trained_mlp.history
    assert list(h.columns) == list(training.HISTORY_COLUMNS)
    assert h["epoch"].tolist() == list(range(1, 7))
    assert h["loss"].iloc[-1] < h["loss"].iloc[0]
    assert h["val_accuracy"].notna().all()
    predicted = trained_mlp.predict(segs.X[split.test])
    assert np.mean(predicted == segs.y[split.test]) > 0.8  # chance is 1/3
    assert trained_mlp.params["n_train"] == len(split.train)
    assert len(trained_mlp.epoch_seconds) == 6


@pytest.mark.parametrize("name", ["mlp_dropout", "rnn_lstm", "cnn"])
def test_every_model_trains_on_tiny_data(data, name):
    segs, split = data
    trained = training.train(segs, split, model=name, epochs=2, batch_size=32, seed=1, learning_rate=3e-3)
    proba = trained.predict_proba(segs.X[:5])
    assert proba.shape == (5, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert np.isfinite(trained.history[["loss", "val_loss"]].to_numpy()).all()


def test_save_and_load_round_trip(tmp_path, data, trained_mlp):
    segs, split = data
    paths = training.save_model(trained_mlp, tmp_path / "models" / "mlp")
    assert paths["model"].name == "mlp.keras" and paths["model"].is_file()
    meta = json.loads(paths["metadata"].read_text())
    assert meta["model"] == "mlp" and meta["genres"] == list(GENRES3) and meta["seed"] == 0
    assert meta["feature_config"] == TINY.to_dict() and meta["feature_fingerprint"] == TINY.fingerprint()
    history = pd.read_csv(paths["history"])
    np.testing.assert_allclose(history["loss"], trained_mlp.history["loss"], rtol=1e-5)

    loaded = training.load_model(paths["model"], config=TINY, genres=GENRES3)
    X = segs.X[split.test]
    np.testing.assert_array_equal(loaded.predict_proba(X), trained_mlp.predict_proba(X))
    assert loaded.config == TINY and loaded.name == "mlp" and loaded.params["epochs"] == 6
    assert len(loaded.history) == 6
    assert training.load_model(tmp_path / "models" / "mlp").genres == GENRES3  # the stem works too


def test_loading_with_other_feature_settings_is_a_clear_error(tmp_path, trained_mlp):
    training.save_model(trained_mlp, tmp_path / "m")
    other = FeatureConfig(track_duration=3.0, hop_length=256)
    with pytest.raises(training.FeatureConfigMismatchError, match=r"hop_length: model 512, given 256"):
        training.load_model(tmp_path / "m.keras", config=other)
    with pytest.raises(training.FeatureConfigMismatchError, match="predicts genres"):
        training.load_model(tmp_path / "m.keras", genres=("jazz", "rock", "pop"))
    with pytest.raises(FileNotFoundError, match="not found"):
        training.load_model(tmp_path / "missing.keras")


def test_standardisation_is_fitted_on_train_and_saved(tmp_path, data):
    segs, split = data
    trained = training.train(segs, split, model="mlp", epochs=1, standardize=True, seed=0)
    z = trained.standardizer.transform(segs.X[split.train])
    np.testing.assert_allclose(z.mean(axis=(0, 1)), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=(0, 1)), 1.0, atol=1e-3)
    training.save_model(trained, tmp_path / "std")
    loaded = training.load_model(tmp_path / "std")
    np.testing.assert_array_equal(loaded.standardizer.mean, trained.standardizer.mean)
    np.testing.assert_allclose(loaded.predict_proba(segs.X[:4]), trained.predict_proba(segs.X[:4]), rtol=1e-6)


def test_same_seed_gives_identical_history_and_other_seed_differs(data):
    segs, split = data
    runs = [training.train(segs, split, model="cnn", epochs=2, batch_size=16, seed=s).history for s in (3, 3, 4)]
    pd.testing.assert_frame_equal(runs[0], runs[1])
    assert not runs[0].equals(runs[2])


def test_wrong_inputs_are_clear_errors(data, trained_mlp):
    segs, split = data
    with pytest.raises(ValueError, match="unknown model"):
        training.train(segs, split, model="svm")
    with pytest.raises(ValueError, match="epochs"):
        training.train(segs, split, model="mlp", epochs=0)
    with pytest.raises(ValueError, match="empty training part"):
        training.train(segs, Split("empty", [], split.valid, split.test), model="mlp")
    with pytest.raises(ValueError, match=r"shape \(n, 13, 13\)"):
        trained_mlp.predict_proba(np.zeros((2, 130, 13), np.float32))
    with pytest.raises(ValueError, match="seed"):
        training.set_seed(-1)


def test_progress_lines_are_compact(data):
    segs, split = data
    lines: list[str] = []
    training.train(segs, split, model="mlp", epochs=3, seed=0, progress=lines.append, progress_every=2)
    assert len(lines) == 3  # epochs 1, 2 and the last
    assert lines[0].startswith("MLP epoch   1/3") and "val_accuracy" in lines[0]


def test_history_without_validation_has_nan_columns():
    frame = training.history_frame({"loss": [2.0, 1.0], "accuracy": [0.1, 0.5]})
    assert frame["epoch"].tolist() == [1, 2]
    assert frame["val_loss"].isna().all()


def test_train_or_load_reuses_only_a_matching_model(tmp_path, data):
    segs, split = data
    path = tmp_path / "models" / "mlp"
    first, loaded = training.train_or_load(segs, split, model="mlp", path=path, epochs=1, seed=0)
    assert not loaded and path.with_suffix(".keras").is_file()
    again, loaded = training.train_or_load(segs, split, model="mlp", path=path, epochs=1, seed=0)
    assert loaded
    np.testing.assert_array_equal(again.predict_proba(segs.X[:3]), first.predict_proba(segs.X[:3]))
    _, loaded = training.train_or_load(segs, split, model="mlp", path=path, epochs=2, seed=0)
    assert not loaded  # other settings: trained again
    other = toy_segments(seed=5)  # other data, same shapes
    _, loaded = training.train_or_load(other, split, model="mlp", path=path, epochs=2, seed=0)
    assert not loaded
    assert training.model_path(tmp_path, "cnn") == tmp_path / "models" / "cnn"
