"""Classify your own music with a trained model.

A song of any length, sample rate and channel count is loaded as mono at the model's sample rate,
cut into the model's 3-second segments (as many as it holds), turned into MFCCs exactly as the
training data were (:func:`mgc_helpers.signal.mfcc_fast.mfcc_segments`), and the segments' softmax outputs
are averaged into one probability per genre for the track.

Files that cannot be used (not audio, corrupt, NaN samples, shorter than one segment) are reported
with the reason and counted, never dropped silently. Explained in ``11_predict.ipynb``.

Scale: a song is decoded and turned into MFCCs block by block (:class:`~mgc_helpers.signal.audio.SegmentStream`),
so a recording of hours needs no more memory than a few minutes of audio; a folder of many songs is
spread over worker processes or a Dask cluster (decoding and MFCCs there, the model here, so the
answers are the same bits as a run in one process; a few files per worker ahead of the model, so memory
does not grow with the folder); :class:`StreamingWriter` appends each file's result
to a CSV or JSON-lines file as soon as it is known, and a rerun with the same output skips the files
already there.
"""
from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections import deque
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..signal.audio import AUDIO_EXTENSIONS, AudioError, SegmentStream
from ..core.records import Skipped

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Generator

    from ..core.config import FeatureConfig
    from ..models.model_files import TrainedModel

__all__ = [
    "BACKENDS",
    "PredictionReport",
    "StreamingWriter",
    "TrackPrediction",
    "default_model_path",
    "file_mfcc",
    "find_audio_files",
    "format_report",
    "predict_file",
    "predict_paths",
]

#: Output formats of :func:`format_report`.
FORMATS: tuple[str, ...] = ("text", "json", "csv", "jsonl")

#: Where :func:`predict_paths` decodes files and computes MFCCs besides this process.
BACKENDS: tuple[str, ...] = ("loky", "dask")

#: Header of the CSV report.
CSV_HEADER: tuple[str, ...] = ("path", "segment", "start", "rank", "genre", "probability", "model")


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
        Explained in ``14_retrieval.ipynb``; :func:`mgc_helpers.beyond.retrieval.thumbnail` makes the same
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
    already_done: list[Path] = field(default_factory=list)
    audio_seconds: float = 0.0

    def summary(self) -> str:
        resumed = (f", {len(self.already_done)} already in the output (not redone)" if self.already_done else "")
        return (f"{len(self.predictions)} file(s) classified, {len(self.skipped)} skipped, "
                f"{len(self.ignored)} ignored (hidden or not audio){resumed}")


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
    from ..core.paths import default_model_path as path

    model = path()
    if not model.is_file():
        raise FileNotFoundError(f"no model given and the default model {model} does not exist: make it "
                                "with `mgc reproduce` (default profile), or pass --model PATH.keras")
    return model


def file_mfcc(path: str | os.PathLike, *, config: FeatureConfig,
              block_segments: int = 10) -> tuple[np.ndarray, float, list[str]]:
    """MFCCs of every segment of a song of any length, computed block by block in bounded memory.

    Returns ``(X, duration, notes)``: ``X`` of shape ``(n_segments, frames, n_mfcc)`` (float32, the same
    bits as :func:`~mgc_helpers.signal.mfcc_fast.mfcc_segments` of the whole song's segments), the decoded
    length in seconds and the notes of :class:`~mgc_helpers.signal.audio.SegmentStream`. Only
    ``block_segments`` segments of audio exist at once; the MFCCs are 40 times smaller than the audio.

    Raises
    ------
    AudioError
        If the file cannot be decoded, holds NaN/inf samples, or is shorter than one segment.
    """
    from ..signal.mfcc_fast import mfcc_segments

    stream = SegmentStream(path, config=config, block_segments=block_segments)
    X = np.concatenate([mfcc_segments(block, config=config) for block in stream])
    return X, stream.duration, stream.notes(silent_note="silent audio: the prediction means nothing")


def _classify(path: Path, X: np.ndarray, duration: float, notes: list[str], trained: TrainedModel, *,
              batch_size: int) -> TrackPrediction:
    proba = trained.predict_proba(X, batch_size=batch_size).astype(np.float64)
    mean = proba.mean(axis=0)
    return TrackPrediction(path, tuple(trained.genres), mean / mean.sum(), proba, duration, notes,
                           segment_seconds=trained.config.segment_duration)


