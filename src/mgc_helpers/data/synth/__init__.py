"""The embedded synthetic genre dataset: GTZAN-shaped, generated at run time.

GTZAN cannot be downloaded here, so the book's default dataset is music written by code: ten genre
styles (:data:`GENRE_STYLES`, data in :mod:`~mgc_helpers.data.synth.styles`), six synthetic artists per
genre with their own sound, and per-clip variation, rendered with classic synthesis techniques
and written in GTZAN's folder layout so that one loader reads both. Explained in ``06_dataset.ipynb``.

Main entry points: :func:`generate_dataset` (the dataset), :func:`render_clip` (one clip),
:func:`plan_clip` (a clip's score and description), :func:`render_stems` (its parts one by one),
:func:`styles_table` and :func:`artists_table` (the styles and artists as tables).

The modules, in the order a clip is made (each does one job):

================  ===============================================================================
``styles``        the ten genre styles, as data
``tuning``        the numbers that shape how the generator plays (held by every style)
``artists``       the six artists of each genre and their fixed choices
``harmony``       scales, Roman-numeral chords, voicings, voice leading
``rhythm``        one-bar patterns on a grid; the time of every grid step
``arrangement``   every random decision of one clip (:func:`plan_clip`)
``parts``         the notes of each part: drums, accompaniment, lead
``oscillators``   tone generators: wavetables, FM, plucked strings
``instruments``   the instrument palette and one note of an instrument
``drums``         drum sounds
``effects``       filters, distortion, echo, reverb
``stems``         the score rendered part by part
``mixing``        mix, reverb, dynamics and mastering of the stems
``render``        :func:`render_clip`: all of the above
``dataset``       the dataset on disk in GTZAN's layout
================  ===============================================================================
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .arrangement import ClipPlan, plan_clip
from .artists import N_ARTISTS, ArtistPalette, artist_ids, artist_palette
from .dataset import GENERATOR_VERSION, SAMPLE_RATE, artist_for_clip, clip_seed, generate_dataset, read_metadata, synthetic_dir, write_wav
from .harmony import parse_chord
from .instruments import INSTRUMENTS, Instrument
from .mixing import render_plan
from .render import render_clip
from .stems import render_stems
from .styles import GENRE_STYLES, NEIGHBOURS, GenreStyle, Part, styles_table

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd


def artists_table(genres: Sequence[str] | None = None) -> pd.DataFrame:
    """The synthetic artists as a :class:`pandas.DataFrame`, one row each (``06_dataset.ipynb``).

    Examples
    --------
    >>> artists_table(["rock"]).shape[0]
    6
    """
    import pandas as pd

    from ...core.config import GENRES

    rows = [artist_palette(a).to_dict() for g in (genres or GENRES) for a in artist_ids(g)]
    return pd.DataFrame(rows).set_index("artist")


__all__ = [
    "GENERATOR_VERSION", "GENRE_STYLES", "INSTRUMENTS", "NEIGHBOURS", "N_ARTISTS", "SAMPLE_RATE",
    "ArtistPalette", "ClipPlan", "GenreStyle", "Instrument", "Part", "artist_for_clip", "artist_ids",
    "artist_palette", "artists_table", "clip_seed", "generate_dataset", "parse_chord", "plan_clip",
    "read_metadata", "render_clip", "render_plan", "render_stems", "styles_table", "synthetic_dir",
    "write_wav",
]
