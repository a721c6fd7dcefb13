"""What a prediction is and how it is written: one report and one CSV/JSON schema for every model.

:class:`TrackPrediction` is one file's answer, whatever the model (the book's CNN, musicnn's
zero-shot genres, a probe on musicnn's embedding): genre probabilities of the track and of each
segment, and the tags when the front end has them. :class:`PredictionReport` adds what was skipped
and ignored. :func:`format_report` renders a report as text, JSON, JSON lines or CSV;
:class:`StreamingWriter` appends each file's CSV or JSON-lines result as soon as it is known.

The CSV schema (:data:`CSV_HEADER`) has one row per top genre (``segment`` = ``track``), per tag
(``tag``), per segment (its index), the thumbnail (``thumbnail``) and per skipped file
(``skipped``, the reason in ``probability``'s place). Explained in ``11_predict.ipynb``.
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.records import Skipped

__all__ = ["CSV_HEADER", "FORMATS", "JSON_KEYS", "PredictionReport", "StreamingWriter", "TrackPrediction",
           "format_report"]

#: Output formats of :func:`format_report`.
FORMATS: tuple[str, ...] = ("text", "json", "csv", "jsonl")

#: Header of the CSV report.
CSV_HEADER: tuple[str, ...] = ("path", "segment", "start", "rank", "genre", "probability", "model")

#: Keys of every prediction in a JSON report (:meth:`TrackPrediction.to_dict`).
JSON_KEYS: tuple[str, ...] = ("path", "duration", "n_segments", "top", "tags", "notes")


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
    tags : tuple of (str, float)
        The front end's most probable tags, when it has tags (musicnn: the track's mean tag
        probabilities, most probable first); empty otherwise.
    """

    path: Path
    genres: tuple[str, ...]
    probabilities: np.ndarray
    segment_probabilities: np.ndarray
    duration: float
    notes: list[str] = field(default_factory=list)
    segment_seconds: float = 3.0
    tags: tuple[tuple[str, float], ...] = ()

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
        Explained in ``14_retrieval.ipynb``; :func:`mgc_helpers.beyond.thumbnails.thumbnail` makes the same
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
        """JSON-ready description; per-segment genres and probabilities when ``segments``.

        The same keys for every model (:data:`JSON_KEYS`, and ``segments`` and ``thumbnail`` when
        asked for); ``tags`` is empty for a model whose front end has no tags.
        """
        out = {
            "path": str(self.path),
            "duration": round(self.duration, 3),
            "n_segments": self.n_segments,
            "top": [{"genre": g, "probability": round(p, 4)} for g, p in self.top(top)],
            "tags": [{"tag": t, "probability": round(p, 4)} for t, p in self.tags],
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
    already_done: list[Path] = field(default_factory=list)
    audio_seconds: float = 0.0

    def summary(self) -> str:
        resumed = (f", {len(self.already_done)} already in the output (not redone)" if self.already_done else "")
        return (f"{len(self.predictions)} file(s) classified, {len(self.skipped)} skipped, "
                f"{len(self.ignored)} ignored (hidden or not audio){resumed}")


class StreamingWriter:
    """Appends each file's result to a CSV or JSON-lines report as soon as it is known.

    Every file's lines are written and flushed at once, so an interrupted run keeps what it
    finished. Opening an existing report resumes it: :attr:`done` holds the files already in it
    (classified or skipped), which :func:`~mgc_helpers.predict.run.predict_paths` then leaves out; a last line cut off
    by the interruption is removed first. A CSV report starts with :data:`CSV_HEADER`; a JSON-lines
    report holds one object per file (:meth:`TrackPrediction.to_dict`, or ``path`` and ``skipped``).

    Explained in ``11_predict.ipynb``.
    """

    def __init__(self, path: str | os.PathLike, *, fmt: str = "csv", top: int = 3, segments: bool = False,
                 model: str = ""):
        if fmt not in ("csv", "jsonl"):
            raise ValueError(f"a streamed report is csv or jsonl, got {fmt!r}")
        self.path, self.fmt, self.top, self.segments, self.model = Path(path), fmt, top, segments, model
        self.done: set[str] = set()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_file() and self.path.stat().st_size:
            self._resume()
        self._file = open(self.path, "a", encoding="utf-8", newline="")  # closed by close()
        if self.fmt == "csv" and self._file.tell() == 0:
            self._emit([list(CSV_HEADER)])

    def _resume(self) -> None:
        text = self.path.read_text(encoding="utf-8")
        if not text.endswith("\n"):  # a line cut off by the interruption
            text = text[: text.rfind("\n") + 1]
            self.path.write_text(text, encoding="utf-8")
        lines = text.splitlines()
        if self.fmt == "csv":
            rows = list(csv.reader(lines))
            if rows and tuple(rows[0]) != CSV_HEADER:
                raise ValueError(f"{self.path} is not a report of mgc predict (CSV header {rows[0]})")
            self.done = {row[0] for row in rows[1:] if row}
        else:
            for number, line in enumerate(lines, start=1):
                try:
                    self.done.add(json.loads(line)["path"])
                except (ValueError, KeyError, TypeError):
                    raise ValueError(f"{self.path}, line {number}: not a report line of mgc predict") from None

    def _emit(self, rows: list[list]) -> None:
        if self.fmt == "csv":
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(rows)
            self._file.write(buffer.getvalue())
        else:
            self._file.write("".join(json.dumps(row) + "\n" for row in rows))
        self._file.flush()

    def write(self, item: TrackPrediction | Skipped) -> None:
        """Append one file's result (and flush)."""
        if isinstance(item, Skipped):
            rows: list = ([[str(item.path), "skipped", "", "", "", item.reason, ""]] if self.fmt == "csv"
                          else [{"path": str(item.path), "skipped": item.reason}])
        elif self.fmt == "csv":
            rows = _csv_rows(item, top=self.top, segments=self.segments, model=self.model)
        else:
            rows = [item.to_dict(top=self.top, segments=self.segments)]
        self._emit(rows)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> StreamingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _csv_rows(p: TrackPrediction, *, top: int, segments: bool, model: str) -> list[list]:
    """The CSV report's rows of one file: its top genres, its tags (if any), then (``segments``) one row per
    segment and its thumbnail."""
    rows: list[list] = [[p.path, "track", "", rank, genre, f"{prob:.4f}", model]
                        for rank, (genre, prob) in enumerate(p.top(top), start=1)]
    rows += [[p.path, "tag", "", rank, tag, f"{prob:.4f}", model] for rank, (tag, prob) in enumerate(p.tags, start=1)]
    if segments:
        for i, seg in enumerate(p.segment_probabilities):
            k = int(np.argmax(seg))
            rows.append([p.path, i, f"{i * p.segment_seconds:.1f}", 1, p.genres[k], f"{seg[k]:.4f}", model])
        t, g = p.thumbnail, int(np.argmax(p.probabilities))  # the segment most sure of the track's genre
        rows.append([p.path, "thumbnail", f"{t * p.segment_seconds:.1f}", "", p.genres[g],
                     f"{p.segment_probabilities[t, g]:.4f}", model])
    return rows


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
    if fmt == "jsonl":
        lines = [json.dumps(p.to_dict(top=top, segments=segments)) for p in report.predictions]
        lines += [json.dumps({"path": str(s.path), "skipped": s.reason}) for s in report.skipped]
        return "\n".join(lines)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        model = report.trained_on or report.model
        for p in report.predictions:
            writer.writerows(_csv_rows(p, top=top, segments=segments, model=model))
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
        if p.tags:
            lines.append("    top tags: " + ", ".join(f"{t} {prob:.2f}" for t, prob in p.tags))
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
