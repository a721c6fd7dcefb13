"""The synthetic artists: six per genre, each with fixed choices drawn once from a fixed seed.

An artist (``"rock_a3"``) is a palette: instruments, a tempo sub-range, favourite keys,
progressions and grooves, a drum sound, a mix, a recording colour and a neighbouring genre to
borrow from. The same artist sounds the same in every dataset, so an artist-disjoint split can
measure how much a classifier relies on an artist's sound. How much artists differ is tuned by
:class:`mgc_helpers.data.synth.tuning.ArtistVariation`; :func:`artists_table` shows every artist as
a table. Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...core.config import GENRES
from .harmony import NOTE_NAMES
from .styles import GENRE_STYLES, NEIGHBOURS, GenreStyle, Part
from .tuning import PARTS, ArtistVariation

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Artists per genre; ids are ``f"{genre}_a{i}"`` with ``i`` = 1 .. ``N_ARTISTS``.
N_ARTISTS = 6
#: Fixed seed of the artist palettes: the same artist sounds the same in every dataset.
ARTIST_SEED = 20210611
#: The pitched parts (all parts but the drums), in the order the generator visits them.
PITCHED: tuple[str, ...] = PARTS[1:]
#: Drum voices every artist's kit tunes.
DRUM_VOICES = ("kick", "snare", "clap", "rim", "brush", "hat", "open_hat", "shaker", "ride", "crash")


def check_genre(genre: str) -> GenreStyle:
    """The style of ``genre``, or a :class:`ValueError` naming the genres (``06_dataset.ipynb``)."""
    if genre not in GENRE_STYLES:
        raise ValueError(f"unknown genre {genre!r}; choose one of {sorted(GENRE_STYLES)}")
    return GENRE_STYLES[genre]


def artist_ids(genre: str) -> tuple[str, ...]:
    """The synthetic artists of a genre: ``("blues_a1", ..., "blues_a6")``.

    Examples
    --------
    >>> artist_ids("jazz")[-1]
    'jazz_a6'

    Explained in ``06_dataset.ipynb``.
    """
    check_genre(genre)
    return tuple(f"{genre}_a{i}" for i in range(1, N_ARTISTS + 1))


@dataclass(frozen=True)
class ArtistPalette:
    """The fixed choices of one synthetic artist (same in every dataset, ``06_dataset.ipynb``).

    ``grooves``, ``progressions`` and ``rhythms`` are indices into the style's lists; ``kit``
    holds drum parameters per voice, ``levels`` a level change in dB per part, ``colour`` the
    recording (``lofi``, ``reverb``, ``room``, ``crackle``, ``tilt``, ``loudness``); ``borrow`` is
    the chance per part and clip of borrowing from the genre ``neighbour``; ``timing`` the
    standard deviation of the timing in seconds.
    """

    artist: str
    genre: str
    tempo: tuple[float, float]
    keys: tuple[int, ...]
    meter: int
    swing: float
    grooves: tuple[int, ...]
    progressions: tuple[int, ...]
    instruments: dict[str, tuple[str, ...]]
    rhythms: dict[str, tuple[int, ...]]
    brightness: float
    drive: float
    kit: dict[str, dict[str, float]]
    levels: dict[str, float]
    colour: dict[str, float]
    neighbour: str
    borrow: float
    lead_density: float
    timing: float

    def to_dict(self) -> dict[str, Any]:
        """Plain summary for tables (``06_dataset.ipynb``)."""
        return {
            "artist": self.artist, "genre": self.genre,
            "tempo": f"{self.tempo[0]:.0f}-{self.tempo[1]:.0f}",
            "keys": " ".join(NOTE_NAMES[k] for k in self.keys),
            "meter": f"{self.meter}/4",
            "lead": "/".join(self.instruments["lead"]) if "lead" in self.instruments else "",
            "chords": "/".join(self.instruments.get("chords", self.instruments.get("pad", ()))),
            "bass": "/".join(self.instruments.get("bass", ())),
            "brightness": round(self.brightness, 2), "drive": round(self.drive, 2),
            "lofi": round(self.colour["lofi"], 2), "reverb": round(self.colour["reverb"], 2),
            "borrows from": f"{self.neighbour} ({self.borrow:.0%})",
        }


def artist_palette(artist: str) -> ArtistPalette:
    """The palette of artist ``"<genre>_a<i>"``, derived from a fixed seed and the artist id.

    The random draws happen in the order of the code below; changing that order changes every
    artist (the checksums of ``tests/test_synth_checksums.py`` guard it).

    Examples
    --------
    >>> p = artist_palette("metal_a2")
    >>> p.genre, 132 <= p.tempo[0] < p.tempo[1] <= 200
    ('metal', True)

    Explained in ``06_dataset.ipynb``.
    """
    genre, _, number = artist.rpartition("_a")
    if genre not in GENRE_STYLES or not number.isdigit() or not 1 <= int(number) <= N_ARTISTS:
        raise ValueError(f"unknown artist {artist!r}; artist ids look like 'rock_a3' "
                         f"(a genre and a number from 1 to {N_ARTISTS})")
    style = GENRE_STYLES[genre]
    vary = style.artists
    seeds = np.random.SeedSequence([ARTIST_SEED, zlib.crc32(genre.encode()), int(number)])
    rng = np.random.default_rng(seeds)
    tempo = _tempo_range(rng, style.tempo, vary)
    keys = _pick(rng, 12, vary.keys)
    progressions = _pick(rng, len(style.progressions), vary.progressions)
    grooves = _pick(rng, len(style.grooves), vary.grooves) if style.grooves else ()
    instruments, rhythms = _part_choices(rng, style, vary)
    kit = _drum_kit(rng, style, vary)
    colour = _recording_colour(rng, style, vary)
    neighbours = NEIGHBOURS[genre]
    return ArtistPalette(
        artist=artist, genre=genre, tempo=tempo, keys=keys,
        meter=int(rng.choice(style.meters)),
        swing=float(rng.uniform(*style.swing)), grooves=grooves, progressions=progressions,
        instruments=instruments, rhythms=rhythms,
        brightness=float(rng.uniform(*vary.brightness)),
        drive=float(rng.uniform(*style.effect_range("drive"))),
        kit=kit,
        levels={name: float(rng.uniform(*vary.levels)) for name in PARTS},
        colour=colour,
        neighbour=str(neighbours[int(rng.integers(len(neighbours)))]),
        borrow=float(rng.choice(vary.borrow)),
        lead_density=float(rng.uniform(*vary.lead_density)),
        timing=float(rng.uniform(*(vary.timing_live if style.drift > 0 else vary.timing_machine))),
    )


def artists_table(genres: Sequence[str] | None = None) -> pd.DataFrame:
    """The synthetic artists as a :class:`pandas.DataFrame`, one row each (``06_dataset.ipynb``).

    Parameters
    ----------
    genres : sequence of str, optional
        The genres whose artists to list; ``None``: all ten (:data:`mgc_helpers.core.config.GENRES`).

    Returns
    -------
    pandas.DataFrame
        Index: artist id; columns: :meth:`ArtistPalette.to_dict` of each artist.

    Examples
    --------
    >>> artists_table(["rock"]).shape[0]
    6
    """
    import pandas as pd

    rows = [artist_palette(a).to_dict() for g in (genres or GENRES) for a in artist_ids(g)]
    return pd.DataFrame(rows).set_index("artist")


def _tempo_range(rng: np.random.Generator, tempo: tuple[float, float],
                 vary: ArtistVariation) -> tuple[float, float]:
    """A sub-range of the genre's tempo range, ``vary.tempo_width`` of it wide."""
    lo, hi = tempo
    width = (hi - lo) * rng.uniform(*vary.tempo_width)
    start = lo + rng.uniform(0, hi - lo - width)
    return round(start, 1), round(start + width, 1)


