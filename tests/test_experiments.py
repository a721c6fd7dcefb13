"""Tests of mgc_helpers.models.experiments: the protocol grid (train, test, save, resume, summarise)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mgc_helpers.core.config import FeatureConfig
from mgc_helpers.data.segments import SegmentSet
from mgc_helpers.data.splits import Split
from mgc_helpers.models import experiments as X


@pytest.fixture(autouse=True)
def _runs_in_this_process(monkeypatch):
    """The grids here train in this process, so that the split functions can count their calls
    (the grid in worker processes gives the same numbers: tests/test_compute.py)."""
    from mgc_helpers.core import compute

    monkeypatch.setenv(compute.TRAIN_JOBS_ENV, "1")


def test_mean_std_formatting():
    assert X.mean_std(0.74512, 0.0123) == "0.745 ± 0.012"
    assert X.mean_std(0.5, float("nan")) == "0.500"


def _toy_grid_data() -> SegmentSet:
    rng = np.random.default_rng(0)
    n_tracks, per_track = 12, 3
    y = np.repeat(np.arange(n_tracks) % 2, per_track)
    X = rng.standard_normal((n_tracks * per_track, 13, 13)).astype(np.float32)
    X[:, :, 0] += 3 * y[:, None]
    return SegmentSet(X=X, y=y, track=np.repeat([f"t{i:02d}" for i in range(n_tracks)], per_track),
                      group=np.repeat([f"g{i // 2}" for i in range(n_tracks)], per_track),
                      segment=np.tile(np.arange(per_track), n_tracks), genres=("a", "b"),
                      config=FeatureConfig(track_duration=3.0))


def _fixed_split(segments, protocol, *, seed=0):
    n = len(segments)
    order = np.random.default_rng(seed).permutation(n)
    return Split(f"{protocol} (seed {seed})", order[: n // 2], order[n // 2: 3 * n // 4], order[3 * n // 4:])


def _counting_split(calls: list[tuple[str, int]]):
    """A split function for run_protocols that records each (protocol, seed) it is asked for."""
    def split_fn(segments, protocol, *, seed=0):
        calls.append((protocol, seed))
        return _fixed_split(segments, protocol, seed=seed)
    return split_fn


def test_protocol_grid_is_tidy_saved_and_resumes(tmp_path):
    segs = _toy_grid_data()
    out = tmp_path / "grid.csv"
    calls: list[tuple[str, int]] = []
    split_fn = _counting_split(calls)

    grid = X.run_protocols(segs, models=("mlp",), protocols=("segment", "track"), seeds=(0, 1), epochs=1,
                           batch_size=8, out=out, split_fn=split_fn)
    assert len(grid) == 4 and len(calls) == 4
    assert grid[["protocol", "seed"]].values.tolist() == [["segment", 0], ["segment", 1],
                                                          ["track", 0], ["track", 1]]
    assert set(X.GRID_KEYS) | set(X.GRID_METRICS) <= set(grid.columns)
    assert grid["n_test"].eq(9).all() and grid["accuracy"].between(0, 1).all()
    saved = pd.read_csv(out)
    assert len(saved) == 4

    # an interrupted grid: drop the last run from the file; only that run is trained again
    saved.iloc[:3].to_csv(out, index=False)
    calls.clear()
    again = X.run_protocols(segs, models=("mlp",), protocols=("segment", "track"), seeds=(0, 1), epochs=1,
                            batch_size=8, out=out, split_fn=split_fn)
    assert calls == [("track", 1)]
    np.testing.assert_allclose(again["accuracy"], grid["accuracy"])
    assert len(pd.read_csv(out)) == 4

    # a different setting (more epochs) is a different cell
    calls.clear()
    X.run_protocols(segs, models=("mlp",), protocols=("segment",), seeds=(0,), epochs=2, batch_size=8,
                    out=out, split_fn=split_fn)
    assert calls == [("segment", 0)] and len(pd.read_csv(out)) == 5

    summary = X.summarize_protocols(grid)
    assert summary.index.tolist() == [("mlp", "segment"), ("mlp", "track")]
    assert summary["n_seeds"].tolist() == [2, 2]
    row = grid[grid["protocol"] == "segment"]["accuracy"]
    assert summary.loc[("mlp", "segment"), "accuracy_mean"] == pytest.approx(row.mean())
    assert summary.loc[("mlp", "segment"), "accuracy_std"] == pytest.approx(row.std(ddof=1))
    table = X.protocol_table(summary)
    assert " ± " in table.loc[("mlp", "track"), "accuracy"]


def test_protocol_grid_with_the_real_splits():
    segs = _toy_grid_data()
    grid = X.run_protocols(segs, models=("mlp",), protocols=("track",), seeds=(0,), epochs=1, batch_size=8)
    assert len(grid) == 1 and grid.loc[0, "n_test_tracks"] == 3  # 25 % of 12 tracks


def test_protocol_grid_does_not_reuse_runs_on_other_data(tmp_path):
    segs = _toy_grid_data()
    out = tmp_path / "grid.csv"
    calls: list[tuple[str, int]] = []
    split_fn = _counting_split(calls)

    X.run_protocols(segs, models=("mlp",), protocols=("segment",), seeds=(0,), epochs=1, batch_size=8,
                    out=out, split_fn=split_fn)
    changed = segs.subset(np.arange(len(segs)))
    changed.X[0, 0, 0] += 1.0  # same sizes and settings, different segments (e.g. a re-rendered dataset)
    X.run_protocols(changed, models=("mlp",), protocols=("segment",), seeds=(0,), epochs=1, batch_size=8,
                    out=out, split_fn=split_fn)
    assert len(calls) == 2 and len(pd.read_csv(out)) == 2


def _scored_cell(key, calls):
    """A grid cell without training: a row, and a two-row table (module level: run_grid may send it to workers)."""
    calls.append(key["seed"])
    row = {**key, "accuracy": key["seed"] / 10, "track_accuracy_mean": 0.5, "seconds": 0.0}
    return row, pd.DataFrame({"epoch": [1, 2], "loss": [key["rate"], key["rate"] / 2]})


def test_run_grid_keeps_a_table_per_cell_beside_its_csv_and_resumes_both(tmp_path):
    out = tmp_path / "grid.csv"
    keys = [{"model": "m", "rate": 1e-4, "seed": s, "fingerprint": "0123"} for s in (0, 1, 2)]
    calls: list[int] = []
    lines: list[str] = []

    def grid(cells=keys):
        return X.run_grid(cells, _scored_cell, args=(calls,), out=out, jobs=1, table="curves",
                          name=lambda key: f"m at {key['rate']:g}, seed {key['seed']}", progress=lines.append)

    rows, table = grid()
    assert calls == [0, 1, 2] and lines[0] == "[1/3] m at 0.0001, seed 0: accuracy 0.000 (track 0.500) in 0.0 s"
    assert X.table_path(out, "curves") == tmp_path / "grid_curves.csv" and X.table_path(out, "curves").is_file()
    assert table.columns.tolist() == ["model", "rate", "seed", "fingerprint", "epoch", "loss"]  # the key in front
    assert table["seed"].tolist() == [0, 0, 1, 1, 2, 2] and table["loss"].tolist()[:2] == [1e-4, 5e-5]
    assert rows["accuracy"].tolist() == [0.0, 0.1, 0.2]

    calls.clear()  # all saved: nothing runs, the same frames come back (a text key stays text: "0123")
    again, table_again = grid()
    assert calls == [] and lines[-1] == "[3/3] m at 0.0001, seed 2: kept from grid.csv"
    pd.testing.assert_frame_equal(again, rows)
    pd.testing.assert_frame_equal(table_again, table)

    calls.clear()  # a float key matches to a relative 1e-9; another rate is another cell
    grid([{**key, "rate": 1e-4 * (1 + 1e-12)} for key in keys])
    assert calls == []
    grid([*keys[:1], {**keys[1], "rate": 2e-4}])
    assert calls == [1] and len(pd.read_csv(out)) == 4

    calls.clear()  # a row whose table rows are lost is run again, and then saved once
    curves = pd.read_csv(X.table_path(out, "curves"), dtype={"fingerprint": str})
    curves[curves["seed"] != 2].to_csv(X.table_path(out, "curves"), index=False)
    _, table_after = grid()
    assert calls == [2] and len(pd.read_csv(out)) == 4 and len(pd.read_csv(X.table_path(out, "curves"))) == 8
    pd.testing.assert_frame_equal(table_after, table)

    with pytest.raises(ValueError, match=r"repeats key columns: \['epoch'\]"):  # a key named like a table column
        X.run_grid([{"epoch": 0, "model": "m", "protocol": "p", "seed": 0, "rate": 1.0}], _scored_cell,
                   args=([],), jobs=1, table="curves")


def test_verdicts_tell_winning_losing_and_mixed_apart():
    """The verdicts that chapters 10 and 13 glue: three outcomes, named protocols, the seed spread."""
    from mgc_helpers.models.experiments import margin_verdict, protocols_phrase, within_spread

    gap = pd.Series({"segment": -0.41, "track": -0.3, "artist": -0.28})
    assert margin_verdict(gap, "the best baseline") == "loses to the best baseline under every protocol"
    assert margin_verdict(-gap, "the best baseline") == "beats the best baseline under every protocol"
    mixed = pd.Series({"segment": 0.05, "track": 0.0, "artist": -0.1})
    assert margin_verdict(mixed, "X") == ("beats X under the segment protocol, loses to it under the artist protocol "
                                          "and ties with it under the track protocol")
    assert protocols_phrase(["track"]) == "under the track protocol"
    with pytest.raises(ValueError):
        protocols_phrase([])
    spread = pd.Series({"segment": 0.1, "track": 0.01, "artist": float("nan")})
    assert within_spread(pd.Series({"segment": 0.05, "track": 0.3, "artist": 0.5}), spread) == ["segment", "artist"]
