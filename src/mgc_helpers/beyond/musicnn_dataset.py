"""musicnn's embeddings and tags of a whole dataset: parallel, cached, resumable.

:func:`embed_dataset` runs :func:`mgc_helpers.beyond.musicnn.analyse_file` on every track of a
:class:`~mgc_helpers.data.datasets.Dataset` through the same cached, parallel per-track map as the
MFCC pipeline (:func:`mgc_helpers.data.trackmap.cached_map`): chunks of tracks in worker processes
(each runs TensorFlow on one thread) or on a Dask cluster, chunk files that let an interrupted run
resume, one ``.npz`` cache named after :func:`embedding_cache_key`, and the same bad-input handling:
unusable files are reported with the reason, silent and short clips are kept with a warning. The
result, :class:`DatasetEmbeddings`, holds the mean embedding and tags of each track and those of
every 3-s patch (for the segment-level transfer of :mod:`mgc_helpers.beyond.transfer`).

Explained in ``13_transfer.ipynb``; used again in ``14_retrieval.ipynb``.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.config import label_mapping
from ..core.records import Skipped
from ..data.features import cache_key
from ..data.segments import string_array
from ..data.trackmap import CHUNK_SIZE, CacheFile, TrackMap, TrackOutput, cache_folder, cached_map
from .musicnn import EMBEDDING_SIZE, MSD_TAGS, PIPELINE_VERSION, MusicnnOutput, analyse_file, weights_sha256

if TYPE_CHECKING:  # pragma: no cover
    from ..data.datasets import Dataset

__all__ = ["DatasetEmbeddings", "embed_dataset", "embedding_cache_key"]


@dataclass
class DatasetEmbeddings:
    """musicnn embeddings and tags of every usable track of a dataset, in track order.

    Attributes
    ----------
    X : np.ndarray, shape (n_tracks, 200), float32
        Mean penultimate layer of each track.
    tags : np.ndarray, shape (n_tracks, 50), float32
        Mean tag probabilities of each track.
    y : np.ndarray, shape (n_tracks,)
        Integer labels (index into ``genres``, sorted names).
    track : np.ndarray of str
        Track ids.
    group : np.ndarray of str
        Artist where known, else the track id (for grouped splits).
    genres : tuple of str
    skipped : list of Skipped
        The dataset's unreadable files and the tracks that failed here, with reasons.
    info : dict
        How it was obtained: ``cache`` (``"hit"``, ``"miss"``, ``"resumed"``, ``"rebuilt"``,
        ``"off"``), ``cache_file``, ``chunks_reused``, ``seconds``, ``n_jobs``, ``backend`` (as
        :func:`mgc_helpers.data.trackmap.cached_map` gives them).
    patch_X : np.ndarray, shape (n_patches, 200), float32
        Penultimate layer of every 3-s patch of every track, tracks in order, patches in time order.
    patch_tags : np.ndarray, shape (n_patches, 50), float32
        Tag probabilities of every patch.
    patch_track : np.ndarray of int, shape (n_patches,)
        Row of :attr:`X` (the track) each patch belongs to.
    patch_index : np.ndarray of int, shape (n_patches,)
        Position of the patch in its track (0 = the first 3 s), as ``SegmentSet.segment``.
    warnings : list of Skipped
        Tracks kept but worth a look, with the reason: silent, shorter than one 3-s patch (repeated
        to fill it), a tail left out. As ``SegmentSet.warnings`` of the MFCC pipeline.
    """

    X: np.ndarray
    tags: np.ndarray
    y: np.ndarray
    track: np.ndarray
    group: np.ndarray
    genres: tuple[str, ...]
    skipped: list[Skipped] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    patch_X: np.ndarray = field(default_factory=lambda: np.zeros((0, EMBEDDING_SIZE), np.float32))
    patch_tags: np.ndarray = field(default_factory=lambda: np.zeros((0, len(MSD_TAGS)), np.float32))
    patch_track: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    patch_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    warnings: list[Skipped] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.X.shape[0])



def embedding_cache_key(dataset: Dataset) -> str:
    """Hash of what the embeddings depend on: the weights' SHA-256, this pipeline's version and the
    dataset's tracks (id, genre, artist, path, size, modification time, through
    :func:`mgc_helpers.data.features.cache_key`)."""
    blob = json.dumps({"model": "msd_musicnn", "weights_sha256": weights_sha256(), "pipeline": PIPELINE_VERSION,
                       "tracks": cache_key(dataset)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()



# --------------------------------------------------------------------------------------------
# The per-track function
# --------------------------------------------------------------------------------------------

class _TrackEmbedding:
    """:func:`~mgc_helpers.beyond.musicnn.analyse_file` as a
    :class:`~mgc_helpers.data.trackmap.TrackFunction`: one row per 3-s patch.

    Its warning about a kept file is the file's notes, joined, when one of them is worth it.
    """

    name = "musicnn"
    one_thread = False  # TensorFlow's own pools are set to one thread by prepare()

    @property
    def columns(self) -> dict[str, tuple[tuple[int, ...], type[np.generic]]]:
        return {"patch_X": ((EMBEDDING_SIZE,), np.float32), "patch_tags": ((len(MSD_TAGS),), np.float32)}

    def __call__(self, path: str) -> TrackOutput:
        out = analyse_file(path)
        notes = ["; ".join(out.notes)] if _worth_a_warning(out) else []
        return {"patch_X": out.patch_embeddings.astype(np.float32),
                "patch_tags": out.patch_tags.astype(np.float32)}, notes

    def for_workers(self) -> _TrackEmbedding:
        return self

    def prepare(self) -> None:
        """In a worker: TensorFlow on one thread (the workers already fill the cores)."""
        # the project's TensorFlow defaults, set before TensorFlow is imported
        from ..models.networks import keras  # noqa: F401
        # isort: split
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # already initialised in this (reused) worker
            pass


def _worth_a_warning(out: MusicnnOutput) -> bool:
    """Silence and clips shorter than one patch are reported; a short tail left out is not."""
    return any(n.startswith(("silent", "shorter")) for n in out.notes)


# --------------------------------------------------------------------------------------------
# The dataset
# --------------------------------------------------------------------------------------------

def embed_dataset(dataset: Dataset, *, cache_dir: str | os.PathLike | None = None, n_jobs: int | None = 1,
                  backend: str = "loky", cache: bool = True, progress: bool = False,
                  chunk_size: int = CHUNK_SIZE) -> DatasetEmbeddings:
    """musicnn embeddings (and tags) of every track of a dataset: parallel, cached and resumable.

    Parameters
    ----------
    dataset : Dataset
        From :func:`~mgc_helpers.data.datasets.load_dataset` or :func:`~mgc_helpers.data.datasets.prepare_dataset`.
    cache_dir : path-like or None
        Folder of the cache; ``None`` means ``musicnn/`` in :func:`mgc_helpers.core.paths.cache_dir`.
    n_jobs : int or None
        Worker processes (joblib, loky); ``None`` uses every CPU, ``1`` (default) runs here. Each
        worker loads TensorFlow and the model (a few seconds), and runs it on one thread.
    backend : {"loky", "dask"}
        ``"dask"`` sends the chunks to the workers of the running ``dask.distributed`` Client
        (they must see the audio files).
    cache : bool
        ``False`` neither reads nor writes the cache (chunks are kept in memory).
    progress : bool
        Show a tqdm progress bar (per track).
    chunk_size : int
        Tracks per unit of work; keep the default to be able to resume an interrupted run.

    Returns
    -------
    DatasetEmbeddings

    Raises
    ------
    ValueError
        For a bad backend, ``n_jobs`` or ``chunk_size``, or a dataset with no tracks.
    RuntimeError
        For ``backend="dask"`` without a running Client.

    Notes
    -----
    The cache is one ``.npz`` named after :func:`embedding_cache_key`, which covers the weights'
    SHA-256 and every track's path, size and modification time: a changed file or model is never
    served stale. Writes are atomic; an unreadable cache file is rebuilt with a
    :class:`~mgc_helpers.data.trackmap.CacheWarning`.
    """
    key = embedding_cache_key(dataset)
    final = cache_folder(cache_dir, default="musicnn") / f"{dataset.name}-{dataset.root.name}-musicnn-{key[:20]}.npz"
    store = CacheFile(final, key, read=partial(_read, tuple(dataset.genres)), arrays=_arrays) if cache else None
    return cached_map(_TrackEmbedding(), dataset, partial(_embeddings, dataset), cache=store,
                      n_jobs=n_jobs, backend=backend, chunk_size=chunk_size, progress=progress)


def _embeddings(dataset: Dataset, mapped: TrackMap) -> DatasetEmbeddings:
    """The patches of every track (from :func:`~mgc_helpers.data.trackmap.map_tracks`) and their means."""
    tracks = dataset.tracks
    mapping = label_mapping(dataset.genres)
    keep = np.flatnonzero(mapped.ok).tolist()
    counts = mapped.counts[mapped.ok]
    ends = np.cumsum(counts)
    starts = ends - counts
    PX, PT = mapped.columns["patch_X"], mapped.columns["patch_tags"]
    # each track's patches copied out before the mean, as the array they came as (the same bits)
    X = np.stack([PX[a:b].copy().mean(axis=0) for a, b in zip(starts, ends, strict=True)]) if keep \
        else np.zeros((0, EMBEDDING_SIZE), np.float32)
    T = np.stack([PT[a:b].copy().mean(axis=0) for a, b in zip(starts, ends, strict=True)]) if keep \
        else np.zeros((0, len(MSD_TAGS)), np.float32)
    PR = np.repeat(np.arange(len(keep), dtype=np.int64), counts)
    PI = np.arange(len(PX), dtype=np.int64) - np.repeat(starts, counts)
    y = np.array([mapping[tracks[i].genre] for i in keep], dtype=np.int64)
    track = string_array(tracks[i].track_id for i in keep)
    group = string_array((tracks[i].artist or tracks[i].track_id) for i in keep)
    return DatasetEmbeddings(X.astype(np.float32), T.astype(np.float32), y, track, group, tuple(dataset.genres),
                             mapped.skipped, patch_X=PX, patch_tags=PT, patch_track=PR, patch_index=PI,
                             warnings=mapped.warnings)


def _arrays(result: DatasetEmbeddings) -> dict[str, np.ndarray]:
    """What the cache file keeps of a result just built (its ``skipped``: the tracks that failed here)."""
    return {"X": result.X, "tags": result.tags, "y": result.y, "track": result.track, "group": result.group,
            "patch_X": result.patch_X, "patch_tags": result.patch_tags, "patch_track": result.patch_track,
            "patch_index": result.patch_index,
            "warning_path": string_array(str(w.path) for w in result.warnings),
            "warning_reason": string_array(w.reason for w in result.warnings),
            "skipped_path": string_array(str(s.path) for s in result.skipped),
            "skipped_reason": string_array(s.reason for s in result.skipped)}


def _read(genres: tuple[str, ...], a: dict[str, np.ndarray], path: Path) -> DatasetEmbeddings:
    """A result from the arrays of its cache file."""
    return DatasetEmbeddings(a["X"], a["tags"], a["y"], a["track"], a["group"], genres,
                             [Skipped(Path(p), str(r)) for p, r in
                              zip(a["skipped_path"], a["skipped_reason"], strict=False)],
                             patch_X=a["patch_X"], patch_tags=a["patch_tags"],
                             patch_track=a["patch_track"], patch_index=a["patch_index"],
                             warnings=[Skipped(Path(p), str(r)) for p, r in
                                       zip(a["warning_path"], a["warning_reason"], strict=False)])
