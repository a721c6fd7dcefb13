"""Regression guards of the chapters (:mod:`mgc_helpers.book.checks`) and the seed spread behind them (:mod:`~.spread`)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mgc_helpers.book import checks, spread

PROFILES_MEASURED = ("quick", "default")


@pytest.fixture
def measured_spread(tmp_path, monkeypatch):
    """A spread file for a made-up chapter: accuracy 0.60, 0.62, 0.64 over seeds 0-2, a count of 500."""
    monkeypatch.setattr(spread, "SPREAD_DIR", tmp_path)
    monkeypatch.delenv(spread.MEASURING_ENV, raising=False)
    spread.write_spread({s: {"99_made_up": {"cnn_accuracy": 0.60 + 0.02 * s, "n_test": 500}} for s in (0, 1, 2)},
                        "quick")
    return spread.bands("quick")


def test_a_band_is_the_mean_plus_minus_three_standard_deviations(measured_spread):
    band = measured_spread[("99_made_up", "cnn_accuracy")]
    assert band.seeds == (0, 1, 2)
    assert band.mean == pytest.approx(0.62) and band.std == pytest.approx(0.02)
    assert (band.low, band.high) == (pytest.approx(0.56), pytest.approx(0.68))
    count = measured_spread[("99_made_up", "n_test")]
    assert count.integer and count.contains(500) and not count.contains(501)


def test_the_guard_fails_outside_the_band_in_either_direction(measured_spread):
    ok = checks.check_glued({"cnn_accuracy": 0.57, "n_test": 500, "best_model": "CNN"}, notebook="99_made_up",
                            profile="quick", dataset="synthetic", seed=1)
    assert ok == "guard: 2 glued numbers within their bands (mean ± 3 std over the seeds)"
    with pytest.raises(checks.GuardFailure, match=r"cnn_accuracy = 0.496 lies outside its band 0.62 ± 0.06"):
        checks.check_glued({"cnn_accuracy": 0.8 * 0.62, "n_test": 500}, notebook="99_made_up", profile="quick",
                           dataset="synthetic", seed=0)
    with pytest.raises(checks.GuardFailure, match="mgc spread --profile quick"):
        checks.check_glued({"cnn_accuracy": 0.95, "n_test": 500}, notebook="99_made_up", profile="quick",
                           dataset="synthetic", seed=0)


def test_every_glued_number_needs_a_band_and_every_band_a_glued_number(measured_spread):
    with pytest.raises(checks.GuardFailure, match=r"new_metric = 0\.5 is glued but has no measured spread"):
        checks.check_glued({"cnn_accuracy": 0.6, "n_test": 500, "new_metric": 0.5}, notebook="99_made_up",
                           profile="quick", dataset="synthetic", seed=0)
    with pytest.raises(checks.GuardFailure, match="is glued but has no measured spread"):  # a chapter never measured
        checks.check_glued({"acc": 0.6}, notebook="98_new_chapter", profile="quick", dataset="synthetic", seed=0)
    with pytest.raises(checks.GuardFailure, match="n_test has a measured spread but was not glued"):
        checks.check_glued({"cnn_accuracy": 0.6}, notebook="99_made_up", profile="quick", dataset="synthetic", seed=0)


def test_bands_apply_to_the_embedded_data_profile_epochs_and_measured_seeds_only(measured_spread):
    glued = {"cnn_accuracy": 0.2, "n_test": 7}
    facts_only = "guard: 2 glued numbers checked for facts only (bands are measured for the embedded dataset)"
    for kwargs in ({"dataset": "gtzan", "seed": 0}, {"dataset": "synthetic", "seed": 3},
                   {"dataset": "synthetic", "seed": 0, "epochs": 50}):
        assert checks.check_glued(glued, notebook="99_made_up", profile="quick", **kwargs) == facts_only
    assert checks.check_glued(glued, notebook="99_made_up", profile="paper", dataset="synthetic", seed=0) == facts_only
    with pytest.raises(checks.GuardFailure, match=r"not a number in \[0, 1\]"):
        checks.check_glued({"cnn_accuracy": 1.5}, notebook="99_made_up", profile="quick", dataset="gtzan", seed=0)
    with pytest.raises(checks.GuardFailure, match=r"not a number in \[0, 1\]"):
        checks.check_glued({"track_accuracy": math.nan}, notebook="x", profile="quick", dataset="gtzan", seed=0)


def test_while_the_spread_is_measured_only_facts_are_checked(measured_spread, monkeypatch):
    monkeypatch.setenv(spread.MEASURING_ENV, "1")
    line = checks.check_glued({"cnn_accuracy": 0.2, "n_test": 7}, notebook="99_made_up", profile="quick",
                              dataset="synthetic", seed=0)
    assert "facts only" in line


def test_numpy_scalars_count_as_glued_numbers():
    """A chapter that glues ``np.int64`` or ``np.float32`` is guarded like one that glues Python numbers."""
    found = spread.glued_numbers({"n": np.int64(500), "acc": np.float32(0.5), "flag": np.bool_(True), "who": "CNN"})
    assert found == {"n": 500, "acc": 0.5} and type(found["n"]) is int and type(found["acc"]) is float


def test_a_spread_needs_three_seeds_and_keeps_names_glued_under_every_seed(tmp_path):
    with pytest.raises(ValueError, match="at least 3 seeds"):
        spread.write_spread({0: {}, 1: {}}, "quick", tmp_path / "x.csv")
    path = spread.write_spread({0: {"nb": {"a": 0.5, "b": 1.0}}, 1: {"nb": {"a": 0.6}}, 2: {"nb": {"a": 0.7}}},
                               "quick", tmp_path / "x.csv")
    assert path.read_text().splitlines() == ["notebook,name,seed,value,type", "nb,a,0,0.5,float", "nb,a,1,0.6,float",
                                             "nb,a,2,0.7,float"]


def test_glued_numbers_are_read_back_from_an_executed_notebook(tmp_path):
    def record(name, text):
        return {"output_type": "display_data", "data": {"application/papermill.record/text/plain": text},
                "metadata": {"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}}}

    cells = [{"cell_type": "code", "outputs": [record("acc", "0.625"), record("n", "500"), record("who", "'CNN'"),
                                                record("flag", "True"), record("gone", "nan")]}]
    nb = tmp_path / "10_results.ipynb"
    nb.write_text(json.dumps({"cells": cells}))
    found = spread.read_glued(nb)
    assert found["acc"] == 0.625 and found["n"] == 500 and isinstance(found["n"], int)
    assert math.isnan(found["gone"]) and set(found) == {"acc", "n", "gone"}
    with pytest.raises(ValueError, match="not a readable notebook"):
        spread.read_glued(tmp_path / "missing.ipynb")


@pytest.mark.parametrize("profile", PROFILES_MEASURED)
def test_the_stored_spread_has_three_seeds_and_guards_the_cnn_against_a_20_percent_drop(profile):
    """The measured bands are tight enough to catch a real regression: 80 % of the CNN's accuracy fails."""
    found = spread.bands(profile)
    assert found, f"no measured spread for {profile!r}: mgc spread --profile {profile}"
    assert all(len(band.seeds) >= 3 for band in found.values())
    for key in (("09_cnn", "cnn_accuracy"), ("10_results", "cnn_accuracy")):
        band = found[key]
        assert all(not band.contains(0.8 * v) for v in band.values), (key, band.describe())
    # every accuracy measured is well above chance at its lowest
    chance = checks.CHANCE
    low = {key: band.low for key, band in found.items() if key[1].endswith("_accuracy") and "zeroshot" not in key[1]
           and not key[1].startswith(("cnn_best", "rnn_lstm_best", "cnn_adam", "rnn_lstm_adam"))}
    assert all(v > chance for v in low.values()), {k: v for k, v in low.items() if v <= chance}


