"""Zero-shot GTZAN genres from musicnn's Million Song Dataset tags (``mgc predict --model musicnn``).

musicnn (:mod:`mgc_helpers.beyond.musicnn`) was trained on other data than this book's models: the 50 most
common Last.fm tags of the Million Song Dataset (MSD), never on GTZAN. Seven of the ten GTZAN
genres are among those tags (:data:`GENRE_TAGS`). The one zero-shot definition, used by chapter 13
and by ``mgc predict --model musicnn`` alike, is :class:`ZeroShotModel`: each 3-s patch's score for
such a genre is the highest probability among its tags (:func:`genre_scores`), the seven scores are
normalised to sum to 1, and a track's probabilities are the mean of its patches' (as for every
model, :func:`mgc_helpers.predict.run.predict_paths`).

Three GTZAN genres have **no tag of their own** among the 50 (:data:`UNNAMED_GENRES`): classical,
disco and reggae. The tagger can never answer them: a classical piece comes out as whichever of
the seven scores highest (its "instrumental", "ambient" or "easy listening" tags are moods, not a
genre, and are not mapped), a disco track perhaps as pop ("dance", "funk" and "70s" are not disco
either). The scores are tag probabilities before they are normalised, and frequent tags ("rock",
"pop") have higher base rates than rare ones ("blues", "country"). Explained in ``13_transfer.ipynb``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.config import GENRES
from .musicnn import MSD_TAGS
from .musicnn_front import MusicnnFrontEnd

__all__ = ["GENRE_TAGS", "MODEL_NOTE", "UNNAMED_GENRES", "ZeroShotModel", "as_rows", "genre_scores"]

#: GTZAN genre -> the MSD tags that name it (spelling as in :data:`mgc_helpers.beyond.musicnn.MSD_TAGS`).
GENRE_TAGS: dict[str, tuple[str, ...]] = {
    "blues": ("blues",),
    "country": ("country",),
    "hiphop": ("Hip-Hop",),
    "jazz": ("jazz",),
    "metal": ("metal", "heavy metal"),
    "pop": ("pop", "indie pop"),
    "rock": ("rock", "classic rock", "hard rock", "alternative rock", "indie rock", "Progressive rock"),
}

#: GTZAN genres with no MSD tag of their own: the tagger cannot name them.
UNNAMED_GENRES: tuple[str, ...] = tuple(g for g in GENRES if g not in GENRE_TAGS)

#: Said with every answer.
MODEL_NOTE = (f"musicnn (MSD_musicnn, Pons & Serra 2019) was trained on the Million Song Dataset's 50 tags, "
              f"not on GTZAN; its genre is zero-shot, from its tags, and it cannot name "
              f"{', '.join(UNNAMED_GENRES)} (no such tag)")

_NAMED = tuple(sorted(GENRE_TAGS))
_INDEX = {g: [MSD_TAGS.index(t) for t in tags] for g, tags in GENRE_TAGS.items()}


def genre_scores(tags: np.ndarray) -> np.ndarray:
    """Scores of the nameable genres (sorted names) from tag probabilities.

    Parameters
    ----------
    tags : np.ndarray, shape (..., 50)
        musicnn tag probabilities (one track, or one row per patch).

    Returns
    -------
    np.ndarray, shape (..., 7)
        For each genre of ``sorted(GENRE_TAGS)``, the highest probability among its tags.

    Examples
    --------
    >>> t = np.zeros(50); t[MSD_TAGS.index("heavy metal")] = 0.8
    >>> dict(zip(sorted(GENRE_TAGS), genre_scores(t).round(2)))["metal"]
    np.float64(0.8)
    """
    tags = np.asarray(tags, dtype=np.float64)
    if tags.shape[-1] != len(MSD_TAGS):
        raise ValueError(f"expected {len(MSD_TAGS)} tag probabilities, got shape {tags.shape}")
    return np.stack([tags[..., _INDEX[g]].max(axis=-1) for g in _NAMED], axis=-1)


def as_rows(X: np.ndarray, width: int) -> np.ndarray:
    """``X`` as float64 rows ``(n, width)``; accepts ``(n, 1, width)``, the shape of an embedded SegmentSet.

    Raises
    ------
    ValueError
        For any other shape.
    """
    X = np.asarray(X, dtype=np.float64)
    X = X.reshape(len(X), -1) if X.ndim == 3 and X.shape[1] == 1 else X
    if X.ndim != 2 or X.shape[1] != width:
        raise ValueError(f"expected {width} values per row (shape (n, {width}) or (n, 1, {width})), got {X.shape}")
    return X


@dataclass
class ZeroShotModel:
    """musicnn's zero-shot genres as a classifier of tag probabilities ``(n, 50)`` or ``(n, 1, 50)``.

    Each row of :func:`genre_scores` (seven genres) is normalised to sum to 1 and placed in the
    columns of ``genres``; a genre without a tag (:data:`UNNAMED_GENRES`) gets 0, and a row with no
    tag at all is uniform over the named genres. Its loss is therefore dominated by the unnamed
    genres and is not reported. Its front end is musicnn's tags per 3-s patch
    (:class:`~mgc_helpers.beyond.musicnn_front.MusicnnFrontEnd`), so ``mgc predict --model musicnn``
    runs it like any model.
    """

    genres: tuple[str, ...] = GENRES
    name: str = "musicnn_zeroshot"

    @property
    def n_classes(self) -> int:
        return len(self.genres)

    @property
    def front_end(self) -> MusicnnFrontEnd:
        return MusicnnFrontEnd("tags")

    def predict_proba(self, X: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Genre probabilities ``(n, len(genres))``; ``batch_size`` is accepted for the same call as the deep models."""
        scores = genre_scores(as_rows(X, len(MSD_TAGS)))
        named = sorted(GENRE_TAGS)
        out = np.zeros((len(scores), self.n_classes))
        for j, g in enumerate(named):
            if g in self.genres:
                out[:, self.genres.index(g)] = scores[:, j]
        named_cols = [self.genres.index(g) for g in named if g in self.genres]
        out[out.sum(axis=1) == 0, np.array(named_cols)[:, None]] = 1.0  # no tag at all: uniform over the named
        return out / out.sum(axis=1, keepdims=True)

    def describe(self) -> str:
        return "musicnn (MSD_musicnn) tags mapped to genres, zero-shot (never trained on GTZAN)"

    def caveat(self) -> str:
        return MODEL_NOTE
