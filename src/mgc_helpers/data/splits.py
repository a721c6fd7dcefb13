"""Train / validation / test splits as first-class objects.

How the segments are divided decides what a test accuracy means. The paper split its 3-s segments
at random, so segments of one clip (and clips of one artist) sit on both sides and the test set
measures, in part, recognising a recording it has already heard. The protocols here:

========================  =======================================================  ===============
protocol                  what is kept apart                                       data
========================  =======================================================  ===============
``segment``               nothing: random segments, as in the paper                any
``track``                 clips (all segments of a clip in one part), stratified   any
``artist``                artists (all clips of an artist in one part)             any
``gtzan-filtered``        fault-filtered lists of Kereliuk, Sturm and Larsen       GTZAN only
``gtzan-artist-fold1-3``  artist-filtered 3-fold lists of Foleis and Tavares       GTZAN only
========================  =======================================================  ===============

The GTZAN lists are package data, read by :mod:`mgc_helpers.data.gtzan_lists`.

Explained in ``06_dataset.ipynb`` and ``10_results.ipynb``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .gtzan_lists import read_gtzan_list

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .segments import SegmentSet

__all__ = ["PROTOCOLS", "Split", "make_split"]

#: Protocols accepted by :func:`make_split`, with the level at which they keep parts apart.
PROTOCOLS: dict[str, str | None] = {
    "segment": None,
    "track": "track",
    "artist": "artist",
    "gtzan-filtered": "track",
    "gtzan-artist-fold1": "artist",
    "gtzan-artist-fold2": "artist",
    "gtzan-artist-fold3": "artist",
}

_LEVELS = (None, "segment", "track", "artist")


@dataclass(frozen=True, eq=False)
class Split:
    """Index arrays into a :class:`~mgc_helpers.data.segments.SegmentSet`: train, validation, test.

    Parameters
    ----------
    name : str
        The protocol (plus seed), e.g. ``"track (seed 0)"``.
    train, valid, test : np.ndarray of int64
        Sorted, pairwise disjoint segment indices.
    level : {None, "track", "artist"}
        What the protocol keeps apart; :meth:`check` tests it by default.
    excluded : np.ndarray of int64
        Segments the protocol leaves out of every part (the artist protocol leaves out clips
        without a known artist), with the reason in :attr:`note`.
    note : str
        Why segments were excluded ("" when none were).
    """

    name: str
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    level: str | None = None
    excluded: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    note: str = ""

    def __post_init__(self) -> None:
        for part in ("train", "valid", "test", "excluded"):
            index = np.asarray(getattr(self, part), dtype=np.int64)
            if index.ndim != 1:
                raise ValueError(f"Split.{part} must be a 1-d index array, got shape {index.shape}")
            object.__setattr__(self, part, np.sort(index))
        if self.level not in _LEVELS:
            raise ValueError(f"unknown split level {self.level!r}; choose one of {list(_LEVELS)}")
        for a, b in (("train", "valid"), ("train", "test"), ("valid", "test"), ("excluded", "train"),
                     ("excluded", "valid"), ("excluded", "test")):
            common = np.intersect1d(getattr(self, a), getattr(self, b))
            if common.size:
                raise ValueError(f"split {self.name!r}: {common.size} segment(s) in both {a} and {b}")

    @property
    def parts(self) -> dict[str, np.ndarray]:
        """``{"train": ..., "valid": ..., "test": ...}``."""
        return {"train": self.train, "valid": self.valid, "test": self.test}

    def describe(self, segments: SegmentSet) -> pd.DataFrame:
        """Size of each part: segments, tracks, artists, genres and fraction of the segments used."""
        import pandas as pd

        total = sum(len(index) for index in self.parts.values())
        rows = []
        for part, index in self.parts.items():
            rows.append({
                "part": part,
                "segments": len(index),
                "tracks": len(np.unique(segments.track[index])),
                "artists": len(np.unique(segments.group[index])),
                "genres": len(np.unique(segments.y[index])),
                "fraction": round(len(index) / total, 4) if total else 0.0,
            })
        if self.excluded.size:
            index = self.excluded
            rows.append({"part": "excluded", "segments": len(index),
                         "tracks": len(np.unique(segments.track[index])), "artists": 0,
                         "genres": len(np.unique(segments.y[index])), "fraction": 0.0})
        return pd.DataFrame(rows).set_index("part")

    def check(self, segments: SegmentSet, level: str | None = None) -> None:
        """Raise ``ValueError`` if the parts share tracks (``"track"``) or artists (``"artist"``).

        ``level=None`` checks what the protocol promises (:attr:`level`); every level also checks
        that the indices are valid for ``segments``.
        """
        level = self.level if level is None else level
        if level not in _LEVELS:
            raise ValueError(f"unknown level {level!r}; choose one of {list(_LEVELS)}")
        n = len(segments)
        for part, index in self.parts.items():
            if index.size and (index[0] < 0 or index[-1] >= n):
                raise ValueError(f"split {self.name!r}: {part} indices out of range for {n} segments")
        if level in (None, "segment"):
            return
        ids = segments.track if level == "track" else segments.group
        names = list(self.parts)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                shared = np.intersect1d(ids[self.parts[a]], ids[self.parts[b]])
                if shared.size:
                    example = ", ".join(map(str, shared[:3]))
                    raise ValueError(f"split {self.name!r} leaks {shared.size} {level}(s) between {a} and "
                                     f"{b} (e.g. {example})")


def _check_sizes(test_size: float, valid_size: float) -> None:
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1 (exclusive), got {test_size!r}")
    if not 0 <= valid_size < 1:
        raise ValueError(f"valid_size must be in [0, 1), got {valid_size!r}")


def _tracks(segments: SegmentSet) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unique tracks, the label and group of each, and each segment's track number."""
    tracks, first, inverse = np.unique(segments.track, return_index=True, return_inverse=True)
    return tracks, segments.y[first], segments.group[first], inverse


