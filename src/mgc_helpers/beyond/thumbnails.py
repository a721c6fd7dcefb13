"""Thumbnails: the 3-second segment of a track that a classifier is most sure of.

The paper's section 10 (future work) names *music thumbnailing*, "finding the most interesting part
of a song". :func:`thumbnail` takes a measurable stand-in that needs no new training: the segment
with the highest probability of the track's genre, from a model's per-segment softmax outputs;
:func:`prediction_thumbnail` does it for a :class:`~mgc_helpers.predict.report.TrackPrediction`.

Explained in ``14_retrieval.ipynb``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..predict.report import TrackPrediction

__all__ = ["Thumbnail", "prediction_thumbnail", "thumbnail"]


@dataclass(frozen=True)
class Thumbnail:
    """The segment chosen to represent a track.

    Attributes
    ----------
    index : int
        Segment number (0 = first).
    start, end : float
        Seconds into the file.
    genre : str
        The genre the choice is about (the track's predicted genre, or the segment's own).
    probability : float
        That genre's probability in the chosen segment.
    """

    index: int
    start: float
    end: float
    genre: str
    probability: float


def thumbnail(segment_probabilities: np.ndarray, genres: Sequence[str], *, segment_seconds: float = 3.0,
              by: str = "track_genre") -> Thumbnail:
    """The 3-second segment the model is most sure of: a track's "thumbnail".

    Explained in ``14_retrieval.ipynb``.

    Parameters
    ----------
    segment_probabilities : np.ndarray, shape (n_segments, n_genres)
        Softmax output of each segment in time order (``TrackPrediction.segment_probabilities``).
    genres : sequence of str
    segment_seconds : float
        Length of one segment (``TrackPrediction.segment_seconds``).
    by : {"track_genre", "max"}
        ``"track_genre"`` (default): the segment with the highest probability of the *track's*
        genre (argmax of the mean probability, as :func:`mgc_helpers.predict.run.predict_file` decides
        it), so the thumbnail sounds like what the track is said to be. ``"max"``: the segment with
        the highest softmax output of any genre, which can pick an untypical passage (a quiet intro
        that looks very "classical" in a rock song).

    Returns
    -------
    Thumbnail
        Ties go to the earliest segment.
    """
    proba = np.asarray(segment_probabilities, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[0] == 0 or proba.shape[1] != len(genres):
        raise ValueError(f"segment probabilities must have shape (n_segments >= 1, {len(genres)}), got {proba.shape}")
    if by == "track_genre":
        g = int(np.argmax(proba.mean(axis=0)))
        i = int(np.argmax(proba[:, g]))
    elif by == "max":
        i, g = (int(v) for v in np.unravel_index(int(np.argmax(proba)), proba.shape))
    else:
        raise ValueError(f"unknown thumbnail rule {by!r}; choose 'track_genre' or 'max'")
    return Thumbnail(i, i * segment_seconds, (i + 1) * segment_seconds, str(genres[g]), float(proba[i, g]))


def prediction_thumbnail(prediction: TrackPrediction, *, by: str = "track_genre") -> Thumbnail:
    """:func:`thumbnail` of a :class:`~mgc_helpers.predict.report.TrackPrediction` (from ``predict_file``)."""
    return thumbnail(prediction.segment_probabilities, prediction.genres,
                     segment_seconds=prediction.segment_seconds, by=by)