def predict_file(path: str | os.PathLike, trained: TrainedModel, *, batch_size: int = 64) -> TrackPrediction:
    """Classify one audio file with a trained model.

    Parameters
    ----------
    path : path-like
        Any audio file libsndfile (or audioread) decodes; any sample rate, channels and length of
        at least one segment.
    trained : TrainedModel
        From :func:`mgc_helpers.models.training.load_model`.
    batch_size : int
        Segments per forward pass.

    The song is decoded and turned into MFCCs block by block (:func:`file_mfcc`), so memory does not
    grow with its length beyond its MFCCs and probabilities.

    Raises
    ------
    AudioError
        If the file cannot be decoded, holds NaN/inf samples, or is shorter than one segment.
    """
    X, duration, notes = file_mfcc(path, config=trained.config)
    return _classify(Path(path), X, duration, notes, trained, batch_size=batch_size)


def _mfcc_task(path: str, config: FeatureConfig,
               bank: tuple | None = None) -> tuple[str, np.ndarray | None, float, list[str] | str]:
    """Worker: ``(path, X, duration, notes)``, or ``(path, None, 0, reason)`` for an unusable file.

    The reason travels as text (an exception with extra fields does not survive pickling); BLAS and
    OpenMP pools are limited to one thread, since the workers already fill the cores. ``bank``: the
    parent's :func:`~mgc_helpers.signal.mfcc_fast.filters` (the worker need not import librosa).
    """
    from threadpoolctl import threadpool_limits

    from ..signal.mfcc_fast import install_filters, reuse_freed_memory

    if bank is not None:
        install_filters(config, bank)
    reuse_freed_memory()
    with threadpool_limits(limits=1):
        try:
            X, duration, notes = file_mfcc(path, config=config)
        except AudioError as exc:
            return path, None, 0.0, exc.reason
    return path, X, duration, notes


#: Files whose MFCCs may be under way or waiting, per worker, ahead of the model (:func:`_mfcc_results`).
WINDOW_PER_WORKER = 4

#: Thread pools a worker process starts with one thread (it also runs under ``threadpool_limits(1)``).
_ONE_THREAD_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                          "BLIS_NUM_THREADS", "NUMBA_NUM_THREADS", "NUMEXPR_NUM_THREADS")}


def _mfcc_results(files: list[Path], config: FeatureConfig, *, n_jobs: int,
                  backend: str) -> Generator[tuple[str, np.ndarray | None, float, list[str] | str]]:
    """:func:`_mfcc_task` of every file, in the order given: here, in local processes or on Dask.

    Elsewhere than here, at most ``WINDOW_PER_WORKER`` files per worker are handed out ahead of the
    one the model waits for: the model is usually the slower side, and results that ran ahead would
    pile up in memory (over a music library, gigabytes). When the caller stops early (an error, or
    Ctrl-C), the files not started are cancelled and the few under way finish on their own (killing
    the workers under way made loky's manager thread print a traceback).
    """
    if backend == "loky" and n_jobs == 1:
        for path in files:
            try:
                X, duration, notes = file_mfcc(path, config=config)
            except AudioError as exc:
                yield str(path), None, 0.0, exc.reason
                continue
            yield str(path), X, duration, notes
        return
    from ..signal.mfcc_fast import filters

    bank = filters(config)
    if backend == "dask":
        from ..data.features import _require_dask_client

        client = _require_dask_client()
        workers = max(1, sum(client.nthreads().values()))
        yield from _in_order(lambda path: client.submit(_mfcc_task, str(path), config, bank, pure=False), files,
                             window=WINDOW_PER_WORKER * workers)
        return
    # A pool of its own, not loky's reusable one: joblib expects that one to be made by joblib
    from joblib.externals.loky import ProcessPoolExecutor

    executor = ProcessPoolExecutor(max_workers=n_jobs, env=_ONE_THREAD_ENV)
    try:
        yield from _in_order(lambda path: executor.submit(_mfcc_task, str(path), config, bank), files,
                             window=WINDOW_PER_WORKER * n_jobs)
    finally:
        executor.shutdown(wait=False)  # the files under way (if the caller stopped early) finish on their own


def _in_order(submit: Callable[[Path], Any], items: Sequence[Path], *, window: int) -> Generator[Any]:
    """The results of ``submit(item)`` (futures), in the order of ``items``, at most ``window`` ahead."""
    pending: deque[Any] = deque()
    todo = iter(items)
    try:
        for item in islice(todo, window):
            pending.append(submit(item))
        while pending:
            result = pending.popleft().result()
            for item in islice(todo, 1):
                pending.append(submit(item))
            yield result
    finally:
        for future in pending:
            future.cancel()


