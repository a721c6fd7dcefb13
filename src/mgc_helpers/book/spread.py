"""The spread of every glued result over seeds: measured per profile, it sets the bands the guards check.

Each data chapter glues the results its prose states (:mod:`mgc_helpers.book.glued`). How far such a number
may move before it counts as a regression is not a matter of taste: it is measured. ``mgc spread``
(:mod:`mgc_helpers.commands.spread`) runs the data chapters once per seed of a profile (the seed sets
the synthetic dataset, the split, the weights and the mini-batches), reads every glued number from the
executed notebooks, and stores them, one row per chapter, name and seed, in
``resources/seed_spread/<profile>.csv``. A number's *band* is

.. math::

    \\bar{x} \\pm \\max(K s,\\; w_{\\min}), \\qquad K = 3,

with :math:`\\bar{x}` and :math:`s` the mean and the standard deviation (``ddof=1``) over the measured
seeds, and a least half-width :math:`w_{\\min}` (:data:`MIN_HALF_WIDTH` times the number's size, at least
:data:`MIN_HALF_WIDTH`; an integer must match exactly) for numbers that hardly vary from seed to seed.
The guard cell at the end of each chapter (:func:`mgc_helpers.book.checks.check_glued`) fails when a glued
number of a measured seed lies outside its band, or has no band at all.

Explained in ``10_results.ipynb`` ("How the results are guarded").
"""
from __future__ import annotations

import ast
import json
import math
import numbers
import os
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "MEASURING_ENV",
    "MIN_HALF_WIDTH",
    "SPREAD_DIR",
    "Band",
    "K",
    "band_table",
    "bands",
    "glued_numbers",
    "measuring",
    "read_glued",
    "spread_path",
    "write_spread",
]

#: Half-width of a band in standard deviations over the seeds.
K = 3.0

#: Least half-width of a float's band, relative to its size (absolute below 1).
MIN_HALF_WIDTH = 0.01

#: Where the measured spreads are kept, one CSV per profile.
SPREAD_DIR = Path(__file__).resolve().parents[1] / "resources" / "seed_spread"

#: Set (to ``1``) by ``mgc spread`` for the chapters it runs: the guards then check facts only, since the
#: bands are what is being measured.
MEASURING_ENV = "MGC_MEASURING_SPREAD"

#: Chapters whose glued numbers are measured (the data chapters; 01-05 are deterministic, checked by nbval).
DATA_CHAPTERS: tuple[str, ...] = ("06", "07", "08", "09", "10", "11", "12", "13", "14")


@dataclass(frozen=True)
class Band:
    """Where a glued number of one profile is expected, from its values over the measured seeds."""

    notebook: str
    name: str
    seeds: tuple[int, ...]
    values: tuple[float, ...]
    integer: bool

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float:
        """Sample standard deviation (``ddof=1``); 0 for a single value."""
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    @property
    def half_width(self) -> float:
        least = 0.5 if self.integer else MIN_HALF_WIDTH * max(1.0, abs(self.mean))
        return max(K * self.std, least)

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def contains(self, value: float) -> bool:
        if all(math.isnan(v) for v in self.values):
            return math.isnan(value)
        return self.low <= value <= self.high

    def describe(self) -> str:
        return f"{self.mean:.4g} ± {self.half_width:.2g} (seeds {', '.join(map(str, self.seeds))})"


def spread_path(profile: str) -> Path:
    """``resources/seed_spread/<profile>.csv``."""
    return SPREAD_DIR / f"{profile}.csv"


def _number(value: Any) -> float | int | None:
    """``value`` as a Python ``int`` or ``float`` (NumPy scalars too), or ``None`` if it is no number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def glued_numbers(glued: Mapping[str, Any]) -> dict[str, float | int]:
    """The numeric entries of ``glued`` (booleans and strings left out)."""
    return {name: v for name, value in glued.items() if (v := _number(value)) is not None}


def read_glued(notebook: str | os.PathLike[str]) -> dict[str, float | int]:
    """Every number glued in an executed notebook, read from its outputs (MyST-NB's ``scrapbook`` records).

    Raises
    ------
    ValueError
        If ``notebook`` is not a notebook file; the message names it.
    """
    path = Path(notebook)
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{path}: not a readable notebook ({exc})") from None
    found: dict[str, Any] = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            if not record:
                continue
            text = output.get("data", {}).get(record["mime_prefix"] + "text/plain")
            if text is None:
                continue
            try:
                found[record["name"]] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                if text in ("nan", "inf", "-inf"):
                    found[record["name"]] = float(text)
    return glued_numbers(found)


@cache
def _load(path: Path, mtime: float) -> dict[tuple[str, str], Band]:
    import csv

    rows: dict[tuple[str, str], list[tuple[int, float, bool]]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = (row["notebook"], row["name"])
            rows.setdefault(key, []).append((int(row["seed"]), float(row["value"]), row["type"] == "int"))
    return {key: Band(key[0], key[1], tuple(s for s, _, _ in v), tuple(x for _, x, _ in v), all(i for *_, i in v))
            for key, v in rows.items()}


def bands(profile: str) -> dict[tuple[str, str], Band]:
    """The bands of every glued number measured for ``profile``, by ``(notebook stem, name)``; ``{}`` if none."""
    path = spread_path(profile)
    if not path.is_file():
        return {}
    return _load(path, path.stat().st_mtime)


def band_table(profile: str, names: Iterable[tuple[str, str]] | None = None) -> pd.DataFrame:
    """The bands of ``profile`` as a table: one row per ``(notebook, name)``, with the values per seed.

    ``names`` selects and orders rows (default: all, sorted); names without a band are left out, so the
    table of a profile that was never measured is empty. Columns: ``seed <k>`` for each measured seed,
    ``mean``, ``std``, ``low`` and ``high``.
    """
    import pandas as pd

    found = bands(profile)
    keys = sorted(found) if names is None else [key for key in names if key in found]
    rows = []
    for key in keys:
        band = found[key]
        rows.append({"notebook": key[0], "name": key[1], **{f"seed {s}": v for s, v in zip(band.seeds, band.values,
                                                                                         strict=True)},
                     "mean": band.mean, "std": band.std, "low": band.low, "high": band.high})
    return pd.DataFrame(rows).set_index(["notebook", "name"]) if rows else pd.DataFrame()


def write_spread(measured: Mapping[int, Mapping[str, Mapping[str, float | int]]], profile: str,
                 path: str | os.PathLike[str] | None = None) -> Path:
    """Write ``{seed: {notebook stem: {name: value}}}`` as the spread of ``profile``; return the file.

    Only numbers glued under every seed are kept (a name glued for some seeds only would have a band
    from fewer seeds than the file says).
    """
    import csv

    path = Path(path) if path is not None else spread_path(profile)
    seeds = sorted(measured)
    if len(seeds) < 3:
        raise ValueError(f"a spread needs at least 3 seeds, got {seeds}")
    notebooks = sorted({nb for per_seed in measured.values() for nb in per_seed})
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["notebook", "name", "seed", "value", "type"])
        for nb in notebooks:
            names = sorted(set.intersection(*(set(measured[s].get(nb, {})) for s in seeds)))
            for name in names:
                for s in seeds:
                    value = measured[s][nb][name]
                    writer.writerow([nb, name, s, repr(float(value)) if isinstance(value, float) else value,
                                     "int" if isinstance(value, int) else "float"])
    return path


def measuring() -> bool:
    """Whether this process runs under ``mgc spread`` (see :data:`MEASURING_ENV`)."""
    return os.environ.get(MEASURING_ENV, "") not in ("", "0")