def _pick(rng: np.random.Generator, n_options: int, count: tuple[int, int]) -> tuple[int, ...]:
    """Sorted indices of a few of ``n_options`` options (how many: drawn from ``count``)."""
    n = min(n_options, int(rng.integers(*count)))
    return tuple(sorted(int(i) for i in rng.choice(n_options, n, replace=False)))


def _part_choices(rng: np.random.Generator, style: GenreStyle, vary: ArtistVariation
                  ) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[int, ...]]]:
    """The artist's instruments (two leads, sometimes) and rhythm variants of each pitched part."""
    instruments: dict[str, tuple[str, ...]] = {}
    rhythms: dict[str, tuple[int, ...]] = {}
    for name in PITCHED:
        part: Part | None = getattr(style, name)
        if part is None:
            continue
        k = 2 if (name == "lead" and rng.random() < vary.two_leads and len(part.instruments) > 1) else 1
        instruments[name] = tuple(str(s) for s in rng.choice(part.instruments, k, replace=False))
        if part.rhythms:
            rhythms[name] = _pick(rng, len(part.rhythms), vary.rhythms)
    return instruments, rhythms


def _drum_kit(rng: np.random.Generator, style: GenreStyle,
              vary: ArtistVariation) -> dict[str, dict[str, float]]:
    """Tuning and brightness of every drum voice, then the style's own drum parameters."""
    kit = {voice: {"tune": float(rng.uniform(*vary.drum_tune)) * style.kit.get(voice, {}).get("tune", 1.0),
                   "bright": float(rng.uniform(*vary.drum_bright))}
           for voice in DRUM_VOICES}
    for voice, params in style.kit.items():
        kit[voice].update({k: float(v) for k, v in params.items() if k != "tune"})
    return kit


def _recording_colour(rng: np.random.Generator, style: GenreStyle, vary: ArtistVariation) -> dict[str, float]:
    """Lo-fi amount, reverb level and time, vinyl crackle, spectral tilt and loudness."""
    lofi = float(rng.uniform(*style.effect_range("lofi")))
    return {
        "lofi": lofi,
        "reverb": float(rng.uniform(*style.effect_range("reverb"))),
        "room": float(rng.uniform(*style.effect_range("room"))),
        "crackle": float(rng.uniform(*style.effect_range("crackle"))),
        "tilt": float(rng.uniform(*vary.tilt)),
        "loudness": float(rng.uniform(*vary.loudness)),
    }