def _expand(track_parts: list[np.ndarray], inverse: np.ndarray) -> list[np.ndarray]:
    """Track numbers per part -> segment indices per part."""
    out = []
    for part in track_parts:
        mask = np.isin(inverse, part)
        out.append(np.flatnonzero(mask))
    return out


def _stratified_track_split(labels: np.ndarray, index: np.ndarray, size: float, seed: int,
                            what: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    if size == 0:
        return index, index[:0]
    try:
        rest, held = train_test_split(index, test_size=size, random_state=seed, stratify=labels[index])
    except ValueError as exc:
        raise ValueError(f"cannot make a stratified {what} part of {size:g} from {len(index)} tracks "
                         f"in {len(np.unique(labels[index]))} genres ({exc}); use more clips per genre "
                         "or protocol='segment'") from None
    return np.sort(rest), np.sort(held)


def _group_split(labels: np.ndarray, groups: np.ndarray, index: np.ndarray, size: float, seed: int,
                 what: str) -> tuple[np.ndarray, np.ndarray]:
    """Hold out about ``size`` of ``index`` with whole groups, stratified by label where possible."""
    from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold

    if size == 0:
        return index, index[:0]
    n_groups = len(np.unique(groups[index]))
    if n_groups < 2:
        raise ValueError(f"cannot hold out a {what} part by artist: only {n_groups} artist(s)")
    n_splits = max(2, int(round(1 / size)))
    if n_splits <= n_groups and abs(1 / n_splits - size) < 0.05:
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        rest, held = next(splitter.split(index, labels[index], groups[index]))
    else:
        splitter = GroupShuffleSplit(n_splits=1, test_size=size, random_state=seed)
        rest, held = next(splitter.split(index, labels[index], groups[index]))
    return np.sort(index[rest]), np.sort(index[held])


def _require_gtzan(segments: SegmentSet, protocol: str) -> None:
    dataset = getattr(segments, "dataset", "")
    if dataset != "gtzan":
        raise ValueError(f"protocol {protocol!r} uses the published GTZAN split lists and needs features of "
                         f"GTZAN, but these segments come from the {dataset or 'unknown'!r} dataset; use "
                         "'segment', 'track' or 'artist' instead")


def _listed(tracks: np.ndarray, names: list[str], protocol: str) -> np.ndarray:
    wanted = set(names)
    found = np.flatnonzero([t in wanted for t in tracks])
    if found.size == 0:
        raise ValueError(f"protocol {protocol!r}: none of the {len(names)} listed GTZAN clips is among the "
                         "segments' tracks (are the track ids GTZAN names like 'blues.00000'?)")
    return found


def make_split(segments: SegmentSet, protocol: str, *, seed: int = 0, test_size: float = 0.25,
               valid_size: float = 0.2) -> Split:
    """Split segments into train, validation and test parts by one of :data:`PROTOCOLS`.

    Parameters
    ----------
    segments : SegmentSet
        The features (labels, track ids and artist/group ids are used, not ``X``).
    protocol : str
        ``"segment"`` (random segments: the book's reading of the paper's split, section 7.3),
        ``"track"`` (whole clips, stratified by genre), ``"artist"`` (whole artists, stratified by
        genre with :class:`~sklearn.model_selection.StratifiedGroupKFold`; clips without a known
        artist, such as GTZAN's repeats and distortions that the artist lists leave out, are
        excluded and counted in :attr:`Split.excluded`), ``"gtzan-filtered"``
        (Kereliuk et al.'s fault-filtered lists: 443/197/290 clips, the rest of GTZAN unused) or
        ``"gtzan-artist-fold1"``/``2``/``3`` (Foleis and Tavares' artist-filtered folds; their
        training list is divided into train and validation by artist).
    seed : int
        Seed of every random choice; the same seed gives the same split.
    test_size : float
        Fraction of the data in the test part (ignored by the ``gtzan-*`` protocols, whose test
        part is fixed). The artist protocol holds out ``1 / round(1 / test_size)`` of the artists.
    valid_size : float
        Fraction of the non-test part used for validation (``0`` gives an empty validation part).

    Returns
    -------
    Split

    Raises
    ------
    ValueError
        For an unknown protocol (the message lists them), bad sizes, a ``gtzan-*`` protocol on
        data that is not GTZAN, or too little data to stratify.

    Examples
    --------
    >>> import numpy as np
    >>> from mgc_helpers.data.segments import SegmentSet
    >>> n = 40
    >>> segs = SegmentSet(X=np.zeros((n, 130, 13), np.float32), y=np.arange(n) // 20,
    ...                   track=np.array([f"t{i // 2:02d}" for i in range(n)]),
    ...                   group=np.array([f"a{i // 4}" for i in range(n)]), segment=np.arange(n) % 2,
    ...                   genres=("blues", "rock"))
    >>> split = make_split(segs, "track", seed=0)
    >>> split.check(segs); [len(p) for p in (split.train, split.valid, split.test)]
    [24, 6, 10]

    Explained in ``06_dataset.ipynb`` and ``10_results.ipynb``.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown split protocol {protocol!r}; choose one of {list(PROTOCOLS)}")
    _check_sizes(test_size, valid_size)
    seed = int(seed)
    level = PROTOCOLS[protocol]
    name = f"{protocol} (seed {seed})"
    n = len(segments)
    if n == 0:
        raise ValueError("cannot split an empty SegmentSet")

    if protocol == "segment":
        from sklearn.model_selection import train_test_split

        index = np.arange(n)
        rest, test = train_test_split(index, test_size=test_size, random_state=seed)
        if valid_size:
            train, valid = train_test_split(rest, test_size=valid_size, random_state=seed)
        else:
            train, valid = rest, rest[:0]
        return Split(name, train, valid, test, level)

    tracks, labels, groups, inverse = _tracks(segments)
    all_tracks = np.arange(len(tracks))
    if protocol == "track":
        rest, test = _stratified_track_split(labels, all_tracks, test_size, seed, "test")
        train, valid = _stratified_track_split(labels, rest, valid_size, seed, "validation")
    elif protocol == "artist":
        known = all_tracks[groups != tracks]  # a clip without an artist has its own id as group
        left_out = all_tracks[groups == tracks]
        if known.size == 0:
            raise ValueError("protocol 'artist' needs artist information, and none of these clips has any; "
                             "use protocol='track'")
        rest, test = _group_split(labels, groups, known, test_size, seed, "test")
        train, valid = _group_split(labels, groups, rest, valid_size, seed, "validation")
        if left_out.size:
            excluded = _expand([left_out], inverse)[0]
            note = (f"{left_out.size} clip(s) without a known artist left out (on GTZAN: the repeats and "
                    "distortions missing from the artist lists), so that no clip sits on the other side "
                    "of the split from a clip it repeats")
            train, valid, test = _expand([train, valid, test], inverse)
            return Split(name, train, valid, test, level, excluded=excluded, note=note)
    elif protocol == "gtzan-filtered":
        _require_gtzan(segments, protocol)
        train, valid, test = (_listed(tracks, read_gtzan_list(f"{p}_filtered"), protocol)
                              for p in ("train", "valid", "test"))
    else:
        _require_gtzan(segments, protocol)
        k = protocol[-1]
        rest = _listed(tracks, read_gtzan_list(f"f{k}_train"), protocol)
        test = _listed(tracks, read_gtzan_list(f"f{k}_test"), protocol)
        train, valid = _group_split(labels, groups, rest, valid_size, seed, "validation")
    train, valid, test = _expand([train, valid, test], inverse)
    return Split(name, train, valid, test, level)
