"""Classify your own music: one prediction path, :func:`predict_paths`, for every model.

A song of any length, sample rate and channel count goes through the model's front end (for the
book's models: loaded as mono at the model's sample rate, cut into 3-second segments, turned into
MFCCs exactly as the training data were; for musicnn: its 3-s patches' tags or embedding), the
classifier gives each segment's genre probabilities, and their mean is the track's
(:mod:`mgc_helpers.predict.classifier`). Every option works for every model: worker processes or a
Dask cluster, a progress bar, streaming and resuming (:class:`~mgc_helpers.predict.report.StreamingWriter`).

Files that cannot be used (not audio, corrupt, NaN samples, too short) are reported with the
reason and counted, never dropped silently. Explained in ``11_predict.ipynb``.

Scale: a song is decoded block by block (:class:`~mgc_helpers.signal.audio.SegmentStream`), so a
recording of hours needs no more memory than a few minutes of audio; a folder of many songs is
spread over worker processes or a Dask cluster (the front end there, the classifier here, so the
answers are the same bits as a run in one process; a few files per worker ahead of the classifier,
so memory does not grow with the folder).
"""
from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Iterable, Sequence
from contextlib import closing
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.records import Skipped
from ..signal.audio import AUDIO_EXTENSIONS, AudioError
from .classifier import Classifier, Features, FrontEnd, as_classifier
from .report import PredictionReport, TrackPrediction

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Generator

    from ..models.model_files import TrainedModel

__all__ = ["BACKENDS", "WINDOW_PER_WORKER", "find_audio_files", "predict_file", "predict_paths"]

#: Where :func:`predict_paths` runs the front end besides this process.
BACKENDS: tuple[str, ...] = ("loky", "dask")


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


def _track(path: Path, features: Features, classifier: Classifier, *, batch_size: int) -> TrackPrediction:
    """The track's prediction: the mean of its segments' probabilities (renormalised to sum to 1)."""
    proba = np.asarray(classifier.predict_proba(features.X, batch_size=batch_size), dtype=np.float64)
    mean = proba.mean(axis=0)
    return TrackPrediction(path, tuple(classifier.genres), mean / mean.sum(), proba, features.duration,
                           list(features.notes), segment_seconds=classifier.front_end.segment_seconds,
                           tags=tuple(features.tags))


def predict_file(path: str | os.PathLike, model: Classifier | TrainedModel, *, batch_size: int = 64) -> TrackPrediction:
    """Classify one audio file.

    Parameters
    ----------
    path : path-like
        Any audio file libsndfile (or audioread) decodes; any sample rate, channels and a length the
        front end accepts (one 3-s segment for the book's models, 1 s for musicnn).
    model : Classifier or TrainedModel
        A :class:`~mgc_helpers.predict.classifier.Classifier`, or a trained model of the book (from
        :func:`mgc_helpers.models.model_files.load_model`), which is wrapped.
    batch_size : int
        Segments per forward pass.

    The song is decoded block by block, so memory does not grow with its length beyond its features
    and probabilities.

    Raises
    ------
    AudioError
        If the file cannot be decoded, holds NaN/inf samples, or is too short.
    """
    classifier = as_classifier(model)
    return _track(Path(path), classifier.front_end(path), classifier, batch_size=batch_size)


def _front_end_task(front_end: FrontEnd, path: str) -> tuple[str, Features | str]:
    """Worker: ``(path, features)``, or ``(path, reason)`` for an unusable file.

    The reason travels as text (an exception with extra fields does not survive pickling); BLAS and
    OpenMP pools are limited to one thread, since the workers already fill the cores.
    """
    from threadpoolctl import threadpool_limits

    front_end.prepare()
    with threadpool_limits(limits=1):
        try:
            return path, front_end(path)
        except AudioError as exc:
            return path, exc.reason


#: Files whose features may be under way or waiting, per worker, ahead of the classifier (:func:`_features`).
WINDOW_PER_WORKER = 4

#: Thread pools a worker process starts with one thread (it also runs under ``threadpool_limits(1)``).
_ONE_THREAD_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                          "BLIS_NUM_THREADS", "NUMBA_NUM_THREADS", "NUMEXPR_NUM_THREADS")}


