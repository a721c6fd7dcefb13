"""The embedded synthetic genre dataset: GTZAN-shaped, generated at run time.

GTZAN cannot be downloaded here, so the book's default dataset is music written by code: ten genre
styles (:data:`GENRE_STYLES`, data in :mod:`~mgc_helpers.synth.styles`), six synthetic artists per
genre with their own sound, and per-clip variation, rendered with classic synthesis techniques
(:mod:`~mgc_helpers.synth.instruments`) and written in GTZAN's folder layout so that one loader
reads both. Explained in ``06_dataset.ipynb``.

Main entry points: :func:`generate_dataset` (the dataset), :func:`render_clip` (one clip),
:func:`plan_clip` (a clip's score and description), :func:`render_stems` (its parts one by one),
:func:`styles_table` and :func:`artists_table` (the styles and artists as tables).
"""
from __future__ import annotations

from .dataset import (GENERATOR_VERSION, SAMPLE_RATE, artist_for_clip, clip_seed, generate_dataset,
                      read_metadata, synthetic_dir, write_wav)
from .instruments import INSTRUMENTS, Instrument
from .render import (N_ARTISTS, ArtistPalette, ClipPlan, artist_ids, artist_palette, parse_chord,
                     plan_clip, render_clip, render_plan, render_stems)
from .styles import GENRE_STYLES, NEIGHBOURS, GenreStyle, Part, styles_table


def artists_table(genres=None):
    """The synthetic artists as a :class:`pandas.DataFrame`, one row each (``06_dataset.ipynb``).

    Examples
    --------
    >>> artists_table(["rock"]).shape[0]
    6
    """
    import pandas as pd

    from ..config import GENRES

    rows = [artist_palette(a).to_dict() for g in (genres or GENRES) for a in artist_ids(g)]
    return pd.DataFrame(rows).set_index("artist")


__all__ = [
    "GENERATOR_VERSION", "GENRE_STYLES", "INSTRUMENTS", "N_ARTISTS", "NEIGHBOURS", "SAMPLE_RATE",
    "ArtistPalette", "ClipPlan", "GenreStyle", "Instrument", "Part", "artist_for_clip", "artist_ids",
    "artist_palette", "artists_table", "clip_seed", "generate_dataset", "parse_chord", "plan_clip",
    "read_metadata", "render_clip", "render_plan", "render_stems", "styles_table", "synthetic_dir",
    "write_wav",
]
