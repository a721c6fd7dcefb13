"""The MFCC segments of a dataset, and how they are stored.

:class:`SegmentSet` holds one ``(frames, n_mfcc)`` = ``(130, 13)`` MFCC matrix per 3-s segment
with its label, track, artist (group) and position, plus the files that were skipped or flagged on
the way. It is what :func:`mgc_helpers.data.features.extract_features` returns, what the splits
(:mod:`mgc_helpers.data.splits`) divide and what the models train on.

Storage: :meth:`SegmentSet.save` writes a compressed ``.npz`` (atomically: a temporary file and
``os.replace``) that :meth:`SegmentSet.load` reads without pickle;
:meth:`SegmentSet.to_paper_json` writes a JSON file, as the paper does (section 7.2). The ``.npz``
helpers :func:`write_npz` (atomic), :func:`read_npz` (without pickle) and :func:`string_array` are
shared with every cache of the package (the MFCC and musicnn caches of :mod:`mgc_helpers.data.trackmap`,
probe files).

Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import json
import os
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.config import PAPER_CONFIG, FeatureConfig, label_mapping
from ..core.records import Skipped

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["SegmentSet", "read_npz", "string_array", "write_npz"]

_FORMAT = "mgc-segments-1"


def string_array(values: Iterable[Any]) -> np.ndarray:
    """Values as a fixed-width unicode array, never an object array, so that ``allow_pickle=False`` loads it.

    Parameters
    ----------
    values : iterable
        Strings (or anything ``str`` turns into one), or an array of them.

    Returns
    -------
    np.ndarray
        Of dtype ``<U{longest}``; an empty input gives an empty ``<U1`` array.

    Examples
    --------
    >>> string_array(["blues", "rock"]).dtype.str, string_array([]).dtype.str
    ('<U5', '<U1')
    """
    array = np.asarray(list(values) if not isinstance(values, np.ndarray) else values)
    if array.size == 0:
        return np.zeros(0, dtype="<U1")
    return array.astype(str)


@dataclass(eq=False)
class SegmentSet:
    """MFCC matrices of 3-s segments, one row per segment, with everything needed to split them.

    Parameters
    ----------
    X : np.ndarray, float32, shape (n, frames, n_mfcc)
        MFCCs, time along axis 1, e.g. ``(n, 130, 13)``.
    y : np.ndarray, int64, shape (n,)
        Labels: indices into ``genres``.
    track : np.ndarray of str, shape (n,)
        Track id of each segment (``"blues.00007"``).
    group : np.ndarray of str, shape (n,)
        Artist id of each segment's track; the track id when the artist is unknown.
    segment : np.ndarray of int, shape (n,)
        Position of the segment within its track (0 = first 3 s).
    genres : tuple of str
        Sorted genre names.
    config : FeatureConfig
        Settings the features were computed with.
    skipped : list of Skipped
        Files that gave no features, with reasons.
    warnings : list of Skipped
        Files kept but worth a look (fewer segments than expected, silence).
    dataset : str
        Name of the dataset (``"synthetic"``, ``"gtzan"``; empty when unknown).
    info : dict
        How this set was obtained (cache hit or miss, seconds, ...); not saved.
    """

    X: np.ndarray
    y: np.ndarray
    track: np.ndarray
    group: np.ndarray
    segment: np.ndarray
    genres: tuple[str, ...]
    config: FeatureConfig = PAPER_CONFIG
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Skipped] = field(default_factory=list)
    dataset: str = ""
    info: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.X = np.asarray(self.X, dtype=np.float32)
        if self.X.ndim != 3:
            raise ValueError(f"SegmentSet.X must have shape (n, frames, n_mfcc), got {self.X.shape}")
        n = len(self.X)
        self.y = np.asarray(self.y, dtype=np.int64)
        self.track = string_array(self.track)
        self.group = string_array(self.group)
        self.segment = np.asarray(self.segment, dtype=np.int64)
        self.genres = tuple(str(g) for g in self.genres)
        for name in ("y", "track", "group", "segment"):
            value = getattr(self, name)
            if value.shape != (n,):
                raise ValueError(f"SegmentSet.{name} must have shape ({n},) like X, got {value.shape}")
        if list(self.genres) != sorted(set(self.genres)):
            raise ValueError(f"SegmentSet.genres must be sorted and unique, got {self.genres}")
        if n and (self.y.min() < 0 or self.y.max() >= len(self.genres)):
            raise ValueError(f"labels must lie in 0..{len(self.genres) - 1} for {len(self.genres)} genres")
        self.skipped = [Skipped(Path(s.path), s.reason) for s in self.skipped]
        self.warnings = [Skipped(Path(s.path), s.reason) for s in self.warnings]

    def __len__(self) -> int:
        return len(self.X)

    def __repr__(self) -> str:
        return (f"SegmentSet({len(self)} segments of {self.X.shape[1:]} from {self.n_tracks} tracks, "
                f"{self.n_classes} genres, dataset={self.dataset!r})")

    @property
    def n_classes(self) -> int:
        """Number of genres (the models' output size)."""
        return len(self.genres)

    @property
    def n_tracks(self) -> int:
        """Number of distinct tracks."""
        return len(np.unique(self.track))

    @property
    def mapping(self) -> dict[str, int]:
        """Genre name -> label."""
        return label_mapping(self.genres)

    def subset(self, index: Sequence[int] | np.ndarray) -> SegmentSet:
        """The segments at ``index`` (integer indices or a boolean mask), same genres and config."""
        index = np.asarray(index)
        if index.dtype == bool and index.shape != (len(self),):
            raise ValueError(f"boolean mask of shape {index.shape} does not match {len(self)} segments")
        return SegmentSet(self.X[index], self.y[index], self.track[index], self.group[index],
                          self.segment[index], self.genres, self.config, list(self.skipped),
                          list(self.warnings), self.dataset)

    def to_frame(self) -> pd.DataFrame:
        """One row per segment (without the MFCCs): track, group, segment, genre, label."""
        import pandas as pd

        return pd.DataFrame({"track": self.track, "group": self.group, "segment": self.segment,
                             "genre": np.asarray(self.genres, dtype=str)[self.y] if len(self) else [],
                             "label": self.y})

    def summary(self) -> str:
        """Counts and every skipped or flagged file with its reason."""
        lines = [f"{len(self)} segments of {self.X.shape[1]} x {self.X.shape[2]} MFCCs from {self.n_tracks} "
                 f"tracks, {self.n_classes} genres ({self.dataset or 'unknown'} dataset)",
                 f"skipped {len(self.skipped)} file(s)" + (":" if self.skipped else "")]
        lines += [f"  {s.path.name}: {s.reason}" for s in self.skipped]
        if self.warnings:
            lines.append(f"warnings for {len(self.warnings)} file(s):")
            lines += [f"  {s.path.name}: {s.reason}" for s in self.warnings]
        return "\n".join(lines)

    # ---- storage ----------------------------------------------------------------------------

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "format": np.array(_FORMAT),
            "X": self.X, "y": self.y, "track": self.track, "group": self.group, "segment": self.segment,
            "genres": string_array(self.genres),
            "config": np.array(json.dumps(self.config.to_dict(), sort_keys=True)),
            "dataset": np.array(self.dataset),
            "skipped_path": string_array(str(s.path) for s in self.skipped),
            "skipped_reason": string_array(s.reason for s in self.skipped),
            "warning_path": string_array(str(s.path) for s in self.warnings),
            "warning_reason": string_array(s.reason for s in self.warnings),
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write a compressed ``.npz`` (atomically) that :meth:`load` reads without pickle.

        Returns
        -------
        Path
            The file written.
        """
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"{path}: SegmentSet files end in .npz")
        write_npz(path, self._arrays())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> SegmentSet:
        """Read a file written by :meth:`save` (with ``allow_pickle=False``).

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        ValueError
            If it is not a readable SegmentSet file.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no SegmentSet file at {path}")
        arrays = read_npz(path)
        return cls._from_arrays(arrays, path)

    @classmethod
    def _from_arrays(cls, a: dict[str, np.ndarray], path: Path) -> SegmentSet:
        if str(a.get("format", "")) != _FORMAT:
            raise ValueError(f"{path}: not a SegmentSet file (format {str(a.get('format', 'missing'))!r}, "
                             f"expected {_FORMAT!r})")
        try:
            config = FeatureConfig.from_dict(json.loads(str(a["config"])))
            return cls(a["X"], a["y"], a["track"], a["group"], a["segment"], tuple(a["genres"].tolist()),
                       config,
                       _records(a["skipped_path"], a["skipped_reason"]),
                       _records(a["warning_path"], a["warning_reason"]),
                       str(a["dataset"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}: inconsistent SegmentSet file ({type(exc).__name__}: {exc})") from None

    def to_paper_json(self, path: str | os.PathLike, *, indent: int | None = None) -> Path:
        """Write the segments as JSON, as the paper does: ``{"mapping": [...], "labels": [...], "mfcc": [...]}``.

        The paper dumps its MFCCs "into a JSON file" (section 7.2) but gives no layout; this one is
        that of widely copied tutorial code for the task. ``mfcc`` holds one ``frames x n_mfcc``
        nested list per segment, ``labels`` the integer labels and ``mapping`` the genre names in
        label order.
        The file is written one segment at a time (atomically), so memory stays small; expect
        about 600 MB for all of GTZAN, against 60 MB for :meth:`save`.
        """
        path = Path(path)
        tmp = _tmp_path(path)
        sep = ",\n" if indent is not None else ", "
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write('{"mapping": ' + json.dumps(list(self.genres)) + ', "labels": '
                        + json.dumps(self.y.tolist()) + ', "mfcc": [')
                for i, matrix in enumerate(self.X):
                    if i:
                        f.write(sep)
                    f.write(json.dumps(matrix.tolist(), indent=indent))
                f.write("]}\n")
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return path


# --------------------------------------------------------------------------------------------
# npz files: atomic, without pickle
# --------------------------------------------------------------------------------------------

def _records(paths: np.ndarray, reasons: np.ndarray) -> list[Skipped]:
    return [Skipped(Path(p), r) for p, r in zip(paths.tolist(), reasons.tolist(), strict=False)]


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{time.monotonic_ns()}")


def write_npz(path: Path, arrays: dict[str, np.ndarray], *, compress: bool = True) -> None:
    """Write an ``.npz`` through a temporary file and ``os.replace`` (never a half-written file).

    Parameters
    ----------
    path : Path
        The file; its folder is created if missing.
    arrays : dict of str to np.ndarray
        Written in this order, without pickle (use :func:`string_array` for text).
    compress : bool
        zlib level 1 when true: MFCCs hardly compress (about 7 %), so a higher level only costs
        time. ``np.load`` reads the result like any ``np.savez_compressed`` file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    try:
        with zipfile.ZipFile(tmp, "w", compression=mode, compresslevel=1 if compress else None) as zf:
            for name, value in arrays.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz``, read without pickle.

    Raises
    ------
    ValueError
        For any failure (a missing, truncated or corrupt file, an object array), naming the file.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except Exception as exc:  # BadZipFile, zlib.error, ValueError, EOFError, OSError...
        raise ValueError(f"{path}: unreadable .npz file ({type(exc).__name__}: {exc})") from None
