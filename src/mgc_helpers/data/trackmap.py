"""One cached, parallel map of a per-track function over a dataset's tracks.

The two pipelines that go through every clip of a dataset once, the MFCC segments
(:func:`mgc_helpers.data.features.extract_features`, ``06_dataset.ipynb``) and musicnn's embeddings
(:func:`mgc_helpers.beyond.musicnn_dataset.embed_dataset`, ``13_transfer.ipynb``), are both a
:class:`TrackFunction` (one audio file in, a few arrays with one row per segment or patch out) run
by :func:`cached_map`:

* **work in chunks** of :data:`CHUNK_SIZE` tracks, spread over processes with joblib (``loky``), or
  over the workers of the running ``dask.distributed`` Client (``backend="dask"``,
  :func:`require_dask_client`); ``n_jobs=1`` runs here. A function that asks for it
  (:attr:`TrackFunction.one_thread`) runs with its BLAS/OpenMP/numba pools limited to one thread,
  because several processes each running several threads on a 2-core machine make librosa several
  times slower;
* **bounded memory**: each finished chunk is written to a work folder and dropped, so at most a few
  chunks of audio exist at any time; the arrays are gathered at the end, one chunk at a time;
* **resume**: the chunk files of an interrupted run are kept in the work folder and reused;
* **bad input**: a file the function cannot use (it raises
  :class:`~mgc_helpers.signal.audio.AudioError`) comes back as a
  :class:`~mgc_helpers.core.records.Skipped` with the reason; the notes of the files it kept (short,
  silent...) come back as warnings;
* **progress**: a tqdm bar, per track;
* **cache**: the caller's result is stored as one ``.npz`` (a :class:`CacheFile`) whose key covers
  everything the result depends on; writes are atomic; a corrupt or stale file is rebuilt with a
  :class:`CacheWarning`.

Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np

from ..core.records import Skipped
from .segments import read_npz, string_array, write_npz

if TYPE_CHECKING:  # pragma: no cover
    from .datasets import Dataset

__all__ = [
    "BACKENDS",
    "CHUNK_SIZE",
    "CacheFile",
    "CacheWarning",
    "MapResult",
    "TrackFunction",
    "TrackMap",
    "TrackOutput",
    "cache_folder",
    "cached_map",
    "check_jobs",
    "map_tracks",
    "require_dask_client",
]

#: Parallel back ends accepted by :func:`map_tracks`.
BACKENDS: tuple[str, ...] = ("loky", "dask")

#: Tracks per chunk of work (fixed, so that an interrupted run can always be resumed).
CHUNK_SIZE = 8

#: Names a chunk file keeps for itself; a :class:`TrackFunction`'s columns must not use them.
_CHUNK_KEYS = ("number", "index", "counts", "skipped_index", "skipped_reason", "warning_index", "warning_reason")

T = TypeVar("T")


class MapResult(Protocol):
    """What :func:`cached_map` builds: a result that lists what was skipped and how it was made."""

    skipped: list[Skipped]
    info: dict[str, Any]


R = TypeVar("R", bound=MapResult)

#: What a :class:`TrackFunction` gives for one file: its arrays (by column) and its notes.
TrackOutput = tuple[dict[str, np.ndarray], list[str]]


class CacheWarning(UserWarning):
    """A cache file (MFCC features, musicnn embeddings) was unreadable or inconsistent and is being rebuilt."""


class TrackFunction(Protocol):
    """What :func:`map_tracks` runs on each track.

    ``function(path)`` gives, for one audio file, a dict of arrays, one per name of
    :attr:`columns`, each with the same number of rows (the track's segments or patches), and
    the notes worth reporting about a file it kept (short, silent...). It raises
    :class:`~mgc_helpers.signal.audio.AudioError` for a file it cannot use.

    ``for_workers()`` returns the function to send to other processes (with whatever this process
    computed once for them; it must pickle), and ``prepare()`` is called in a worker before each
    chunk of tracks (never when the tracks run here).
    """

    @property
    def name(self) -> str:
        """Short name, for the progress bar and the warnings (``"MFCC"``, ``"musicnn"``)."""
        ...

    @property
    def columns(self) -> Mapping[str, tuple[tuple[int, ...], type[np.generic]]]:
        """The arrays it gives: name -> (shape of one row, dtype)."""
        ...

    @property
    def one_thread(self) -> bool:
        """Run with BLAS/OpenMP/numba pools limited to one thread (here too), loky workers likewise."""
        ...

    def __call__(self, path: str) -> TrackOutput: ...

    def for_workers(self) -> TrackFunction: ...

    def prepare(self) -> None: ...


@dataclass
class TrackMap:
    """What :func:`map_tracks` gives: the rows of every track, in track order, and what went wrong.

    Attributes
    ----------
    columns : dict of str to np.ndarray
        For each of the function's columns, the rows of all tracks, one track after the other.
    counts : np.ndarray of int64, shape (n_tracks,)
        Rows of each track (0 for a skipped one).
    ok : np.ndarray of bool, shape (n_tracks,)
        Whether the function could use the track.
    skipped : list of Skipped
        The files it could not use, with the reason, in track order.
    warnings : list of Skipped
        The notes about the files it kept, in track order (one entry per note).
    chunks_reused : int
        Chunks found finished in the work folder (from an interrupted run).
    """

    columns: dict[str, np.ndarray]
    counts: np.ndarray
    ok: np.ndarray
    skipped: list[Skipped]
    warnings: list[Skipped]
    chunks_reused: int = 0


@dataclass(frozen=True)
class CacheFile(Generic[T]):
    """Where and how :func:`cached_map` keeps its result: one ``.npz``, checked by its key.

    Attributes
    ----------
    path : Path
        The file (``.npz``); its work folders (:meth:`work_folder`) lie beside it.
    key : str
        Hash of everything the result depends on, stored in the file as ``cache_key``; a file with
        another key is stale.
    read : callable
        ``read(arrays, path)``: the result from the arrays of the file; raises ValueError or
        KeyError for an inconsistent one.
    arrays : callable
        ``arrays(result)``: what to store of a result just built (``cache_key`` is added).
    compress : bool
        zlib-compress the file (see :func:`~mgc_helpers.data.segments.write_npz`).
    """

    path: Path
    key: str
    read: Callable[[dict[str, np.ndarray], Path], T]
    arrays: Callable[[T], dict[str, np.ndarray]]
    compress: bool = True

    def load(self) -> T:
        """The stored result; ValueError (or KeyError) for an unreadable, inconsistent or stale file."""
        arrays = read_npz(self.path)
        if str(arrays.get("cache_key", "")) != self.key:
            raise ValueError("its cache key does not match the dataset and settings")
        return self.read(arrays, self.path)

    def save(self, result: T) -> None:
        """Store ``result`` (atomically), then remove the work folders of this file."""
        write_npz(self.path, {**self.arrays(result), "cache_key": np.array(self.key)}, compress=self.compress)
        for work in self.path.parent.glob(f"{self.path.stem}.work-*"):  # every chunk size of this key
            shutil.rmtree(work, ignore_errors=True)

    def work_folder(self, chunk_size: int) -> Path:
        """Folder of the chunk files of a run with ``chunk_size`` tracks per chunk."""
        return self.path.with_name(f"{self.path.stem}.work-{chunk_size}")


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------

def check_jobs(n_jobs: int | None, *, chunk_size: int = CHUNK_SIZE, backend: str = "loky") -> int:
    """Check the options of :func:`map_tracks`; the number of worker processes to use.

    Parameters
    ----------
    n_jobs : int or None
        Worker processes; ``None`` means every CPU (``joblib.cpu_count()``), ``1`` runs here.
    chunk_size : int
        Tracks per unit of work.
    backend : {"loky", "dask"}

    Returns
    -------
    int
        ``n_jobs``, with ``None`` replaced by the number of CPUs.

    Raises
    ------
    ValueError
        For an unknown backend, or an ``n_jobs`` or ``chunk_size`` that is not a positive integer.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {list(BACKENDS)}")
    if n_jobs is None:
        from joblib import cpu_count

        n_jobs = max(1, cpu_count())
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer or None, got {n_jobs!r}")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return n_jobs


def require_dask_client() -> Any:
    """The running ``dask.distributed`` Client.

    Raises
    ------
    RuntimeError
        If dask.distributed is not installed or no Client is running; the message says how to
        start one.
    """
    try:
        from distributed import get_client
    except ImportError:
        raise RuntimeError("backend='dask' needs dask.distributed: pip install \"mgc-helpers[dask]\"") from None
    try:
        return get_client()
    except ValueError:
        raise RuntimeError("backend='dask' needs a running dask.distributed Client, e.g. "
                           "`from dask.distributed import Client; client = Client()` (a local cluster) or "
                           "`Client('tcp://scheduler:8786')`; the workers must see the audio files") from None


def cache_folder(cache_dir: str | os.PathLike | None, *, default: str) -> Path:
    """``cache_dir``, or the folder ``default`` in :func:`mgc_helpers.core.paths.cache_dir` when it is ``None``."""
    from ..core import paths

    return Path(cache_dir).expanduser() if cache_dir is not None else paths.cache_dir() / default


# --------------------------------------------------------------------------------------------
# Chunks of work
# --------------------------------------------------------------------------------------------

def _map_chunk(function: TrackFunction, number: int, items: list[tuple[int, str]], in_worker: bool) -> dict[str, Any]:
    """Worker: ``function`` on a few tracks, packed as the arrays of one chunk file."""
    from ..signal.audio import AudioError

    if in_worker:
        function.prepare()
    if function.one_thread:
        from threadpoolctl import threadpool_limits

        limits: Any = threadpool_limits(limits=1)
    else:
        limits = nullcontext()
    rows: dict[str, list[np.ndarray]] = {name: [] for name in function.columns}
    counts, skipped, notes = [], [], []
    with limits:
        for index, path in items:
            try:
                arrays, track_notes = function(path)
            except AudioError as exc:
                skipped.append((index, exc.reason))
                counts.append(0)
                continue
            sizes = {len(arrays[name]) for name in rows}
            if len(sizes) != 1:
                raise ValueError(f"{function.name} gave columns of different lengths for {path}")
            for name in rows:
                rows[name].append(arrays[name])
            counts.append(sizes.pop())
            notes += [(index, note) for note in track_notes]
    chunk: dict[str, Any] = {"number": number}
    for name, (shape, dtype) in function.columns.items():
        chunk[name] = (np.concatenate(rows[name]).astype(dtype, copy=False) if rows[name]
                       else np.zeros((0, *shape), dtype=dtype))
    chunk.update({
        "index": np.array([i for i, _ in items], dtype=np.int64),
        "counts": np.array(counts, dtype=np.int64),
        "skipped_index": np.array([i for i, _ in skipped], dtype=np.int64),
        "skipped_reason": string_array(r for _, r in skipped),
        "warning_index": np.array([i for i, _ in notes], dtype=np.int64),
        "warning_reason": string_array(r for _, r in notes),
    })
    return chunk


def _chunk_file(work: Path, number: int) -> Path:
    return work / f"chunk-{number:05d}.npz"


def _chunk_report(chunk: dict[str, Any]) -> dict[str, Any]:
    """What a chunk says besides its rows (kept in memory while the others run)."""
    return {k: chunk[k] for k in ("counts", "skipped_index", "skipped_reason", "warning_index", "warning_reason")}


def _load_chunk(path: Path, items: list[tuple[int, str]], function: TrackFunction) -> dict[str, Any] | None:
    """The report of a finished chunk from an earlier (interrupted) run, or ``None`` if absent or unusable."""
    if not path.is_file():
        return None
    try:
        chunk = read_npz(path)
        total = int(chunk["counts"].sum())
        ok = (np.array_equal(chunk["index"], [i for i, _ in items])
              and all(chunk[name].shape == (total, *shape) and chunk[name].dtype == np.dtype(dtype)
                      for name, (shape, dtype) in function.columns.items()))
        report = _chunk_report(chunk)
    except (ValueError, KeyError):
        ok = False
    if not ok:
        path.unlink(missing_ok=True)
        return None
    return report


def _run_chunks(function: TrackFunction, todo: list[tuple[int, list[tuple[int, str]]]], n_jobs: int,
                backend: str) -> Iterator[dict[str, Any]]:
    """Yield finished chunks as they complete (serially in this process when ``n_jobs == 1``)."""
    if not todo:
        return
    if backend == "loky" and n_jobs == 1:
        for number, items in todo:
            yield _map_chunk(function, number, items, False)
        return
    from joblib import Parallel, delayed, parallel_config

    if backend == "dask":
        require_dask_client()
        context = parallel_config(backend="dask")
        n_jobs_arg = -1
    elif function.one_thread:
        # loky starts fresh worker processes with these thread limits in their environment
        # (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS, NUMBA_NUM_THREADS, ...)
        context = parallel_config(backend="loky", inner_max_num_threads=1)
        n_jobs_arg = n_jobs
    else:
        context = parallel_config(backend="loky")
        n_jobs_arg = n_jobs
    shipped = function.for_workers()
    with context:
        tasks = (delayed(_map_chunk)(shipped, number, items, True) for number, items in todo)
        yield from Parallel(n_jobs=n_jobs_arg, return_as="generator_unordered",
                            pre_dispatch="2*n_jobs")(tasks)


# --------------------------------------------------------------------------------------------
# The map
# --------------------------------------------------------------------------------------------

def map_tracks(function: TrackFunction, paths: Sequence[str | os.PathLike], *, work: Path | None = None,
               n_jobs: int | None = 1, backend: str = "loky", chunk_size: int = CHUNK_SIZE,
               progress: bool = False) -> TrackMap:
    """``function`` on every file of ``paths``: parallel, resumable, in bounded memory.

    Parameters
    ----------
    function : TrackFunction
        What to compute for each file.
    paths : sequence of path-like
        The audio files (a dataset's tracks), in the order of the result.
    work : Path or None
        Folder of the chunk files: each finished chunk is written there, and the chunks found
        there (from an interrupted run with the same files and ``chunk_size``) are reused;
        ``None`` keeps the chunks in memory.
    n_jobs : int or None
        Worker processes; ``None`` uses every CPU, ``1`` runs in this process.
    backend : {"loky", "dask"}
        ``"dask"`` sends the chunks to the workers of the running ``dask.distributed`` Client
        (they must see the audio files; results come back to this process).
    chunk_size : int
        Tracks per unit of work; keep it fixed to be able to resume an interrupted run.
    progress : bool
        Show a tqdm progress bar (per track).

    Returns
    -------
    TrackMap

    Raises
    ------
    ValueError
        For bad options, or a chunk file that vanished before it was gathered (another run on
        the same work folder finished first).
    RuntimeError
        For ``backend="dask"`` without a running Client.
    """
    n_jobs = check_jobs(n_jobs, chunk_size=chunk_size, backend=backend)
    clash = sorted(set(function.columns) & set(_CHUNK_KEYS))
    if clash or not function.columns:
        raise ValueError(f"{function.name} must give at least one column, none named {list(_CHUNK_KEYS)}")
    items = list(enumerate(str(p) for p in paths))
    chunks = [items[i: i + chunk_size] for i in range(0, len(items), chunk_size)]
    done: dict[int, dict[str, Any]] = {}
    if work is not None:
        work.mkdir(parents=True, exist_ok=True)
        for number, items in enumerate(chunks):
            report = _load_chunk(_chunk_file(work, number), items, function)
            if report is not None:
                done[number] = report
    reused = len(done)
    todo = [(number, items) for number, items in enumerate(chunks) if number not in done]

    from tqdm import tqdm

    in_memory: dict[int, dict[str, np.ndarray]] = {}
    with tqdm(total=len(paths), initial=sum(len(chunks[c]) for c in done), unit="track",
              desc=function.name, disable=not progress) as bar:
        for chunk in _run_chunks(function, todo, min(n_jobs, max(1, len(todo))), backend):
            number = int(chunk.pop("number"))
            if work is not None:
                write_npz(_chunk_file(work, number), chunk, compress=False)
            else:
                in_memory[number] = {name: chunk[name] for name in function.columns}
            done[number] = _chunk_report(chunk)
            bar.update(len(chunks[number]))
    return _gather(function, paths, len(chunks), done, work, in_memory, reused)


def _gather(function: TrackFunction, paths: Sequence[str | os.PathLike], n_chunks: int,
            done: dict[int, dict[str, Any]], work: Path | None, in_memory: dict[int, dict[str, np.ndarray]],
            reused: int) -> TrackMap:
    """The chunks, in track order, as one TrackMap (one chunk in memory at a time)."""
    counts = np.concatenate([done[c]["counts"] for c in range(n_chunks)] or [np.zeros(0, np.int64)])
    total = int(counts.sum())
    columns = {name: np.empty((total, *shape), dtype=dtype) for name, (shape, dtype) in function.columns.items()}
    row = 0
    for number in range(n_chunks):
        arrays = in_memory.pop(number) if work is None else read_npz(_chunk_file(work, number))
        size = int(done[number]["counts"].sum())
        for name, column in columns.items():
            block = arrays[name]
            if len(block) != size:
                raise RuntimeError(f"{function.name} chunk {number} holds {len(block)} rows, expected {size}; "
                                   f"delete {work} and re-run")
            column[row: row + size] = block
        row += size
    ok = np.ones(len(paths), dtype=bool)

    def entries(kind: str) -> list[Skipped]:
        out = []
        for c in range(n_chunks):
            for i, reason in zip(done[c][f"{kind}_index"].tolist(), done[c][f"{kind}_reason"].tolist(), strict=False):
                if kind == "skipped":
                    ok[i] = False
                out.append(Skipped(Path(paths[i]), reason))
        return out

    skipped = entries("skipped")
    return TrackMap(columns, counts, ok, skipped, entries("warning"), reused)


def cached_map(function: TrackFunction, dataset: Dataset, build: Callable[[TrackMap], R], *,
               cache: CacheFile[R] | None, n_jobs: int | None = 1, backend: str = "loky",
               chunk_size: int = CHUNK_SIZE, progress: bool = False) -> R:
    """``build(map_tracks(function, dataset's tracks))``, kept in a cache file and resumable.

    A cache file with the right key is read instead of computing anything; an unusable one is
    deleted and rebuilt with a :class:`CacheWarning`. Otherwise the chunks go through the work
    folder beside the cache file (:meth:`CacheFile.work_folder`), so that an interrupted run
    resumes; the result is stored and the work folder removed.

    Parameters
    ----------
    function : TrackFunction
        What to compute for each file.
    dataset : Dataset
        Its tracks are the audio files, in the order of the result.
    build : callable
        ``build(track_map)``: the result from the :class:`TrackMap`.
    cache : CacheFile or None
        Where the result is kept; ``None`` neither reads nor writes a cache (chunks stay in memory).
    n_jobs, backend, chunk_size, progress
        As for :func:`map_tracks`.

    Returns
    -------
    result
        As ``build`` or ``cache.read`` gives it, with ``skipped`` starting with the files the
        dataset could not read (then the tracks that failed here) and ``info``: ``cache``
        (``"hit"``, ``"miss"``, ``"resumed"``, ``"rebuilt"``, ``"off"``), ``cache_file``,
        ``chunks_reused``, ``seconds``, ``n_jobs``, ``backend``.

    Raises
    ------
    ValueError
        For a bad backend, ``n_jobs`` or ``chunk_size``, or a dataset with no tracks.
    RuntimeError
        For ``backend="dask"`` without a running Client.

    Warns
    -----
    CacheWarning
        When the cache file is unreadable or inconsistent; it is rebuilt.
    """
    start = time.perf_counter()
    n_jobs = check_jobs(n_jobs, chunk_size=chunk_size, backend=backend)
    if not dataset.tracks:
        raise ValueError(f"dataset in {dataset.root} has no usable tracks; {len(dataset.skipped)} skipped")
    paths = [t.path for t in dataset.tracks]

    def done(result: R, state: str, reused: int) -> R:
        result.skipped = list(dataset.skipped) + result.skipped
        result.info = {"cache": state, "cache_file": str(cache.path) if cache is not None else None,
                       "chunks_reused": reused, "seconds": time.perf_counter() - start, "n_jobs": n_jobs,
                       "backend": backend}
        return result

    state = "off" if cache is None else "miss"
    if cache is not None and cache.path.exists():
        try:
            return done(cache.load(), "hit", 0)
        except (ValueError, KeyError) as exc:
            warnings.warn(f"{function.name} cache {cache.path} is unusable ({exc}); rebuilding it",
                          CacheWarning, stacklevel=3)
            cache.path.unlink(missing_ok=True)
            state = "rebuilt"
    try:
        mapped = map_tracks(function, paths, work=cache.work_folder(chunk_size) if cache is not None else None,
                            n_jobs=n_jobs, backend=backend, chunk_size=chunk_size, progress=progress)
    except ValueError:
        # Another process computing the same result may have finished first and removed the
        # shared work folder; its result is then in the cache.
        if cache is None or not cache.path.exists():
            raise
        return done(cache.load(), state, 0)
    if mapped.chunks_reused and state == "miss":
        state = "resumed"
    result = build(mapped)
    if cache is not None:
        cache.save(result)
    return done(result, state, mapped.chunks_reused)
