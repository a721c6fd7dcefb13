"""Zero-shot GTZAN genres from musicnn's Million Song Dataset tags (``mgc predict --model musicnn``).

musicnn (:mod:`mgc_helpers.beyond.musicnn`) was trained on other data than this book's models: the 50 most
common Last.fm tags of the Million Song Dataset (MSD), never on GTZAN. Seven of the ten GTZAN
genres are among those tags (:data:`GENRE_TAGS`); a track's score for such a genre is the highest
mean probability among its tags, and the zero-shot genre is the best-scoring one.

Three GTZAN genres have **no tag of their own** among the 50 (:data:`UNNAMED_GENRES`): classical,
disco and reggae. The tagger can never answer them: a classical piece comes out as whichever of
the seven scores highest (its "instrumental", "ambient" or "easy listening" tags are moods, not a
genre, and are not mapped), a disco track perhaps as pop ("dance", "funk" and "70s" are not disco
either). The scores are tag probabilities, not a distribution over genres: they do not sum to 1,
and frequent tags ("rock", "pop") have higher base rates than rare ones ("blues", "country").
"""
from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.config import GENRES
from .musicnn import MSD_TAGS, PATCH_SECONDS
from ..core.records import Skipped

if TYPE_CHECKING:  # pragma: no cover

    from .musicnn import MusicnnOutput

__all__ = [
    "GENRE_TAGS",
    "MODEL_NOTE",
    "UNNAMED_GENRES",
    "ZeroShotPrediction",
    "ZeroShotReport",
    "format_report",
    "genre_scores",
    "predict_file",
    "predict_paths",
]

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

#: Tags shown per track at least.
TOP_TAGS = 5

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


@dataclass
class ZeroShotPrediction:
    """musicnn's answer for one audio file."""

    path: Path
    duration: float
    scores: np.ndarray  # (7,), genres of sorted(GENRE_TAGS)
    tags: np.ndarray  # (50,)
    patch_scores: np.ndarray  # (n_patches, 7)
    notes: list[str] = field(default_factory=list)

    genres: tuple[str, ...] = _NAMED

    @property
    def n_patches(self) -> int:
        return int(self.patch_scores.shape[0])

    @property
    def genre(self) -> str:
        """The zero-shot genre (ties broken by genre order)."""
        return self.genres[int(np.argmax(self.scores))]

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        order = np.argsort(-self.scores, kind="stable")[: max(1, k)]
        return [(self.genres[i], float(self.scores[i])) for i in order]

    def top_tags(self, k: int = TOP_TAGS) -> list[tuple[str, float]]:
        order = np.argsort(-self.tags, kind="stable")[: max(1, k)]
        return [(MSD_TAGS[i], float(self.tags[i])) for i in order]

    def to_dict(self, *, top: int = 3, segments: bool = False) -> dict:
        out = {
            "path": str(self.path), "duration": round(self.duration, 3), "n_patches": self.n_patches,
            "genre": self.genre,
            "top": [{"genre": g, "score": round(s, 4)} for g, s in self.top(top)],
            "top_tags": [{"tag": t, "probability": round(p, 4)} for t, p in self.top_tags(max(top, TOP_TAGS))],
            "notes": list(self.notes),
        }
        if segments:
            out["segments"] = [{"start": round(PATCH_SECONDS * i, 3), "genre": self.genres[int(np.argmax(s))],
                                "score": round(float(np.max(s)), 4)} for i, s in enumerate(self.patch_scores)]
        return out


@dataclass
class ZeroShotReport:
    """Predictions, skipped files (with reasons) and ignored files."""

    predictions: list[ZeroShotPrediction]
    skipped: list[Skipped]
    ignored: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.predictions)} file(s) classified, {len(self.skipped)} skipped, "
                f"{len(self.ignored)} ignored (hidden or not audio)")


#: Shortest file accepted, seconds (shorter than a 3-s patch is repeated to fill it).
MIN_SECONDS = 1.0