def _features(files: list[Path], front_end: FrontEnd, *, n_jobs: int,
              backend: str) -> Generator[tuple[str, Features | str]]:
    """:func:`_front_end_task` of every file, in the order given: here, in local processes or on Dask.

    Elsewhere than here, at most ``WINDOW_PER_WORKER`` files per worker are handed out ahead of the
    one the classifier waits for: results that ran ahead would pile up in memory (over a music
    library, gigabytes). When the caller stops early (an error, or Ctrl-C), the files not started
    are cancelled and the few under way finish on their own (killing the workers under way made
    loky's manager thread print a traceback).
    """
    if backend == "loky" and n_jobs == 1:
        for path in files:
            try:
                yield str(path), front_end(path)
            except AudioError as exc:
                yield str(path), exc.reason
        return
    shipped = front_end.for_workers()
    if backend == "dask":
        from ..data.trackmap import require_dask_client

        client = require_dask_client()
        workers = max(1, sum(client.nthreads().values()))
        yield from _in_order(lambda path: client.submit(_front_end_task, shipped, str(path), pure=False), files,
                             window=WINDOW_PER_WORKER * workers)
        return
    # A pool of its own, not loky's reusable one: joblib expects that one to be made by joblib
    from joblib.externals.loky import ProcessPoolExecutor

    executor = ProcessPoolExecutor(max_workers=n_jobs, env=_ONE_THREAD_ENV)
    try:
        yield from _in_order(lambda path: executor.submit(_front_end_task, shipped, str(path)), files,
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


def predict_paths(paths: Sequence[str | os.PathLike], model: Classifier | TrainedModel, *, progress: bool = False,
                  n_jobs: int = 1, backend: str = "loky", done: Iterable[str | os.PathLike] = (),
                  on_result: Callable[[TrackPrediction | Skipped], None] | None = None,
                  batch_size: int = 64) -> PredictionReport:
    """Classify every audio file among ``paths`` (files or folders); report what was not usable.

    Parameters
    ----------
    paths : sequence of path-like
        Files and folders (searched recursively, see :func:`find_audio_files`).
    model : Classifier or TrainedModel
        A :class:`~mgc_helpers.predict.classifier.Classifier` (its front end runs where ``n_jobs``
        and ``backend`` say, its classifier here), or a trained model of the book (from
        :func:`mgc_helpers.models.model_files.load_model`), which is wrapped.
    progress : bool
        A tqdm bar on stderr (files, with seconds of audio per second in the postfix).
    n_jobs : int
        Worker processes that run the front end: decoding, MFCCs or musicnn (``1``: all in this process).
    backend : {"loky", "dask"}
        ``"dask"`` sends the files to the workers of the running ``dask.distributed`` Client (they
        must see the files). Either way the classifier runs here on the same features, in the same
        order, so the answers are bit for bit those of a run in one process.
    done : iterable of path-like
        Files already classified (a resumed run): not redone, listed in ``already_done``.
    on_result : callable or None
        Called with each file's :class:`TrackPrediction` or :class:`Skipped` as soon as it is known,
        in file order (e.g. :meth:`~mgc_helpers.predict.report.StreamingWriter.write`).
    batch_size : int
        Segments per forward pass of the classifier.

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
    classifier = as_classifier(model)
    files, skipped, ignored = find_audio_files(paths)
    finished = {str(Path(p)) for p in done}
    already = [f for f in files if str(f) in finished]
    files = [f for f in files if str(f) not in finished]
    report = PredictionReport([], skipped, ignored, model=classifier.name, trained_on=classifier.describe(),
                              caveat=classifier.caveat(), already_done=already)
    if on_result is not None:
        for s in skipped:
            on_result(s)
    from tqdm import tqdm

    bar = tqdm(total=len(files), desc="predict", unit="file", disable=not progress or len(files) < 2,
               file=sys.stderr)
    jobs = min(n_jobs, max(1, len(files)))
    # closing: an interruption cancels the files not started at once, not when its traceback is dropped
    with bar, closing(_features(files, classifier.front_end, n_jobs=jobs, backend=backend)) as results:
        for name, features in results:
            item: TrackPrediction | Skipped
            if isinstance(features, str):
                item = Skipped(Path(name), features)
                report.skipped.append(item)
            else:
                item = _track(Path(name), features, classifier, batch_size=batch_size)
                report.predictions.append(item)
                report.audio_seconds += features.duration
            if on_result is not None:
                on_result(item)
            bar.update(1)
            bar.set_postfix_str(f"{report.audio_seconds / max(bar.format_dict['elapsed'], 1e-9):,.0f} s audio/s",
                                refresh=False)
    return report