def predict_paths(paths: Sequence[str | os.PathLike], trained: TrainedModel, *, progress: bool = False,
                  n_jobs: int = 1, backend: str = "loky", done: Iterable[str | os.PathLike] = (),
                  on_result: Callable[[TrackPrediction | Skipped], None] | None = None) -> PredictionReport:
    """Classify every audio file among ``paths`` (files or folders); report what was not usable.

    Parameters
    ----------
    paths : sequence of path-like
        Files and folders (searched recursively, see :func:`find_audio_files`).
    trained : TrainedModel
        From :func:`mgc_helpers.models.training.load_model`; it runs in this process.
    progress : bool
        A tqdm bar on stderr (files, with seconds of audio per second in the postfix).
    n_jobs : int
        Worker processes that decode files and compute MFCCs (``1``: all in this process).
    backend : {"loky", "dask"}
        ``"dask"`` sends the files to the workers of the running ``dask.distributed`` Client (they
        must see the files). Either way the model runs here on the same MFCCs, in the same order,
        so the answers are bit for bit those of a run in one process.
    done : iterable of path-like
        Files already classified (a resumed run): not redone, listed in ``already_done``.
    on_result : callable or None
        Called with each file's :class:`TrackPrediction` or :class:`Skipped` as soon as it is known,
        in file order (e.g. :meth:`StreamingWriter.write`).

    Raises
    ------
    ValueError
        For a bad ``backend`` or ``n_jobs``.
    RuntimeError
        For ``backend="dask"`` without a running Client.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {list(BACKENDS)}")
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, got {n_jobs!r}")
    files, skipped, ignored = find_audio_files(paths)
    finished = {str(Path(p)) for p in done}
    already = [f for f in files if str(f) in finished]
    files = [f for f in files if str(f) not in finished]
    report = PredictionReport([], skipped, ignored, model=trained.name, trained_on=trained.describe(),
                              caveat=model_caveat(trained), already_done=already)
    if on_result is not None:
        for s in skipped:
            on_result(s)
    from tqdm import tqdm

    bar = tqdm(total=len(files), desc="predict", unit="file", disable=not progress or len(files) < 2,
               file=sys.stderr)
    jobs = min(n_jobs, max(1, len(files)))
    # closing: an interruption cancels the files not started at once, not when its traceback is dropped
    with bar, closing(_mfcc_results(files, trained.config, n_jobs=jobs, backend=backend)) as results:
        for name, X, duration, notes in results:
            item: TrackPrediction | Skipped
            if X is None:
                item = Skipped(Path(name), str(notes))
                report.skipped.append(item)
            else:
                item = _classify(Path(name), X, duration, list(notes), trained, batch_size=64)
                report.predictions.append(item)
                report.audio_seconds += duration
            if on_result is not None:
                on_result(item)
            bar.update(1)
            bar.set_postfix_str(f"{report.audio_seconds / max(bar.format_dict['elapsed'], 1e-9):,.0f} s audio/s",
                                refresh=False)
    return report


class StreamingWriter:
    """Appends each file's result to a CSV or JSON-lines report as soon as it is known.

    Every file's lines are written and flushed at once, so an interrupted run keeps what it
    finished. Opening an existing report resumes it: :attr:`done` holds the files already in it
    (classified or skipped), which :func:`predict_paths` then leaves out; a last line cut off
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
    """The CSV report's rows of one file: its top genres, then (``segments``) one row per segment and its thumbnail."""
    rows: list[list] = [[p.path, "track", "", rank, genre, f"{prob:.4f}", model]
                        for rank, (genre, prob) in enumerate(p.top(top), start=1)]
    if segments:
        for i, seg in enumerate(p.segment_probabilities):
            k = int(np.argmax(seg))
            rows.append([p.path, i, f"{i * p.segment_seconds:.1f}", 1, p.genres[k], f"{seg[k]:.4f}", model])
        t, g = p.thumbnail, int(np.argmax(p.probabilities))  # the segment most sure of the track's genre
        rows.append([p.path, "thumbnail", f"{t * p.segment_seconds:.1f}", "", p.genres[g],
                     f"{p.segment_probabilities[t, g]:.4f}", model])
    return rows


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
