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
