"""Metrics with known answers, track aggregation, confusion matrices and the protocol grid."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mgc_helpers.core.config import FeatureConfig
from mgc_helpers.data.segments import SegmentSet
from mgc_helpers.models import evaluation as E
from mgc_helpers.models import experiments as X


def test_accuracy_from_labels_and_from_probabilities():
    y = np.array([0, 1, 2, 2])
    assert E.accuracy(y, np.array([0, 1, 1, 2])) == 0.75
    proba = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.1, 0.1, 0.8]])
    assert E.accuracy(y, proba) == 0.75
    with pytest.raises(ValueError, match="predictions"):
        E.accuracy(y, np.array([0, 1]))


def test_cross_entropy_known_answer_and_clipping():
    y = np.array([0, 1])
    proba = np.array([[0.5, 0.5], [0.2, 0.8]])
    assert E.cross_entropy(y, proba) == pytest.approx(-(math.log(0.5) + math.log(0.8)) / 2)
    # a probability of exactly 0 is clipped like Keras does, not infinite
    assert E.cross_entropy(np.array([0]), np.array([[0.0, 1.0]])) == pytest.approx(-math.log(1e-7))


def test_rmse_known_answers_and_its_ceiling():
    y = np.array([0, 1])
    proba = np.array([[1.0, 0.0], [0.5, 0.5]])
    # squared errors: 0, 0, 0.25, 0.25 -> mean 0.125
    assert E.rmse(y, proba) == pytest.approx(math.sqrt(0.125))
    # the worst case, every probability on one wrong class: sqrt(2/K), far below 3.31
    k = 10
    worst = np.eye(k)[(np.arange(50) + 1) % k]
    assert E.rmse(np.arange(50) % k, worst) == pytest.approx(math.sqrt(2 / k))
    assert E.rmse(np.array([3]), np.eye(10)[[3]]) == 0.0


def test_segment_metrics_keys():
    m = E.segment_metrics(np.array([0, 1]), np.array([[0.9, 0.1], [0.4, 0.6]]))
    assert set(m) == {"accuracy", "loss", "rmse", "n"} and m["n"] == 2 and m["accuracy"] == 1.0


def test_confusion_matrix_and_per_genre_accuracy():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 2, 2])
    cm = E.confusion_matrix(y_true, y_pred, n_classes=4)
    expected = np.zeros((4, 4), int)
    expected[0, 0], expected[0, 1], expected[1, 1], expected[1, 2], expected[2, 2] = 2, 1, 1, 1, 1
    np.testing.assert_array_equal(cm, expected)
    acc = E.per_genre_accuracy(cm, ["a", "b", "c", "d"])
    assert acc["a"] == pytest.approx(2 / 3) and acc["b"] == 0.5 and acc["c"] == 1.0
    assert np.isnan(acc["d"])  # no items of that genre
    with pytest.raises(ValueError, match="labels must lie"):
        E.confusion_matrix(y_true, y_pred, n_classes=2)


def test_track_aggregation_mean_and_vote_differ_on_a_known_case():
    # track "a": two weak votes for class 1, one confident segment for class 0
    proba = np.array([[0.45, 0.55], [0.45, 0.55], [0.99, 0.01],   # a
                      [0.2, 0.8], [0.3, 0.7],                     # b
                      [0.6, 0.4], [0.4, 0.6]])                    # c: a 1-1 tie
    track = np.array(["a", "a", "a", "b", "b", "c", "c"])
    y = np.array([0, 0, 0, 1, 1, 0, 0])
    mean = E.aggregate_tracks(proba, track, y, method="mean")
    vote = E.aggregate_tracks(proba, track, y, method="vote")
    assert mean["track"].tolist() == ["a", "b", "c"] and mean["n_segments"].tolist() == [3, 2, 2]
    assert mean["y_pred"].tolist() == [0, 1, 0]   # mean of a: (0.63, 0.37); c: (0.5, 0.5) -> first
    assert vote["y_pred"].tolist() == [1, 1, 0]   # 2 votes beat 1; c's tie goes to the larger mean
    assert mean["y_true"].tolist() == [0, 1, 0]
    assert mean.loc[0, "confidence"] == pytest.approx((0.45 + 0.45 + 0.99) / 3)
    assert E.track_accuracy(proba, track, y, method="mean") == 1.0
    assert E.track_accuracy(proba, track, y, method="vote") == pytest.approx(2 / 3)


def test_track_aggregation_errors():
    proba = np.full((2, 2), 0.5)
    with pytest.raises(ValueError, match="different labels"):
        E.aggregate_tracks(proba, np.array(["a", "a"]), np.array([0, 1]))
    with pytest.raises(ValueError, match="unknown aggregation"):
        E.aggregate_tracks(proba, np.array(["a", "a"]), method="median")


class _Constant:
    """A stand-in for TrainedModel that always predicts the same probabilities."""

    name, genres = "const", ("a", "b")

    def predict_proba(self, X, *, batch_size=256):
        return np.tile([0.25, 0.75], (len(X), 1))


def _segments(n_tracks=6, per_track=4) -> SegmentSet:
    n = n_tracks * per_track
    return SegmentSet(X=np.zeros((n, 13, 13), np.float32), y=np.repeat(np.arange(n_tracks) % 2, per_track),
                      track=np.repeat([f"t{i}" for i in range(n_tracks)], per_track),
                      group=np.repeat([f"g{i}" for i in range(n_tracks)], per_track),
                      segment=np.tile(np.arange(per_track), n_tracks), genres=("a", "b"),
                      config=FeatureConfig(track_duration=3.0))


def test_evaluate_and_its_views():
    segs = _segments()
    ev = E.evaluate(_Constant(), segs, np.arange(8, 24))
    m = ev.metrics()
    assert m["n"] == 16 and m["n_tracks"] == 4
    assert m["accuracy"] == 0.5 and m["track_accuracy_mean"] == 0.5 and m["track_accuracy_vote"] == 0.5
    assert m["loss"] == pytest.approx(-(math.log(0.25) + math.log(0.75)) / 2)
    np.testing.assert_array_equal(ev.confusion(), [[0, 8], [0, 8]])
    np.testing.assert_array_equal(ev.confusion(level="track"), [[0, 2], [0, 2]])
    assert ev.tracks()["predicted"].eq("b").all()
    assert ev.per_genre().tolist() == [0.0, 1.0]
    table = E.metrics_table({"const": ev})
    assert table.loc["const", "accuracy"] == 0.5


def test_evaluate_refuses_other_genres():
    segs = _segments()
    other = _Constant()
    other.genres = ("x", "y")
    with pytest.raises(ValueError, match="knows genres"):
        E.evaluate(other, segs)


def test_evaluation_file_round_trip(tmp_path):
    ev = E.evaluate(_Constant(), _segments())
    path = E.save_evaluation(ev, tmp_path / "pred" / "const_test.npz")
    back = E.load_evaluation(path)
    assert back.name == "const" and back.genres == ("a", "b")
    np.testing.assert_array_equal(back.track, ev.track)
    np.testing.assert_allclose(back.proba, ev.proba)
    assert back.metrics() == pytest.approx(ev.metrics())
    with pytest.raises(ValueError, match=".npz"):
        E.save_evaluation(ev, tmp_path / "x.json")


def test_result_figures_return_fig_ax_artist():
    import matplotlib

    matplotlib.use("Agg")
    from mgc_helpers.plotting import results as plots

    history = pd.DataFrame({"epoch": [1, 2, 3], "loss": [2.0, 1.0, 0.5], "accuracy": [0.2, 0.5, 0.8],
                            "val_loss": [2.1, 1.5, 1.4], "val_accuracy": [0.2, 0.4, 0.5]})
    fig, ax, lines = plots.plot_history(history, metric="loss", label="MLP")
    assert len(lines) == 2 and lines[1].get_linestyle() == "--" and ax.get_ylabel() == "cross-entropy loss"
    fig, ax, lines = plots.plot_histories({"a": history, "b": history}, validation=False)
    assert len(lines) == 2
    with pytest.raises(ValueError, match="no column 'rmse'"):
        plots.plot_history(history, metric="rmse")
    fig, ax, image = plots.plot_confusion(np.array([[3, 1], [0, 4]]), ["a", "b"])
    np.testing.assert_allclose(image.get_array(), [[0.75, 0.25], [0.0, 1.0]])
    grid = pd.DataFrame({"model": ["cnn"] * 4, "protocol": ["segment", "segment", "track", "track"],
                         "seed": [0, 1, 0, 1], **{m: [0.9, 0.8, 0.6, 0.5] for m in X.GRID_METRICS}})
    fig, ax, bars = plots.plot_protocols(X.summarize_protocols(grid))
    assert [round(b.get_height(), 3) for b in bars[0]] == [0.85, 0.55]
    table = pd.DataFrame({"paper": [0.6, 0.74], "this run": [0.5, 0.8]}, index=["MLP", "CNN"])
    fig, ax, bars = plots.plot_paper_comparison(table)
    assert len(bars) == 2
    fig, ax, bars = plots.plot_per_genre(pd.DataFrame({"cnn": [0.5, 1.0]}, index=["a", "b"]))
    assert bars[0][1].get_height() == 1.0
    matplotlib.pyplot.close("all")
