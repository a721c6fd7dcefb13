"""Classify your own music with a trained model.

A song of any length, sample rate and channel count is loaded as mono at the model's sample rate,
cut into the model's 3-second segments (as many as it holds), turned into MFCCs exactly as the
training data were (:func:`mgc_helpers.mfcc_fast.mfcc_segments`), and the segments' softmax outputs
are averaged into one probability per genre for the track.

Files that cannot be used (not audio, corrupt, NaN samples, shorter than one segment) are reported
with the reason and counted, never dropped silently. Explained in ``11_predict.ipynb``.
"""
from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .audio import AUDIO_EXTENSIONS, AudioError, load_song
from .records import Skipped

if TYPE_CHECKING:  # pragma: no cover
    from .training import TrainedModel

__all__ = [
    "PredictionReport",
    "TrackPrediction",
    "default_model_path",
    "find_audio_files",
    "format_report",
    "predict_file",
    "predict_paths",
]

#: Output formats of :func:`format_report`.
FORMATS: tuple[str, ...] = ("text", "json", "csv")


@dataclass
class TrackPrediction:
    """The model's answer for one audio file.

    Attributes
    ----------
    path : Path
        The file.
    genres : tuple of str
        Genre names; ``probabilities[k]`` belongs to ``genres[k]``.
    probabilities : np.ndarray, shape (n_genres,)
        Mean of the segments' softmax outputs (sums to 1).
    segment_probabilities : np.ndarray, shape (n_segments, n_genres)
        Softmax output of each 3-second segment, in time order.
    duration : float
        Length of the decoded audio in seconds.
    notes : list of str
        Things worth knowing (a tail shorter than a segment left out, silence...).
    segment_seconds : float
        Length of one segment in seconds.
    """

    path: Path
    genres: tuple[str, ...]
    probabilities: np.ndarray
    segment_probabilities: np.ndarray
    duration: float
    notes: list[str] = field(default_factory=list)
    segment_seconds: float = 3.0

    @property
    def n_segments(self) -> int:
        return int(self.segment_probabilities.shape[0])

    @property
    def genre(self) -> str:
        """The most probable genre."""
        return self.genres[int(np.argmax(self.probabilities))]

    @property
    def thumbnail(self) -> int:
        """Index of the track's *thumbnail*: the segment most sure of the track's genre.

        The segment with the highest probability of :attr:`genre` (ties: the earliest), so that it
        sounds like what the track is said to be (the paper's section 10, music thumbnailing).
        Explained in ``14_retrieval.ipynb``; :func:`mgc_helpers.retrieval.thumbnail` makes the same
        choice and offers another rule.
        """
        return int(np.argmax(self.segment_probabilities[:, int(np.argmax(self.probabilities))]))

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most probable genres with their probabilities, most probable first.

        Ties are broken by genre order, so the answer is deterministic.
        """
        order = np.argsort(-self.probabilities, kind="stable")[: max(1, k)]
        return [(self.genres[i], float(self.probabilities[i])) for i in order]

    def to_dict(self, *, top: int = 3, segments: bool = False) -> dict:
        """JSON-ready description; per-segment genres and probabilities when ``segments``."""
        out = {
            "path": str(self.path),
            "duration": round(self.duration, 3),
            "n_segments": self.n_segments,
            "top": [{"genre": g, "probability": round(p, 4)} for g, p in self.top(top)],
            "notes": list(self.notes),
        }
        if segments:
            seconds = self.segment_seconds
            out["segments"] = [
                {"start": round(seconds * i, 3), "genre": self.genres[int(np.argmax(p))],
                 "probability": round(float(np.max(p)), 4)}
                for i, p in enumerate(self.segment_probabilities)
            ]
            i, g = self.thumbnail, int(np.argmax(self.probabilities))
            out["thumbnail"] = {"segment": i, "start": round(seconds * i, 3), "end": round(seconds * (i + 1), 3),
                                "genre": self.genres[g],
                                "probability": round(float(self.segment_probabilities[i, g]), 4)}
        return out


@dataclass
class PredictionReport:
    """Everything :func:`predict_paths` found: predictions, skipped files and ignored files."""

    predictions: list[TrackPrediction]
    skipped: list[Skipped]
    ignored: list[Path] = field(default_factory=list)
    model: str = ""
    trained_on: str = ""
    caveat: str = ""
    model_path: str = ""

    def summary(self) -> str:
        return (f"{len(self.predictions)} file(s) classified, {len(self.skipped)} skipped, "
                f"{len(self.ignored)} ignored (hidden or not audio)")


def find_audio_files(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[Skipped], list[Path]]:
    """Expand files and folders (recursively) into the audio files to classify.

    Returns
    -------
    files : list of Path
        Audio files by extension, in the order given, folders sorted.
    skipped : list of Skipped
        Paths that do not exist, broken symbolic links (named or found in a folder), and folders
        with no audio file at all.
    ignored : list of Path
        Hidden files and files without an audio extension found inside folders.
    """
    files: list[Path] = []
    skipped: list[Skipped] = []
    ignored: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_symlink() and not path.exists():
            skipped.append(Skipped(path, _broken_link(path)))
        elif not path.exists():
            skipped.append(Skipped(path, "no such file or folder"))
        elif path.is_dir():
            found = []
            for item in sorted(path.rglob("*")):
                rel = item.relative_to(path)
                hidden = any(part.startswith(".") for part in rel.parts)
                if item.is_symlink() and not item.exists():
                    if not hidden:
                        skipped.append(Skipped(item, _broken_link(item)))
                    continue
                if not item.is_file():
                    continue
                if hidden or item.suffix.lower() not in AUDIO_EXTENSIONS:
                    ignored.append(item)
                else:
                    found.append(item)
            if not found:
                skipped.append(Skipped(path, f"folder holds no audio file ({', '.join(AUDIO_EXTENSIONS)})"))
            files.extend(found)
        else:
            # a file named explicitly is tried whatever its extension: the decoder decides
            files.append(path)
    return files, skipped, ignored


def _broken_link(path: Path) -> str:
    return f"broken symbolic link (points to {os.readlink(path)}, which does not exist)"


def default_model_path() -> Path:
    """The model ``mgc predict`` uses without ``--model``: the default profile's CNN.

    That is ``results/default/models/cnn.keras`` (what ``mgc reproduce`` writes), or
    ``$MGC_RESULTS_DIR/models/cnn.keras`` when that variable is set. No other model (a test's, a
    ``quick`` run's, one of another seed) is ever taken in its place.

    Raises
    ------
    FileNotFoundError
        If that model does not exist; the message says how to make one or pass another.
    """
    from .paths import default_model_path as path

    model = path()
    if not model.is_file():
        raise FileNotFoundError(f"no model given and the default model {model} does not exist: make it "
                                "with `mgc reproduce` (default profile), or pass --model PATH.keras")
    return model


def predict_file(path: str | os.PathLike, trained: TrainedModel, *, batch_size: int = 64) -> TrackPrediction:
    """Classify one audio file with a trained model.

    Parameters
    ----------
    path : path-like
        Any audio file libsndfile (or audioread) decodes; any sample rate, channels and length of
        at least one segment.
    trained : TrainedModel
        From :func:`mgc_helpers.training.load_model`.
    batch_size : int
        Segments per forward pass (bounds memory for long files).

    Raises
    ------
    AudioError
        If the file cannot be decoded, holds NaN/inf samples, or is shorter than one segment.
    """
    from .mfcc_fast import mfcc_segments

    config = trained.config
    segments, duration, notes = load_song(path, config=config,
                                          silent_note="silent audio: the prediction means nothing")
    X = mfcc_segments(segments, config=config)
    proba = trained.predict_proba(X, batch_size=batch_size).astype(np.float64)
    mean = proba.mean(axis=0)
    return TrackPrediction(Path(path), tuple(trained.genres), mean / mean.sum(), proba, duration, notes,
                           segment_seconds=config.segment_duration)


def predict_paths(paths: Sequence[str | os.PathLike], trained: TrainedModel, *,
                  progress: bool = False) -> PredictionReport:
    """Classify every audio file among ``paths`` (files or folders); report what was not usable."""
    files, skipped, ignored = find_audio_files(paths)
    predictions = []
    iterator = files
    if progress and len(files) > 1:
        from tqdm import tqdm

        iterator = tqdm(files, desc="predict", unit="file")
    for path in iterator:
        try:
            predictions.append(predict_file(path, trained))
        except AudioError as exc:
            skipped.append(Skipped(Path(path), exc.reason))
    return PredictionReport(predictions, skipped, ignored, model=trained.name, trained_on=trained.describe(),
                            caveat=model_caveat(trained))


def model_caveat(trained: TrainedModel) -> str:
    """What a reader must know about the model's genres before trusting its answers ("" if nothing).

    A model trained on the embedded synthetic dataset knows the synthesiser's genre *styles*, not
    real music: on 100 real GTZAN clips the default CNN named the right genre 13 times (chance is
    10). A model whose training data were not recorded gets a warning too.
    """
    if trained.dataset == "synthetic":
        return ("this model was trained on the book's synthetic dataset: its genres are the synthesiser's "
                "styles, not real music, and its answers for real songs mean little. For real music, train on "
                "your GTZAN copy: `mgc reproduce --dataset gtzan --data-dir DIR`, then "
                "`mgc predict --model results/default-gtzan/models/cnn.keras ...`")
    if trained.dataset is None:
        return "the model's training data are not recorded in its metadata: check where it comes from"
    return ""


def format_report(report: PredictionReport, *, fmt: str = "text", top: int = 3, segments: bool = False) -> str:
    """Render a :class:`PredictionReport` as a text table, JSON or CSV."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {list(FORMATS)}")
    if fmt == "json":
        data = {
            "model": report.model,
            "model_path": report.model_path,
            "trained_on": report.trained_on,
            "caveat": report.caveat,
            "predictions": [p.to_dict(top=top, segments=segments) for p in report.predictions],
            "skipped": [{"path": str(s.path), "reason": s.reason} for s in report.skipped],
            "ignored": [str(p) for p in report.ignored],
        }
        return json.dumps(data, indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["path", "segment", "start", "rank", "genre", "probability", "model"])
        model = report.trained_on or report.model
        for p in report.predictions:
            for rank, (genre, prob) in enumerate(p.top(top), start=1):
                writer.writerow([p.path, "track", "", rank, genre, f"{prob:.4f}", model])
            if segments:
                for i, seg in enumerate(p.segment_probabilities):
                    k = int(np.argmax(seg))
                    writer.writerow([p.path, i, f"{i * p.segment_seconds:.1f}", 1, p.genres[k], f"{seg[k]:.4f}",
                                     model])
                t, g = p.thumbnail, int(np.argmax(p.probabilities))  # the segment most sure of the track's genre
                writer.writerow([p.path, "thumbnail", f"{t * p.segment_seconds:.1f}", "", p.genres[g],
                                 f"{p.segment_probabilities[t, g]:.4f}", model])
        for s in report.skipped:
            writer.writerow([s.path, "skipped", "", "", "", s.reason, ""])
        return buffer.getvalue()
    lines = []
    if report.trained_on:
        lines.append(f"model: {report.trained_on}" + (f" ({report.model_path})" if report.model_path else ""))
    if report.caveat:
        lines.append(f"note: {report.caveat}")
    for p in report.predictions:
        best = ", ".join(f"{g} {prob:.2f}" for g, prob in p.top(top))
        lines.append(f"{p.path}  ({p.duration:.1f} s, {p.n_segments} segments): {best}")
        for note in p.notes:
            lines.append(f"    note: {note}")
        if segments:
            for i, seg in enumerate(p.segment_probabilities):
                k = int(np.argmax(seg))
                mark = "  <- thumbnail" if i == p.thumbnail else ""
                lines.append(f"    {i * p.segment_seconds:6.1f} s  {p.genres[k]:<10} {seg[k]:.2f}{mark}")
            t, g = p.thumbnail, int(np.argmax(p.probabilities))
            lines.append(f"    thumbnail: {t * p.segment_seconds:.1f}-{(t + 1) * p.segment_seconds:.1f} s "
                         f"(segment {t}, {p.genres[g]} {p.segment_probabilities[t, g]:.2f})")
    for s in report.skipped:
        lines.append(f"skipped {s.path}: {s.reason}")
    lines.append(report.summary())
    return "\n".join(lines)
