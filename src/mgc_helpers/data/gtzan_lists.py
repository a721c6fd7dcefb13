"""The published GTZAN lists packaged with the book, and the track names they use.

Two sets of lists come with the package (``mgc_helpers/resources/gtzan_splits``, with their
attribution), read through :mod:`importlib.resources`:

* the fault-filtered train / valid / test lists of Kereliuk, Sturm and Larsen;
* the artist-filtered 3-fold lists of Foleis and Tavares, whose ``*_groups.txt`` files give the
  artist of 948 of the 1000 clips (:func:`gtzan_artists`).

:mod:`mgc_helpers.data.splits` turns them into the ``gtzan-*`` protocols; :mod:`mgc_helpers.data.datasets`
attaches the artists to a GTZAN copy.

Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import cast

__all__ = ["GTZAN_LISTS", "gtzan_artists", "normalise_gtzan_name", "read_gtzan_list"]

#: Packaged GTZAN lists: name -> file inside ``resources/gtzan_splits``.
GTZAN_LISTS: dict[str, str] = {
    "train_filtered": "train_filtered.txt",
    "valid_filtered": "valid_filtered.txt",
    "test_filtered": "test_filtered.txt",
    **{f"f{k}_{part}": f"artist-filtered-3fold/f{k}_{part}.txt"
       for k in (1, 2, 3) for part in ("train", "test", "evaluate", "train_groups", "evaluate_groups")},
    "gtzan_labels": "artist-filtered-3fold/gtzan_labels.txt",
}

_NAME = re.compile(r"^(?P<genre>[a-z]+)[._](?P<number>\d+)$")


def normalise_gtzan_name(name: str) -> str:
    """Turn any GTZAN clip name into the track id used here (``"blues.00000"``).

    Accepts ``"./blues_00000.wav"`` (Foleis lists), ``"blues/blues.00012.wav"`` (filtered lists),
    ``"blues.00012.au"`` and ``"blues.00012"``.

    Examples
    --------
    >>> normalise_gtzan_name("./blues_00000.wav"), normalise_gtzan_name("rock/rock.00099.wav")
    ('blues.00000', 'rock.00099')
    """
    stem = name.strip().rsplit("/", 1)[-1]
    for ext in (".wav", ".au"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
    match = _NAME.match(stem)
    if not match:
        raise ValueError(f"not a GTZAN clip name: {name!r} (expected e.g. 'blues.00000' or './blues_00000.wav')")
    return f"{match['genre']}.{int(match['number']):05d}"


def _lines(name: str) -> list[list[str]]:
    if name not in GTZAN_LISTS:
        raise ValueError(f"unknown GTZAN list {name!r}; choose one of {sorted(GTZAN_LISTS)}")
    parts = ("resources", "gtzan_splits", *GTZAN_LISTS[name].split("/"))
    ref = resources.files("mgc_helpers").joinpath(*parts)
    text = ref.read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip()]


@cache
def _read(name: str) -> tuple[tuple[str, str | None], ...]:
    return tuple((normalise_gtzan_name(row[0]), row[1].strip() if len(row) > 1 else None) for row in _lines(name))


def read_gtzan_list(name: str) -> list[str]:
    """Track ids in one packaged GTZAN list, in file order (names normalised).

    Parameters
    ----------
    name : str
        A key of :data:`GTZAN_LISTS`, e.g. ``"test_filtered"`` or ``"f2_train"``.

    Examples
    --------
    >>> [len(read_gtzan_list(p)) for p in ("train_filtered", "valid_filtered", "test_filtered")]
    [443, 197, 290]
    """
    return [track for track, _ in _read(name)]


@cache
def gtzan_artists() -> dict[str, str]:
    """Artist id of every GTZAN clip in the Foleis-Tavares lists (948 clips), e.g. ``"gtzan_a017"``.

    The ids are global across the three folds (checked by the tests). Clips missing from the lists
    (repeats and distorted clips removed by the authors) have no known artist.
    """
    artists: dict[str, str] = {}
    for k in (1, 2, 3):
        for part in ("train_groups", "evaluate_groups"):
            for track, group in _read(f"f{k}_{part}"):
                artist = f"gtzan_a{int(cast(str, group)):03d}"  # the groups lists give every clip a group
                if artists.setdefault(track, artist) != artist:
                    raise ValueError(f"GTZAN artist lists disagree about {track}")
    return artists
