"""Regression guards of the chapters (:mod:`mgc_helpers.checks`)."""
from __future__ import annotations

import numpy as np
import pytest

from mgc_helpers import checks


def test_floors_are_far_above_chance_and_fail_a_model_at_chance():
    for profile, floors in checks.ACCURACY_FLOORS.items():
        assert min(floors.values()) >= 1.7 * checks.CHANCE, profile
        with pytest.raises(checks.GuardFailure, match="below its floor"):
            checks.check_accuracies({"cnn": 0.11}, profile=profile, dataset="synthetic", seed=0)
    line = checks.check_accuracies({"cnn": 0.9, "mlp": 0.8}, profile="quick", dataset="synthetic", seed=2)
    assert line == "guard: 2 accuracies within [0, 1] and above their floors (chance is 0.1)"


def test_floors_apply_to_the_embedded_data_only_but_the_range_always():
    line = checks.check_accuracies({"cnn": 0.11}, profile="quick", dataset="gtzan")
    assert "floors are known for the embedded dataset" in line
    with pytest.raises(checks.GuardFailure, match="not in"):
        checks.check_accuracies({"cnn": 1.5}, profile="quick", dataset="gtzan")
    with pytest.raises(checks.GuardFailure, match="not in"):
        checks.check_accuracies({"cnn": float("nan")}, profile="quick", dataset="synthetic")


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


def test_retrieval_guard_floors_and_a_profile_independent_line():
    from mgc_helpers.checks import RETRIEVAL_FLOORS, GuardFailure, check_retrieval

    for profile, floors in RETRIEVAL_FLOORS.items():
        assert set(floors) == {f"{e}@{k}" for e in ("mfcc", "cnn", "musicnn") for k in (5, 10)}, profile
    good = {name: 0.6 for name in RETRIEVAL_FLOORS["default"]}
    lines = {check_retrieval(good, profile=p, dataset="synthetic") for p in ("quick", "default")}
    assert lines == {"guard: 6 precision@k values within [0, 1] and above their floors (chance is about 0.1)"}
    with pytest.raises(GuardFailure, match="cnn@5: precision 0.100 is below its floor"):
        check_retrieval({**good, "cnn@5": 0.1}, profile="default", dataset="synthetic")
    with pytest.raises(GuardFailure, match="not in"):
        check_retrieval({"mfcc@5": 1.5}, profile="default", dataset="gtzan")
    assert "floors are known" in check_retrieval({"mfcc@5": 0.01}, profile="default", dataset="gtzan")
