"""The classic baseline: MFCC statistics, logistic regression and SVM, on the deep models' grid."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mgc_helpers.core.config import FeatureConfig
from mgc_helpers.data.segments import SegmentSet
from mgc_helpers.data.splits import make_split
from mgc_helpers.models import baseline as B
from mgc_helpers.models import evaluation as E
from mgc_helpers.models import experiments as X

#: 3-s clips in 10 segments -> 13 frames of 13 MFCCs (as in test_training.py).
TINY = FeatureConfig(track_duration=3.0)
GENRES10 = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")


def genre_segments(*, tracks_per_genre: int = 8, artists_per_genre: int = 4, segments: int = 5,
                   seed: int = 0, config: FeatureConfig = TINY, genres=GENRES10) -> SegmentSet:
    """A small, not trivially separable genre problem with artist effects.

    Each genre has its own mean and frame-to-frame spread per coefficient; each artist shifts its
    tracks' means (so tracks by one artist are closer than the genre alone explains), each track
    adds a little more; frames are noisy around that.
    """
    rng = np.random.default_rng(seed)
    frames, n_mfcc = config.segment_shape
    genre_mean = 0.35 * rng.standard_normal((len(genres), n_mfcc))
    genre_spread = rng.uniform(0.8, 1.2, (len(genres), n_mfcc))
    rows, y, track, group, seg = [], [], [], [], []
    for label, genre in enumerate(genres):
        artist_offset = 0.35 * rng.standard_normal((artists_per_genre, n_mfcc))
        for t in range(tracks_per_genre):
            a = t % artists_per_genre
            centre = genre_mean[label] + artist_offset[a] + 0.15 * rng.standard_normal(n_mfcc)
            for s in range(segments):
                rows.append(centre + genre_spread[label] * rng.standard_normal((frames, n_mfcc)))
                y.append(label)
                track.append(f"{genre}.{t:05d}")
                group.append(f"{genre}_a{a}")
                seg.append(s)
    return SegmentSet(X=np.array(rows, dtype=np.float32), y=np.array(y), track=np.array(track),
                      group=np.array(group), segment=np.array(seg), genres=tuple(genres), config=config)


@pytest.fixture(scope="module")
def segs():
    return genre_segments()


def test_statistics_shapes_names_and_values(segs):
    X = segs.X[:7]
    plain, with_deltas = B.mfcc_statistics(X), B.mfcc_statistics(X, deltas=True)
    assert plain.shape == (7, 26) and with_deltas.shape == (7, 52)
    assert len(B.statistic_names(13)) == 26 and len(B.statistic_names(13, deltas=True)) == 52
    np.testing.assert_allclose(plain[:, :13], X.mean(axis=1), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(plain[:, 13:], X.std(axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(with_deltas[:, :26], plain)
    np.testing.assert_allclose(with_deltas[:, 26:39], np.diff(X.astype(np.float64), axis=1).mean(axis=1))
    np.testing.assert_array_equal(B.mfcc_statistics(X), plain)  # deterministic
    with pytest.raises(ValueError, match="shape"):
        B.mfcc_statistics(X[0])


def test_track_statistics_pool_all_frames_of_a_track(segs):
    tracks, feats = B.track_statistics(segs.X, segs.track, deltas=True)
    assert tracks.tolist() == sorted(set(segs.track.tolist())) and feats.shape == (80, 52)
    first = segs.X[segs.track == tracks[0]].astype(np.float64)
    np.testing.assert_allclose(feats[0, :13], first.reshape(-1, 13).mean(axis=0))
    np.testing.assert_allclose(feats[0, 13:26], first.reshape(-1, 13).std(axis=0))
    with pytest.raises(ValueError, match="track ids"):
        B.track_statistics(segs.X, segs.track[:3])


@pytest.mark.parametrize("model", ["logreg", "svm"])
def test_baseline_learns_the_toy_problem_deterministically(segs, model):
    split = make_split(segs, "track", seed=0)
    fitted = B.train_baseline(segs, split, model=model, seed=0)
    assert fitted.name == f"mfcc_{model}" and fitted.params["n_features"] == 52
    ev = E.evaluate(fitted, segs, split.test)  # the deep models' metric code
    metrics = ev.metrics()
    # measured: logreg 0.85, svm 0.87 (track level 0.95 both); chance: 0.1
    assert metrics["accuracy"] > 0.5 and metrics["track_accuracy_mean"] > 0.6
    assert ev.proba.shape == (len(split.test), 10)
    np.testing.assert_allclose(ev.proba.sum(axis=1), 1.0, atol=1e-9)
    again = B.train_baseline(segs, split, model=model, seed=0)
    np.testing.assert_array_equal(again.predict_proba(segs.X[split.test]), ev.proba)


def test_missing_genre_in_training_gets_probability_zero(segs):
    split = make_split(segs, "track", seed=0)
    keep = split.train[segs.y[split.train] != 3]
    from mgc_helpers.data.splits import Split

    fitted = B.train_baseline(segs, Split("no disco", keep, split.valid, split.test), model="logreg")
    proba = fitted.predict_proba(segs.X[split.test])
    assert proba.shape == (len(split.test), 10) and np.all(proba[:, 3] == 0)
    with pytest.raises(ValueError, match="single genre"):
        B.train_baseline(segs, Split("one", split.train[segs.y[split.train] == 0], split.valid, split.test))
    with pytest.raises(ValueError, match="unknown baseline"):
        B.build_baseline("forest")


def test_baseline_grid_has_the_deep_models_columns_and_resumes(tmp_path, segs):
    out = tmp_path / "grid.csv"
    lines: list[str] = []
    grid = B.run_baseline_protocols(segs, models=("logreg", "svm"), protocols=("segment", "track", "artist"),
                                    seeds=(0, 1), out=out, progress=lines.append)
    runs = [line for line in lines if line.startswith("[")]  # one line per run, in the grid's order
    assert len(grid) == 12 and [line.split("/")[0] for line in runs] == [f"[{i}" for i in range(1, 13)]
    assert set(X.GRID_KEYS) | set(X.GRID_METRICS) | {"n_test_tracks", "final_train_accuracy"} <= set(grid.columns)
    assert set(grid["model"]) == {"mfcc_logreg", "mfcc_svm"}
    # the same splits as run_protocols: make_split(segments, protocol, seed=seed)
    split = make_split(segs, "artist", seed=1)
    row = grid[(grid["model"] == "mfcc_svm") & (grid["protocol"] == "artist") & (grid["seed"] == 1)].iloc[0]
    assert row["n_test"] == len(split.test) and row["n_train"] == len(split.train)
    summary = X.summarize_protocols(grid)
    assert summary.index.tolist() == [(m, p) for m in ("mfcc_logreg", "mfcc_svm") for p in ("segment", "track", "artist")]
    # measured (2 seeds): segment 0.87-0.89, track 0.78-0.87, artist 0.61-0.77; chance 0.1
    assert (summary["accuracy_mean"] > 0.4).all()
    assert (summary.xs("segment", level="protocol")["accuracy_mean"] > 0.6).all()

    # resumes from the CSV, and concatenates with deep-model rows
    lines.clear()
    again = B.run_baseline_protocols(segs, models=("logreg", "svm"), protocols=("segment", "track", "artist"),
                                     seeds=(0, 1), out=out, progress=lines.append)
    assert all("kept from" in line for line in lines)
    np.testing.assert_allclose(again["accuracy"], grid["accuracy"])
    cnn_like = grid.assign(model="cnn", epochs=3, batch_size=32, standardize=False)
    both = X.summarize_protocols(pd.concat([cnn_like, grid], ignore_index=True))
    assert len(both) == 9
    nodeltas = B.run_baseline_protocols(segs, models=("logreg",), protocols=("segment",), seeds=(0,),
                                        deltas=False, out=out)
    assert nodeltas["model"].tolist() == ["mfcc_logreg_nodeltas"] and len(pd.read_csv(out)) == 13


def test_baseline_grid_in_worker_processes_equals_it_run_here(segs):
    kwargs = dict(models=("logreg", "svm"), protocols=("track",), seeds=(0, 1))
    here = B.run_baseline_protocols(segs, jobs=1, **kwargs)
    workers = B.run_baseline_protocols(segs, jobs=2, **kwargs)
    assert workers["model"].tolist() == ["mfcc_logreg"] * 2 + ["mfcc_svm"] * 2
    pd.testing.assert_frame_equal(here.drop(columns="seconds"), workers.drop(columns="seconds"))


def test_a_grid_resumed_in_worker_processes_keeps_the_grids_order(tmp_path, segs):
    out = tmp_path / "grid.csv"
    B.run_baseline_protocols(segs, models=("logreg",), protocols=("track",), seeds=(1,), out=out, jobs=1)
    lines: list[str] = []
    resumed = B.run_baseline_protocols(segs, models=("logreg",), protocols=("track",), seeds=(0, 1, 2), out=out,
                                       jobs=2, progress=lines.append)
    assert [line for line in lines if "kept from" in line] == ["[2/3] mfcc_logreg track seed 1: kept from grid.csv"]
    assert resumed["seed"].tolist() == [0, 1, 2] and len(pd.read_csv(out)) == 3
    fresh = B.run_baseline_protocols(segs, models=("logreg",), protocols=("track",), seeds=(0, 1, 2), jobs=1)
    np.testing.assert_allclose(resumed["accuracy"], fresh["accuracy"])
