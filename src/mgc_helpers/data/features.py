"""From a dataset of clips to the paper's MFCC segments: cached, resumable, parallel.

Each clip is loaded once (mono, 22050 Hz), cut into ``config.n_segments`` segments by
:func:`mgc_helpers.signal.audio.segment_signal` and turned into one ``(frames, n_mfcc)`` = ``(130, 13)``
MFCC matrix per segment by :func:`mgc_helpers.signal.mfcc_fast.mfcc_segments` (:func:`extract_track`).

:func:`extract_features` runs this over a whole :class:`~mgc_helpers.data.datasets.Dataset` with
:func:`mgc_helpers.data.trackmap.cached_map`, which holds the machinery:

* **work in chunks** of tracks, spread over processes with joblib (``loky``), or over a Dask
  cluster (``backend="dask"``); each worker's BLAS/OpenMP/numba thread pools are limited to one
  thread, and the workers get the mel filter bank from the parent instead of importing librosa;
* **bounded memory**: each finished chunk is written to a work folder and dropped, so at most a few
  chunks of audio exist at any time; only the (40 times smaller) MFCCs are gathered at the end;
* **cache**: the result is stored as an ``.npz`` whose key (:func:`cache_key`) covers the feature
  settings (:meth:`~mgc_helpers.core.config.FeatureConfig.fingerprint`), the pipeline version and
  every file's path, size and modification time, so a changed setting or file never reuses stale
  features; writes are atomic; a corrupt cache file is rebuilt with a
  :class:`~mgc_helpers.data.trackmap.CacheWarning`;
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
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.config import PAPER_CONFIG, FeatureConfig, label_mapping
from ..signal.mfcc_fast import filters, install_filters, mfcc_segments, reuse_freed_memory
from .segments import SegmentSet, string_array
from .trackmap import CHUNK_SIZE, CacheFile, TrackMap, TrackOutput, cache_folder, cached_map

if TYPE_CHECKING:  # pragma: no cover
    from .datasets import Dataset

__all__ = [
    "PIPELINE_VERSION",
    "SILENCE_THRESHOLD",
    "cache_key",
    "extract_features",
    "extract_track",
    "feature_cache_path",
]

#: Bumped whenever a change in this module changes the features; part of every cache key.
PIPELINE_VERSION = 1

#: A clip whose peak amplitude is below this is reported as silent (its features are still kept).
SILENCE_THRESHOLD = 1e-4


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
# The per-track function
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _TrackMfcc:
    """:func:`extract_track` as a :class:`~mgc_helpers.data.trackmap.TrackFunction`: one row per segment.

    ``bank`` is the parent's :func:`~mgc_helpers.signal.mfcc_fast.filters`, handed to the workers so
    that they need not import librosa.
    """

    config: FeatureConfig
    bank: tuple[Any, np.ndarray] | None = None

    name = "MFCC"
    one_thread = True

    @property
    def columns(self) -> dict[str, tuple[tuple[int, ...], type[np.generic]]]:
        return {"X": (self.config.segment_shape, np.float32)}

    def __call__(self, path: str) -> TrackOutput:
        mfcc, notes = extract_track(path, config=self.config)
        return {"X": mfcc}, notes

    def for_workers(self) -> _TrackMfcc:
        return replace(self, bank=filters(self.config))

    def prepare(self) -> None:
        if self.bank is not None:
            install_filters(self.config, self.bank)
            reuse_freed_memory()


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
    return _cache_path(dataset, cache_dir, cache_key(dataset, config))


def _cache_path(dataset: Dataset, cache_dir: str | os.PathLike | None, key: str) -> Path:
    return cache_folder(cache_dir, default="features") / f"{dataset.name}-{dataset.root.name}-{key[:20]}.npz"


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------

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
    mgc_helpers.data.trackmap.CacheWarning
        When a cache file is unreadable or inconsistent; it is rebuilt.

    Explained in ``06_dataset.ipynb``.
    """
    key = cache_key(dataset, config)
    # float32 MFCCs barely compress (7 %), and zlib would cost ~2.5 s per GTZAN-sized set: compress=False
    store = CacheFile(_cache_path(dataset, cache_dir, key), key, read=SegmentSet._from_arrays,
                      arrays=SegmentSet._arrays, compress=False) if cache else None
    return cached_map(_TrackMfcc(config), dataset, partial(_segment_set, dataset, config), cache=store,
                      n_jobs=n_jobs, backend=backend, chunk_size=chunk_size, progress=progress)


def _segment_set(dataset: Dataset, config: FeatureConfig, mapped: TrackMap) -> SegmentSet:
    """The MFCCs of every track (from :func:`~mgc_helpers.data.trackmap.map_tracks`) as one SegmentSet."""
    tracks = dataset.tracks
    counts = mapped.counts
    total = int(counts.sum())
    mapping = label_mapping(dataset.genres)
    per_track = np.repeat(np.arange(len(tracks)), counts)
    track_ids = string_array(t.track_id for t in tracks)
    groups = string_array((t.artist if t.artist is not None else t.track_id) for t in tracks)
    labels = np.array([mapping[t.genre] for t in tracks], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    segment = np.arange(total) - np.repeat(starts, counts)
    return SegmentSet(mapped.columns["X"], labels[per_track], track_ids[per_track], groups[per_track], segment,
                      dataset.genres, config, mapped.skipped, mapped.warnings, dataset.name)
