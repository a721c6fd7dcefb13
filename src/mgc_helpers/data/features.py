"""From a dataset of clips to the paper's MFCC segments: cached, resumable, parallel.

Each clip is loaded once (mono, 22050 Hz), cut into ``config.n_segments`` segments by
:func:`mgc_helpers.signal.audio.segment_signal` and turned into one ``(frames, n_mfcc)`` = ``(130, 13)``
MFCC matrix per segment by :func:`mgc_helpers.signal.mfcc_fast.mfcc_segments` (:func:`extract_track`).

:func:`extract_features` runs this over a whole :class:`~mgc_helpers.data.datasets.Dataset`:

* **work in chunks** of tracks, spread over processes with joblib (``loky``), or over a Dask
  cluster (``backend="dask"``); each worker's BLAS/OpenMP/numba thread pools are limited to one
  thread, because several processes each running several threads on a 2-core machine make librosa
  several times slower;
* **bounded memory**: each finished chunk is written to a work folder and dropped, so at most a few
  chunks of audio exist at any time; only the (40 times smaller) MFCCs are gathered at the end;
* **cache**: the result is stored as a compressed ``.npz`` whose key covers the feature settings
  (:meth:`~mgc_helpers.core.config.FeatureConfig.fingerprint`), the pipeline version and every file's
  path, size and modification time, so a changed setting or file never reuses stale features;
  writes are atomic (temporary file + ``os.replace``); a corrupt cache file is rebuilt with a warning;
* **resume**: the chunks of an interrupted run are kept in the work folder and reused;
* **report**: unreadable clips, NaN/inf audio and clips too short for one segment become
  :class:`~mgc_helpers.core.records.Skipped` entries; clips with fewer segments than expected, and
  silent clips (which still give finite features), are listed in
  :attr:`~mgc_helpers.data.segments.SegmentSet.warnings`.

Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.config import PAPER_CONFIG, FeatureConfig, label_mapping
from ..signal.mfcc_fast import filters, install_filters, mfcc_segments, reuse_freed_memory
from ..core.records import Skipped
from .segments import SegmentSet, _read_npz, _strings, _write_npz

if TYPE_CHECKING:  # pragma: no cover
    from .datasets import Dataset

__all__ = [
    "BACKENDS",
    "PIPELINE_VERSION",
    "SILENCE_THRESHOLD",
    "CacheWarning",
    "cache_key",
    "extract_features",
    "extract_track",
    "feature_cache_path",
]

#: Bumped whenever a change in this module changes the features; part of every cache key.
PIPELINE_VERSION = 1

#: Parallel back ends accepted by :func:`extract_features`.
BACKENDS: tuple[str, ...] = ("loky", "dask")

#: A clip whose peak amplitude is below this is reported as silent (its features are still kept).
SILENCE_THRESHOLD = 1e-4

#: Tracks per chunk of work (fixed, so that an interrupted run can always be resumed).
CHUNK_SIZE = 8


class CacheWarning(UserWarning):
    """A feature cache file was unreadable or inconsistent and is being rebuilt."""


def extract_track(path: str | os.PathLike, *, config: FeatureConfig = PAPER_CONFIG) -> tuple[np.ndarray, list[str]]:
    """Load one clip and compute the MFCCs of its segments.

    Parameters
    ----------
    path : path-like
        Audio file.
    config : FeatureConfig
        Feature settings.

    Returns
    -------
    mfcc : np.ndarray, float32, shape (k, frames, n_mfcc)
        ``k = config.n_segments`` for a full clip, fewer for a short one.
    notes : list of str
        Warnings worth reporting: fewer segments than expected, silence.

    Raises
    ------
    AudioError
        If the clip cannot be decoded, holds NaN/inf samples, is too short for a single segment,
        or gives non-finite features.
    """
    from ..signal.audio import AudioError, load_audio, segment_signal

    # Read a little more than needed (padding tolerance) but never a whole long recording.
    y, sr = load_audio(path, sr=config.sample_rate, mono=True, duration=config.track_duration + 1.0)
    segments = segment_signal(y, config=config)
    seconds = len(y) / sr
    if len(segments) == 0:
        raise AudioError(path, f"too short ({seconds:.2f} s): not one full {config.segment_duration:g}-s segment")
    notes = []
    if len(segments) < config.n_segments:
        notes.append(f"short clip ({seconds:.2f} s): {len(segments)} of {config.n_segments} segments")
    peak = float(np.max(np.abs(y)))
    if peak < SILENCE_THRESHOLD:
        notes.append(f"silent clip (peak amplitude {peak:.1e}); features kept")
    mfcc = mfcc_segments(segments, config=config)
    if not np.all(np.isfinite(mfcc)):
        raise AudioError(path, "non-finite MFCC values")
    return mfcc, notes


# --------------------------------------------------------------------------------------------
# Chunks of work
# --------------------------------------------------------------------------------------------

def _extract_chunk(number: int, items: list[tuple[int, str]], config: FeatureConfig,
                   bank: tuple[Any, np.ndarray] | None = None) -> dict[str, Any]:
    """Worker: MFCCs of a few tracks, with BLAS/OpenMP threads limited to one.

    ``bank`` is the parent's :func:`~mgc_helpers.signal.mfcc_fast.filters`, so the worker need not import librosa.
    """
    from threadpoolctl import threadpool_limits

    from ..signal.audio import AudioError

    if bank is not None:  # a worker process
        install_filters(config, bank)
        reuse_freed_memory()

    blocks, counts, skipped, notes = [], [], [], []
    with threadpool_limits(limits=1):
        for index, path in items:
            try:
                mfcc, track_notes = extract_track(path, config=config)
            except AudioError as exc:
                skipped.append((index, exc.reason))
                counts.append(0)
                continue
            blocks.append(mfcc)
            counts.append(len(mfcc))
            notes += [(index, note) for note in track_notes]
    shape = (0, config.frames_per_segment, config.n_mfcc)
    return {
        "number": number,
        "X": np.concatenate(blocks) if blocks else np.zeros(shape, dtype=np.float32),
        "index": np.array([i for i, _ in items], dtype=np.int64),
        "counts": np.array(counts, dtype=np.int64),
        "skipped_index": np.array([i for i, _ in skipped], dtype=np.int64),
        "skipped_reason": _strings(r for _, r in skipped),
        "warning_index": np.array([i for i, _ in notes], dtype=np.int64),
        "warning_reason": _strings(r for _, r in notes),
    }


def _chunk_file(work: Path, number: int) -> Path:
    return work / f"chunk-{number:05d}.npz"


def _load_chunk(path: Path, items: list[tuple[int, str]], config: FeatureConfig) -> dict[str, Any] | None:
    """A finished chunk from an earlier (interrupted) run, or ``None`` if absent or unusable."""
    if not path.is_file():
        return None
    try:
        chunk = _read_npz(path)
        ok = (np.array_equal(chunk["index"], [i for i, _ in items])
              and chunk["X"].shape[1:] == config.segment_shape
              and int(chunk["counts"].sum()) == len(chunk["X"]))
    except (ValueError, KeyError):
        ok = False
    if not ok:
        path.unlink(missing_ok=True)
        return None
    return chunk


def _run_chunks(todo: list[tuple[int, list[tuple[int, str]]]], config: FeatureConfig, n_jobs: int,
                backend: str) -> Iterable[dict[str, Any]]:
    """Yield finished chunks as they complete (serially in this process when ``n_jobs == 1``)."""
    if not todo:
        return
    if backend == "loky" and n_jobs == 1:
        for number, items in todo:
            yield _extract_chunk(number, items, config)
        return
    from joblib import Parallel, delayed, parallel_config

    if backend == "dask":
        _require_dask_client()
        context = parallel_config(backend="dask")
        n_jobs_arg = -1
    else:
        # loky starts fresh worker processes with these thread limits in their environment
        # (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS, NUMBA_NUM_THREADS, ...)
        context = parallel_config(backend="loky", inner_max_num_threads=1)
        n_jobs_arg = n_jobs
    bank = filters(config)
    with context:
        tasks = (delayed(_extract_chunk)(number, items, config, bank) for number, items in todo)
        yield from Parallel(n_jobs=n_jobs_arg, return_as="generator_unordered",
                            pre_dispatch="2*n_jobs")(tasks)


def _require_dask_client() -> Any:
    """The running ``dask.distributed`` Client; a RuntimeError that says how to start one if there is none."""
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


# --------------------------------------------------------------------------------------------
# Cache keys
# --------------------------------------------------------------------------------------------

def cache_key(dataset: Dataset, config: FeatureConfig = PAPER_CONFIG) -> str:
    """Hash of everything the features depend on.

    Covers the pipeline version, ``config.fingerprint()``, the dataset name and genres, and for
    every track its id, genre, artist, path (relative to the dataset root), size and
    modification time. Any change gives a new key, so stale features are never reused.
    """
    entries = []
    for t in dataset.tracks:
        try:
            stat = os.stat(t.path)
        except FileNotFoundError:
            raise FileNotFoundError(f"{t.path}: listed when the dataset was loaded but missing now; "
                                    "load the dataset again") from None
        try:
            rel = str(Path(t.path).relative_to(dataset.root))
        except ValueError:
            rel = str(t.path)
        entries.append([t.track_id, t.genre, t.artist, rel, stat.st_size, stat.st_mtime_ns])
    blob = json.dumps({"pipeline": PIPELINE_VERSION, "config": config.fingerprint(), "name": dataset.name,
                       "genres": list(dataset.genres), "tracks": entries}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def feature_cache_path(dataset: Dataset, *, config: FeatureConfig = PAPER_CONFIG,
                       cache_dir: str | os.PathLike | None = None) -> Path:
    """Where :func:`extract_features` keeps (or will keep) the features of ``dataset``."""
    folder = _cache_folder(cache_dir)
    return folder / f"{dataset.name}-{dataset.root.name}-{cache_key(dataset, config)[:20]}.npz"


def _cache_folder(cache_dir: str | os.PathLike | None) -> Path:
    from ..core import paths

    return Path(cache_dir).expanduser() if cache_dir is not None else paths.cache_dir() / "features"


def _read_cache(path: Path, key: str) -> SegmentSet:
    arrays = _read_npz(path)
    if str(arrays.get("cache_key", "")) != key:
        raise ValueError("its cache key does not match the dataset and settings")
    return SegmentSet._from_arrays(arrays, path)


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------

def _default_jobs() -> int:
    from joblib import cpu_count

    return max(1, cpu_count())


def extract_features(dataset: Dataset, *, config: FeatureConfig = PAPER_CONFIG,
                     cache_dir: str | os.PathLike | None = None, n_jobs: int | None = None,
                     backend: str = "loky", progress: bool = False, cache: bool = True,
                     chunk_size: int = CHUNK_SIZE) -> SegmentSet:
    """MFCC segments of every track of a dataset: cached, resumable and parallel.

    Parameters
    ----------
    dataset : Dataset
        From :func:`~mgc_helpers.data.datasets.load_dataset` or :func:`~mgc_helpers.data.datasets.prepare_dataset`.
    config : FeatureConfig
        Feature settings (the paper's by default).
    cache_dir : path-like or None
        Folder of the cache; ``None`` means ``features/`` in :func:`mgc_helpers.core.paths.cache_dir`
        (never inside the dataset folder).
    n_jobs : int or None
        Worker processes; ``None`` uses every CPU, ``1`` runs in this process.
    backend : {"loky", "dask"}
        ``"dask"`` sends the chunks to the workers of the running ``dask.distributed`` Client
        (they must see the audio files; results come back to this process, which writes the cache).
    progress : bool
        Show a tqdm progress bar (per track).
    cache : bool
        ``False`` neither reads nor writes the cache (chunks are kept in memory).
    chunk_size : int
        Tracks per unit of work; keep the default to be able to resume an interrupted run.

    Returns
    -------
    SegmentSet
        Segments in track order, then segment order; ``skipped`` holds the dataset's unreadable files
        and the clips that failed here; ``warnings`` short and silent clips; ``info`` says whether
        the cache was used (``"hit"``, ``"miss"``, ``"resumed"``, ``"rebuilt"``, ``"off"``), how many
        chunks were reused and how many seconds it took.

    Raises
    ------
    ValueError
        For a bad backend, ``n_jobs`` or ``chunk_size``, or a dataset with no tracks.
    RuntimeError
        For ``backend="dask"`` without a running Client.

    Warns
    -----
    CacheWarning
        When a cache file is unreadable or inconsistent; it is rebuilt.

    Explained in ``06_dataset.ipynb``.
    """
    start = time.perf_counter()
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {list(BACKENDS)}")
    if n_jobs is None:
        n_jobs = _default_jobs()
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer or None, got {n_jobs!r}")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    tracks = dataset.tracks
    if not tracks:
        raise ValueError(f"dataset in {dataset.root} has no usable tracks; {len(dataset.skipped)} skipped")

    key = cache_key(dataset, config)
    final = _cache_folder(cache_dir) / f"{dataset.name}-{dataset.root.name}-{key[:20]}.npz"
    state = "off" if not cache else "miss"
    if cache and final.exists():
        try:
            result = _read_cache(final, key)
        except ValueError as exc:
            warnings.warn(f"feature cache {final} is unusable ({exc}); rebuilding it", CacheWarning, stacklevel=2)
            final.unlink(missing_ok=True)
            state = "rebuilt"
        else:
            result.skipped = list(dataset.skipped) + result.skipped
            result.info = {"cache": "hit", "cache_file": str(final), "chunks_reused": 0,
                           "seconds": time.perf_counter() - start, "n_jobs": n_jobs, "backend": backend}
            return result

    chunks = [list(enumerate(str(t.path) for t in tracks))[i: i + chunk_size]
              for i in range(0, len(tracks), chunk_size)]
    work = final.with_name(f"{final.stem}.work-{chunk_size}") if cache else None
    done: dict[int, dict[str, Any]] = {}
    if work is not None:
        work.mkdir(parents=True, exist_ok=True)
        for number, items in enumerate(chunks):
            chunk = _load_chunk(_chunk_file(work, number), items, config)
            if chunk is not None:
                done[number] = {k: chunk[k] for k in ("counts", "skipped_index", "skipped_reason",
                                                      "warning_index", "warning_reason")}
    reused = len(done)
    if reused and state == "miss":
        state = "resumed"
    todo = [(number, items) for number, items in enumerate(chunks) if number not in done]

    from tqdm import tqdm

    in_memory: dict[int, np.ndarray] = {}
    with tqdm(total=len(tracks), initial=sum(len(chunks[c]) for c in done), unit="track",
              desc="MFCC", disable=not progress) as bar:
        for chunk in _run_chunks(todo, config, min(n_jobs, max(1, len(todo))), backend):
            number = int(chunk.pop("number"))
            if work is not None:
                _write_npz(_chunk_file(work, number), chunk, compress=False)
            else:
                in_memory[number] = chunk["X"]
            done[number] = {k: chunk[k] for k in ("counts", "skipped_index", "skipped_reason",
                                                  "warning_index", "warning_reason")}
            bar.update(len(chunks[number]))

    try:
        result = _merge(dataset, config, chunks, done, work, in_memory)
    except ValueError:
        # Another process extracting the same features may have finished first and removed the
        # shared work folder; its result is then in the cache.
        if work is None or not final.exists():
            raise
        result = _read_cache(final, key)
        work = None
    if work is not None:
        # float32 MFCCs barely compress (7 %), and zlib would cost ~2.5 s per GTZAN-sized set
        _write_npz(final, {**result._arrays(), "cache_key": np.array(key)}, compress=False)
        shutil.rmtree(work, ignore_errors=True)
        for stale in final.parent.glob(f"{final.stem}.work-*"):  # other chunk sizes of this key
            shutil.rmtree(stale, ignore_errors=True)
    result.skipped = list(dataset.skipped) + result.skipped
    result.info = {"cache": state, "cache_file": str(final) if cache else None, "chunks_reused": reused,
                   "seconds": time.perf_counter() - start, "n_jobs": n_jobs, "backend": backend}
    return result


def _merge(dataset: Dataset, config: FeatureConfig, chunks: list[list[tuple[int, str]]],
           done: dict[int, dict[str, Any]], work: Path | None, in_memory: dict[int, np.ndarray]) -> SegmentSet:
    """Gather the chunks, in track order, into one SegmentSet (one chunk in memory at a time)."""
    tracks = dataset.tracks
    counts = np.concatenate([done[c]["counts"] for c in range(len(chunks))])
    total = int(counts.sum())
    X = np.empty((total, *config.segment_shape), dtype=np.float32)
    row = 0
    for number in range(len(chunks)):
        block = in_memory.pop(number) if work is None else _read_npz(_chunk_file(work, number))["X"]
        X[row: row + len(block)] = block
        row += len(block)
    if row != total:
        raise RuntimeError(f"feature chunks hold {row} segments, expected {total}; delete {work} and re-run")
    mapping = label_mapping(dataset.genres)
    per_track = np.repeat(np.arange(len(tracks)), counts)
    track_ids = _strings(t.track_id for t in tracks)
    groups = _strings((t.artist if t.artist is not None else t.track_id) for t in tracks)
    labels = np.array([mapping[t.genre] for t in tracks], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    segment = np.arange(total) - np.repeat(starts, counts)

    def entries(kind: str) -> list[Skipped]:
        out = []
        for c in range(len(chunks)):
            for i, reason in zip(done[c][f"{kind}_index"].tolist(), done[c][f"{kind}_reason"].tolist(), strict=False):
                out.append(Skipped(tracks[i].path, reason))
        return out

    return SegmentSet(X, labels[per_track], track_ids[per_track], groups[per_track], segment, dataset.genres, config,
                      entries("skipped"), entries("warning"), dataset.name)
