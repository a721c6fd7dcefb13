"""Regression guards: what every run of a chapter must reach, checked in the chapter itself.

The notebook tests (nbval) run every chapter under the ``quick`` profile, while the stored outputs
come from the ``default`` profile, so the numbers a chapter prints cannot be compared with the
stored ones. Instead each data chapter ends with a *guard* cell that calls a function of this
module. A guard raises :class:`GuardFailure` (failing the chapter and its test) when a result
regresses, and prints one line that does not depend on the profile (so nbval compares it with the
stored output too). Three kinds of guards:

* **bands** around every number the chapter glues into its prose (:func:`check_glued`): on the
  embedded synthetic dataset, with the profile's epochs and a seed whose spread was measured, each
  glued number must lie within the mean ± 3 standard deviations of its values over those seeds
  (:mod:`mgc_helpers.book.spread`, ``resources/seed_spread/<profile>.csv``). A model that trains worse
  than any seed did, a leak that makes it better than any seed did, a changed split or metric, fail;
* **exact values** where the numbers are deterministic: parameter counts, shapes, sizes;
* **reference statistics** of the features of the synthetic dataset (:data:`FEATURE_REFERENCE`),
  compared to two decimals, which catch a changed front end (window, mel bands, scaling) whose
  shapes are unchanged.

On other data (your GTZAN copy), other epochs or seeds, only the facts that hold for any data are
checked (an accuracy is a number in [0, 1]): the spread is known for the embedded data alone.
Explained in ``10_results.ipynb`` ("How the results are guarded").
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import spread

__all__ = [
    "FEATURE_REFERENCE",
    "GuardFailure",
    "check_features",
    "check_glued",
    "feature_statistics",
]

#: Chance accuracy for ten balanced genres.
CHANCE = 0.1


class GuardFailure(AssertionError):
    """A result regressed: it left the band measured over the seeds, or broke a fact."""


#: Mean of each of the 13 MFCCs over every frame of the synthetic dataset (seed 0), per profile,
#: rounded to two decimals; see :func:`feature_statistics`. (The ``paper`` profile's 1000 clips
#: have no reference yet.)
FEATURE_REFERENCE: dict[str, list[float]] = {
    "quick": [-96.53, 80.76, -10.06, 19.72, -4.84, 7.68, -7.9, 3.74, -9.2, 2.12, -6.89, 1.16, -5.93],
    "default": [-94.74, 80.86, -10.96, 19.68, -5.03, 7.45, -8.02, 3.7, -9.22, 2.02, -6.91, 1.11, -5.48],
}


def _facts(numbers: Mapping[str, float | int]) -> list[str]:
    """What holds for any data: accuracies and precisions are numbers in [0, 1]."""
    problems = []
    for name, value in numbers.items():
        if any(word in name for word in ("accuracy", "precision")) and not name.endswith("_std"):
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                problems.append(f"{name} = {value!r} is not a number in [0, 1]")
    return problems


def check_glued(glued: Mapping[str, Any], *, notebook: str, profile: str, dataset: str, seed: int,
                epochs: int | None = None) -> str:
    """Check every number a chapter glued against its band over the measured seeds; return one line.

    Parameters
    ----------
    glued : mapping
        ``{name: value}`` as glued by the chapter (:data:`mgc_helpers.book.glued.GLUED`); strings and
        booleans are left out.
    notebook : str
        The chapter's file stem (``"10_results"``): bands are kept per chapter.
    profile, dataset, seed, epochs
        The run's parameters (``epochs=None``: the profile's). Bands apply to the synthetic dataset,
        the profile's epochs and the seeds they were measured with.

    Returns
    -------
    str
        A line that depends on neither the profile nor the values.

    Raises
    ------
    GuardFailure
        If a glued number lies outside its band, a glued number has no band, a measured number was
        not glued, or an accuracy is not in [0, 1]; the message names each, with the band and the
        command that measures the spread again (``mgc spread``).

    Examples
    --------
    >>> check_glued({"cnn_accuracy": 0.5}, notebook="09_cnn", profile="quick", dataset="gtzan", seed=0)
    'guard: 1 glued number checked for facts only (bands are measured for the embedded dataset)'
    """
    numbers = spread.glued_numbers(glued)
    problems = _facts(numbers)
    profile_bands = spread.bands(profile)
    measured = {name: band for (nb, name), band in profile_bands.items() if nb == notebook}
    measured_seeds = {s for band in profile_bands.values() for s in band.seeds}
    # a profile whose spread was measured guards every chapter, also one with no band yet (it then fails)
    applies = (dataset == "synthetic" and epochs is None and not spread.measuring() and seed in measured_seeds)
    if applies:
        for name, value in numbers.items():
            band = measured.get(name)
            if band is None:
                problems.append(f"{name} = {value!r} is glued but has no measured spread")
            elif not band.contains(float(value)):
                problems.append(f"{name} = {value:.4g} lies outside its band {band.describe()}")
        problems += [f"{name} has a measured spread but was not glued" for name in measured if name not in numbers]
    if problems:
        hint = (f"; if the change is intended, measure the spread again: mgc spread --profile {profile}"
                if applies else "")
        raise GuardFailure(f"{notebook} ({profile!r} profile, seed {seed}): " + "; ".join(problems) + hint)
    n = len(numbers)
    what = f"{n} glued number" if n == 1 else f"{n} glued numbers"
    if applies:
        bands = "its band" if n == 1 else "their bands"
        return f"guard: {what} within {bands} (mean ± {spread.K:g} std over the seeds)"
    return f"guard: {what} checked for facts only (bands are measured for the embedded dataset)"


def feature_statistics(X: np.ndarray) -> np.ndarray:
    """Mean of each MFCC over every segment and frame of ``X`` (shape ``(n, frames, n_mfcc)``)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3:
        raise ValueError(f"segments must have shape (n, frames, n_mfcc), got {X.shape}")
    return X.mean(axis=(0, 1))


def check_features(X: np.ndarray, *, profile: str, dataset: str, seed: int = 0,
                   reference: Mapping[str, list[float]] | None = None) -> str:
    """Compare the features' per-coefficient means with :data:`FEATURE_REFERENCE` (two decimals).

    Checked for the synthetic dataset with seed 0 and a profile that has reference values.

    Raises
    ------
    GuardFailure
        If a mean differs from the reference by more than 0.01 + 0.1 % of its size.
    """
    reference = FEATURE_REFERENCE if reference is None else reference
    means = feature_statistics(X)
    if not (dataset == "synthetic" and seed == 0 and profile in reference):
        return "guard: no reference MFCC statistics for this dataset, seed and profile"
    expected = np.asarray(reference[profile], dtype=np.float64)
    if expected.shape != means.shape or not np.allclose(means, expected, atol=0.01, rtol=1e-3):
        shown = np.array2string(np.round(means, 2), separator=", ")
        raise GuardFailure(f"the MFCC means of the synthetic {profile!r} dataset changed: {shown}, "
                           f"expected {reference[profile]}; the front end or the synthesiser changed")
    return "guard: the MFCC means match the reference of the embedded dataset"