def test_feature_reference_is_compared_to_two_decimals():
    X = np.zeros((4, 130, 13), np.float32) + np.arange(13, dtype=np.float32)
    reference = {"quick": list(np.arange(13, dtype=float))}
    assert "match" in checks.check_features(X, profile="quick", dataset="synthetic", reference=reference)
    X2 = X.copy()
    X2[..., 5] += 0.5
    with pytest.raises(checks.GuardFailure, match="MFCC means"):
        checks.check_features(X2, profile="quick", dataset="synthetic", reference=reference)
    assert "no reference" in checks.check_features(X2, profile="quick", dataset="gtzan", reference=reference)
    assert "no reference" in checks.check_features(X[..., :12], profile="paper", dataset="synthetic",
                                                   reference=reference)
    with pytest.raises(checks.GuardFailure):
        checks.check_features(X[..., :12], profile="quick", dataset="synthetic", reference=reference)


def test_measuring_runs_the_data_chapters_once_per_seed_and_reads_their_glue(tmp_path, monkeypatch):
    """``mgc spread`` runs ``reproduce`` per seed (without the book, guards in measuring mode)."""
    from dataclasses import dataclass

    from mgc_helpers.book import reproduce as reproduce_module
    from mgc_helpers.commands.spread import measure

    @dataclass
    class Run:
        executed: object

    calls = []

    def fake_reproduce(*, profile, seed, notebooks, book, log):
        calls.append((profile, seed, notebooks, book, spread.measuring()))
        nb = tmp_path / f"seed{seed}" / "10_results.ipynb"
        nb.parent.mkdir()
        record = {"output_type": "display_data", "data": {"application/papermill.record/text/plain": str(0.5 + seed)},
                  "metadata": {"scrapbook": {"name": "acc", "mime_prefix": "application/papermill.record/"}}}
        nb.write_text(json.dumps({"cells": [{"cell_type": "code", "outputs": [record]}]}))
        return type("Result", (), {"runs": [Run(nb)]})()

    monkeypatch.setattr(reproduce_module, "reproduce", fake_reproduce)
    monkeypatch.delenv(spread.MEASURING_ENV, raising=False)
    measured = measure("quick", [0, 1, 2], log=lambda line: None)
    assert measured == {s: {"10_results": {"acc": 0.5 + s}} for s in (0, 1, 2)}
    assert [c[1] for c in calls] == [0, 1, 2] and all(c[2] == "06,07,08,09,10,11,12,13,14" for c in calls)
    assert all(c[3] is False and c[4] is True for c in calls) and not spread.measuring()
    monkeypatch.setattr(spread, "SPREAD_DIR", tmp_path)
    spread.write_spread(measured, "quick")
    table = spread.band_table("quick")
    assert list(table.columns) == ["seed 0", "seed 1", "seed 2", "mean", "std", "low", "high"]
    assert table.loc[("10_results", "acc"), "mean"] == pytest.approx(1.5)