def predict_file(path: str | os.PathLike) -> ZeroShotPrediction:
    """Zero-shot genre and tags of one audio file (any length from 1 s; long files in bounded memory).

    Raises
    ------
    AudioError
        If the file cannot be decoded, holds NaN/inf samples or is shorter than 1 s.
    """
    from ..signal.audio import AudioError
    from .musicnn import analyse_file

    out: MusicnnOutput = analyse_file(path)
    if out.duration < MIN_SECONDS:
        raise AudioError(path, f"too short ({out.duration:.2f} s): needs at least {MIN_SECONDS:g} s")
    return ZeroShotPrediction(Path(path), out.duration, genre_scores(out.tags), out.tags.astype(np.float64),
                              genre_scores(out.patch_tags), list(out.notes))


def predict_paths(paths: Sequence[str | os.PathLike], *, progress: bool = False) -> ZeroShotReport:
    """:func:`predict_file` on every audio file among ``paths`` (files or folders); report the rest."""
    from ..signal.audio import AudioError
    from ..predict.run import find_audio_files

    files, skipped, ignored = find_audio_files(paths)
    iterator = files
    if progress and len(files) > 1:
        from tqdm import tqdm

        iterator = tqdm(files, desc="musicnn", unit="file")
    predictions = []
    for path in iterator:
        try:
            predictions.append(predict_file(path))
        except AudioError as exc:
            skipped.append(Skipped(Path(path), exc.reason))
    return ZeroShotReport(predictions, skipped, ignored)


def format_report(report: ZeroShotReport, *, fmt: str = "text", top: int = 3, segments: bool = False) -> str:
    """Render a :class:`ZeroShotReport` as text, JSON or CSV; text and JSON carry :data:`MODEL_NOTE`."""
    if fmt == "json":
        return json.dumps({
            "model": "musicnn", "trained_on": "Million Song Dataset (50 Last.fm tags), not GTZAN",
            "zero_shot": True, "cannot_name": list(UNNAMED_GENRES), "note": MODEL_NOTE,
            "predictions": [p.to_dict(top=top, segments=segments) for p in report.predictions],
            "skipped": [{"path": str(s.path), "reason": s.reason} for s in report.skipped],
            "ignored": [str(p) for p in report.ignored],
        }, indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["path", "kind", "rank", "name", "score"])
        for p in report.predictions:
            for rank, (g, s) in enumerate(p.top(top), start=1):
                writer.writerow([p.path, "genre", rank, g, f"{s:.4f}"])
            for rank, (t, s) in enumerate(p.top_tags(max(top, TOP_TAGS)), start=1):
                writer.writerow([p.path, "tag", rank, t, f"{s:.4f}"])
            if segments:
                for i, s in enumerate(p.patch_scores):
                    k = int(np.argmax(s))
                    writer.writerow([p.path, f"segment {i * PATCH_SECONDS:.1f} s", 1, p.genres[k], f"{s[k]:.4f}"])
        for skip in report.skipped:
            writer.writerow([skip.path, "skipped", "", "", skip.reason])
        return buffer.getvalue()
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}; choose one of ['text', 'json', 'csv']")
    lines = [f"note: {MODEL_NOTE}"]
    for p in report.predictions:
        genres = ", ".join(f"{g} {s:.2f}" for g, s in p.top(top))
        tags = ", ".join(f"{t} {s:.2f}" for t, s in p.top_tags(max(top, TOP_TAGS)))
        lines.append(f"{p.path}  ({p.duration:.1f} s, {p.n_patches} patches): zero-shot genre {p.genre} "
                     f"(scores: {genres}); top tags: {tags}")
        for note in p.notes:
            lines.append(f"    note: {note}")
        if segments:
            for i, s in enumerate(p.patch_scores):
                k = int(np.argmax(s))
                lines.append(f"    {i * PATCH_SECONDS:6.1f} s  {p.genres[k]:<10} {s[k]:.2f}")
    for skip in report.skipped:
        lines.append(f"skipped {skip.path}: {skip.reason}")
    lines.append(report.summary())
    return "\n".join(lines)
