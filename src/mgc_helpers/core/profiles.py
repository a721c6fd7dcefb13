"""Run profiles: how big and how long a run of the book is.

``quick`` is what CI and nbval run (minutes), ``default`` is what the README's main command runs
(the embedded dataset at full size, under 20 minutes on a 2-core machine), ``paper`` trains for the
paper's 100 epochs. Notebooks take a ``profile`` parameter; when it is left as ``None`` the
environment variable ``MGC_PROFILE`` decides, and without it ``default`` is used.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from typing import Any

PROFILE_ENV = "MGC_PROFILE"


@dataclass(frozen=True)
class Profile:
    """Sizes and training lengths of one kind of run.

    Parameters
    ----------
    name : str
        Profile name.
    clips_per_genre : int
        Synthetic clips generated per genre (GTZAN has 100).
    epochs : int
        Training epochs of the three paper models.
    batch_size : int
        Mini-batch size.
    seeds : tuple of int
        Seeds for the multi-seed evaluation (mean and standard deviation over these).
    protocol_epochs : int
        Epochs of each run in the protocol comparison (segment / track / artist split).
    optim_plan : tuple of (model, designs, n_seeds, epochs)
        The optimiser and activation comparison of ``12_optimisers.ipynb``: for each model, which
        designs it runs (``"optimisers"``, ``"activations"`` or both, joined by ``+``), on how many of
        ``seeds`` and for how many epochs (see :func:`mgc_helpers.beyond.optimisers.run_optimiser_grid`).
    """

    name: str
    clips_per_genre: int
    epochs: int
    batch_size: int = 32
    seeds: tuple[int, ...] = (0, 1, 2)
    protocol_epochs: int = 20
    # chapter 12 at the default size (about 4 minutes on 2 cores): the fast MLP runs every configuration
    # over all seeds; the CNN (about 2.5 s per epoch) one seed; the RNN-LSTM (about 10 s per epoch) only
    # the activations, one seed
    optim_plan: tuple[tuple[str, str, int, int], ...] = (
        ("mlp", "optimisers+activations", 3, 3), ("cnn", "optimisers+activations", 1, 2),
        ("rnn_lstm", "activations", 1, 2))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    # quick: what CI and nbval run. Big and long enough that every model ends well above chance
    # (the floors of mgc_helpers.book.checks), so that the notebook tests guard the results.
    "quick": Profile("quick", clips_per_genre=20, epochs=10, seeds=(0, 1, 2), protocol_epochs=6,
                     optim_plan=(("mlp", "optimisers+activations", 2, 3), ("cnn", "activations", 1, 2),
                                 ("rnn_lstm", "activations", 1, 1))),
    # default: the whole `mgc reproduce` (synthesis, features, all chapters, book) in under 20 minutes
    # on 2 CPU cores; the RNN-LSTM (about 10 s per epoch on 3000 segments) and the CNN protocol grid
    # (3 protocols x 3 seeds) dominate, see benchmarks/bench_training.py.
    "default": Profile("default", clips_per_genre=50, epochs=20, seeds=(0, 1, 2), protocol_epochs=10),
    # paper: chapter 12 runs both designs for every model and seed (hours on 2 cores)
    "paper": Profile("paper", clips_per_genre=100, epochs=100, seeds=(0, 1, 2), protocol_epochs=30,
                     optim_plan=(("mlp", "optimisers+activations", 3, 10), ("cnn", "optimisers+activations", 3, 10),
                                 ("rnn_lstm", "optimisers+activations", 3, 10))),
}


def get_profile(name: str | None = None, **overrides: Any) -> Profile:
    """Return the named profile, or the one ``MGC_PROFILE`` names, or ``default``.

    Keyword arguments override single fields (``epochs=5``); ``None`` values are ignored so that
    notebook parameters left at ``None`` keep the profile's value.

    Examples
    --------
    >>> get_profile("quick").clips_per_genre
    20
    >>> get_profile("paper", epochs=None).epochs
    100
    """
    if name is None:
        name = os.environ.get(PROFILE_ENV) or "default"
    if not isinstance(name, str) or name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}")
    profile = PROFILES[name]
    changes = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(changes) - set(profile.to_dict())
    if unknown:
        raise ValueError(f"unknown profile fields: {sorted(unknown)}")
    for key in ("clips_per_genre", "epochs", "batch_size", "protocol_epochs"):
        if key in changes and (not isinstance(changes[key], int) or isinstance(changes[key], bool)
                               or changes[key] <= 0):
            raise ValueError(f"{key} must be a positive integer, got {changes[key]!r}")
    if "seeds" in changes:
        changes["seeds"] = tuple(int(s) for s in changes["seeds"])
    return replace(profile, **changes)
