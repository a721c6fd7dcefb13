"""From a dataset of clips to the paper's MFCC segments: cached, resumable, parallel.

Each clip is loaded once (mono, 22050 Hz), cut into ``config.n_segments`` segments by
:func:`mgc_helpers.audio.segment_signal` and turned into one ``(frames, n_mfcc)`` = ``(130, 13)``
MFCC matrix per segment. :func:`mfcc_segments` gives exactly what the paper's code gets from
``librosa.feature.mfcc(segment, ...).T`` segment by segment (the tests compare the two), but
computes the STFT of all segments of a clip at once and builds the mel filter bank only once.

:func:`extract_features` runs this over a whole :class:`~mgc_helpers.datasets.Dataset`:

* **work in chunks** of tracks, spread over processes with joblib (``loky``), or over a Dask
  cluster (``backend="dask"``); each worker's BLAS/OpenMP/numba thread pools are limited to one
  thread, because several processes each running several threads on a 2-core machine make librosa
  several times slower;
* **bounded memory**: each finished chunk is written to a work folder and dropped, so at most a few
  chunks of audio exist at any time; only the (40 times smaller) MFCCs are gathered at the end;
* **cache**: the result is stored as a compressed ``.npz`` whose key covers the feature settings
  (:meth:`~mgc_helpers.config.FeatureConfig.fingerprint`), the pipeline version and every file's
  path, size and modification time, so a changed setting or file never reuses stale features;
  writes are atomic (temporary file + ``os.replace``); a corrupt cache file is rebuilt with a warning;
* **resume**: the chunks of an interrupted run are kept in the work folder and reused;
* **report**: unreadable clips, NaN/inf audio and clips too short for one segment become
  :class:`~mgc_helpers.datasets.Skipped` entries; clips with fewer segments than expected, and
  silent clips (which still give finite features), are listed in :attr:`SegmentSet.warnings`.

Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from .config import PAPER_CONFIG, FeatureConfig, label_mapping
from .datasets import Skipped

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .datasets import Dataset

__all__ = [
    "SegmentSet", "CacheWarning", "PIPELINE_VERSION", "BACKENDS", "power_spectrogram", "mfcc_segments", "extract_track",
    "extract_features", "cache_key", "feature_cache_path", "SILENCE_THRESHOLD",
]

#: Bumped whenever a change in this module changes the features; part of every cache key.
PIPELINE_VERSION = 1

#: Parallel back ends accepted by :func:`extract_features`.
BACKENDS: tuple[str, ...] = ("loky", "dask")

#: A clip whose peak amplitude is below this is reported as silent (its features are still kept).
SILENCE_THRESHOLD = 1e-4

#: Tracks per chunk of work (fixed, so that an interrupted run can always be resumed).
CHUNK_SIZE = 8

_FORMAT = "mgc-segments-1"
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


class CacheWarning(UserWarning):
    """A feature cache file was unreadable or inconsistent and is being rebuilt."""


# --------------------------------------------------------------------------------------------
# The segment set
# --------------------------------------------------------------------------------------------

def _strings(values: Iterable[Any]) -> np.ndarray:
    """Fixed-width unicode array (never an object array, so ``allow_pickle=False`` can load it)."""
    array = np.asarray(list(values) if not isinstance(values, np.ndarray) else values)
    if array.size == 0:
        return np.zeros(0, dtype="<U1")
    return array.astype(str)


@dataclass(eq=False)
class SegmentSet:
    """MFCC matrices of 3-s segments, one row per segment, with everything needed to split them.

    Parameters
    ----------
    X : np.ndarray, float32, shape (n, frames, n_mfcc)
        MFCCs, time along axis 1, e.g. ``(n, 130, 13)``.
    y : np.ndarray, int64, shape (n,)
        Labels: indices into ``genres``.
    track : np.ndarray of str, shape (n,)
        Track id of each segment (``"blues.00007"``).
    group : np.ndarray of str, shape (n,)
        Artist id of each segment's track; the track id when the artist is unknown.
    segment : np.ndarray of int, shape (n,)
        Position of the segment within its track (0 = first 3 s).
    genres : tuple of str
        Sorted genre names.
    config : FeatureConfig
        Settings the features were computed with.
    skipped : list of Skipped
        Files that gave no features, with reasons.
    warnings : list of Skipped
        Files kept but worth a look (fewer segments than expected, silence).
    dataset : str
        Name of the dataset (``"synthetic"``, ``"gtzan"``; empty when unknown).
    info : dict
        How this set was obtained (cache hit or miss, seconds, ...); not saved.
    """

    X: np.ndarray
    y: np.ndarray
    track: np.ndarray
    group: np.ndarray
    segment: np.ndarray
    genres: tuple[str, ...]
    config: FeatureConfig = PAPER_CONFIG
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Skipped] = field(default_factory=list)
    dataset: str = ""
    info: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.X = np.asarray(self.X, dtype=np.float32)
        if self.X.ndim != 3:
            raise ValueError(f"SegmentSet.X must have shape (n, frames, n_mfcc), got {self.X.shape}")
        n = len(self.X)
        self.y = np.asarray(self.y, dtype=np.int64)
        self.track = _strings(self.track)
        self.group = _strings(self.group)
        self.segment = np.asarray(self.segment, dtype=np.int64)
        self.genres = tuple(str(g) for g in self.genres)
        for name in ("y", "track", "group", "segment"):
            value = getattr(self, name)
            if value.shape != (n,):
                raise ValueError(f"SegmentSet.{name} must have shape ({n},) like X, got {value.shape}")
        if list(self.genres) != sorted(set(self.genres)):
            raise ValueError(f"SegmentSet.genres must be sorted and unique, got {self.genres}")
        if n and (self.y.min() < 0 or self.y.max() >= len(self.genres)):
            raise ValueError(f"labels must lie in 0..{len(self.genres) - 1} for {len(self.genres)} genres")
        self.skipped = [Skipped(Path(s.path), s.reason) for s in self.skipped]
        self.warnings = [Skipped(Path(s.path), s.reason) for s in self.warnings]

    def __len__(self) -> int:
        return len(self.X)

    def __repr__(self) -> str:
        return (f"SegmentSet({len(self)} segments of {self.X.shape[1:]} from {self.n_tracks} tracks, "
                f"{self.n_classes} genres, dataset={self.dataset!r})")

    @property
    def n_classes(self) -> int:
        """Number of genres (the models' output size)."""
        return len(self.genres)

    @property
    def n_tracks(self) -> int:
        """Number of distinct tracks."""
        return len(np.unique(self.track))

    @property
    def mapping(self) -> dict[str, int]:
        """Genre name -> label."""
        return label_mapping(self.genres)

    def subset(self, index: Sequence[int] | np.ndarray) -> "SegmentSet":
        """The segments at ``index`` (integer indices or a boolean mask), same genres and config."""
        index = np.asarray(index)
        if index.dtype == bool and index.shape != (len(self),):
            raise ValueError(f"boolean mask of shape {index.shape} does not match {len(self)} segments")
        return SegmentSet(self.X[index], self.y[index], self.track[index], self.group[index],
                          self.segment[index], self.genres, self.config, list(self.skipped),
                          list(self.warnings), self.dataset)

    def to_frame(self) -> "pd.DataFrame":
        """One row per segment (without the MFCCs): track, group, segment, genre, label."""
        import pandas as pd

        return pd.DataFrame({"track": self.track, "group": self.group, "segment": self.segment,
                             "genre": np.asarray(self.genres, dtype=str)[self.y] if len(self) else [],
                             "label": self.y})

    def summary(self) -> str:
        """Counts and every skipped or flagged file with its reason."""
        lines = [f"{len(self)} segments of {self.X.shape[1]} x {self.X.shape[2]} MFCCs from {self.n_tracks} "
                 f"tracks, {self.n_classes} genres ({self.dataset or 'unknown'} dataset)",
                 f"skipped {len(self.skipped)} file(s)" + (":" if self.skipped else "")]
        lines += [f"  {s.path.name}: {s.reason}" for s in self.skipped]
        if self.warnings:
            lines.append(f"warnings for {len(self.warnings)} file(s):")
            lines += [f"  {s.path.name}: {s.reason}" for s in self.warnings]
        return "\n".join(lines)

    # ---- storage ----------------------------------------------------------------------------

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "format": np.array(_FORMAT),
            "X": self.X, "y": self.y, "track": self.track, "group": self.group, "segment": self.segment,
            "genres": _strings(self.genres),
            "config": np.array(json.dumps(self.config.to_dict(), sort_keys=True)),
            "dataset": np.array(self.dataset),
            "skipped_path": _strings(str(s.path) for s in self.skipped),
            "skipped_reason": _strings(s.reason for s in self.skipped),
            "warning_path": _strings(str(s.path) for s in self.warnings),
            "warning_reason": _strings(s.reason for s in self.warnings),
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write a compressed ``.npz`` (atomically) that :meth:`load` reads without pickle.

        Returns
        -------
        Path
            The file written.
        """
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"{path}: SegmentSet files end in .npz")
        _write_npz(path, self._arrays())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SegmentSet":
        """Read a file written by :meth:`save` (with ``allow_pickle=False``).

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        ValueError
            If it is not a readable SegmentSet file.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no SegmentSet file at {path}")
        arrays = _read_npz(path)
        return cls._from_arrays(arrays, path)

    @classmethod
    def _from_arrays(cls, a: dict[str, np.ndarray], path: Path) -> "SegmentSet":
        if str(a.get("format", "")) != _FORMAT:
            raise ValueError(f"{path}: not a SegmentSet file (format {str(a.get('format', 'missing'))!r}, "
                             f"expected {_FORMAT!r})")
        try:
            config = FeatureConfig.from_dict(json.loads(str(a["config"])))
            return cls(a["X"], a["y"], a["track"], a["group"], a["segment"], tuple(a["genres"].tolist()),
                       config,
                       [Skipped(Path(p), r) for p, r in zip(a["skipped_path"].tolist(), a["skipped_reason"].tolist())],
                       [Skipped(Path(p), r) for p, r in zip(a["warning_path"].tolist(), a["warning_reason"].tolist())],
                       str(a["dataset"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}: inconsistent SegmentSet file ({type(exc).__name__}: {exc})") from None

    def to_paper_json(self, path: str | os.PathLike, *, indent: int | None = None) -> Path:
        """Write the paper's JSON layout: ``{"mapping": [...], "labels": [...], "mfcc": [...]}``.

        ``mfcc`` holds one ``frames x n_mfcc`` nested list per segment, ``labels`` the integer
        labels and ``mapping`` the genre names in label order, as the paper's ``data.json``.
        The file is written one segment at a time (atomically), so memory stays small; expect
        about 600 MB for all of GTZAN, against 60 MB for :meth:`save`.
        """
        path = Path(path)
        tmp = _tmp_path(path)
        sep = ",\n" if indent is not None else ", "
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write('{"mapping": ' + json.dumps(list(self.genres)) + ', "labels": '
                        + json.dumps(self.y.tolist()) + ', "mfcc": [')
                for i, matrix in enumerate(self.X):
                    if i:
                        f.write(sep)
                    f.write(json.dumps(matrix.tolist(), indent=indent))
                f.write("]}\n")
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return path


# --------------------------------------------------------------------------------------------
# Atomic npz files
# --------------------------------------------------------------------------------------------

def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{time.monotonic_ns()}")


def _write_npz(path: Path, arrays: dict[str, np.ndarray], *, compress: bool = True) -> None:
    """Write an ``.npz`` through a temporary file and ``os.replace`` (never a half-written file).

    Compression uses zlib level 1: MFCCs hardly compress (about 7 %), so a higher level only costs
    time. ``np.load`` reads the result like any ``np.savez_compressed`` file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    try:
        with zipfile.ZipFile(tmp, "w", compression=mode, compresslevel=1 if compress else None) as zf:
            for name, value in arrays.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` without pickle; any failure becomes ``ValueError``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except Exception as exc:  # BadZipFile, zlib.error, ValueError, EOFError, OSError...
        raise ValueError(f"{path}: unreadable .npz file ({type(exc).__name__}: {exc})") from None


# --------------------------------------------------------------------------------------------
# MFCCs of one clip
# --------------------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _mel_basis(sample_rate: int, n_fft: int, n_mels: int):
    """librosa's (Slaney) mel filter bank as a sparse matrix, built once per process.

    Each triangular filter covers only a few FFT bins (about 2000 non-zeros of 131 000), so the
    sparse product is cheaper than the dense one and, unlike a BLAS call, gives the same bits
    whatever the number of threads.
    """
    import librosa
    import scipy.sparse

    return scipy.sparse.csr_matrix(librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels))


@lru_cache(maxsize=8)
def _window(n_fft: int) -> np.ndarray:
    import librosa

    return librosa.filters.get_window("hann", n_fft, fftbins=True).astype(np.float32)


def power_spectrogram(segments: np.ndarray, *, config: FeatureConfig = PAPER_CONFIG) -> np.ndarray:
    """Power spectrogram ``|STFT|^2`` of each segment, frames first: ``(k, frames, 1 + n_fft // 2)``.

    The same frames as :func:`librosa.stft` with its defaults (centred frames: ``n_fft // 2`` zeros
    padded on both sides, periodic Hann window), computed with one real FFT call over all frames
    of all segments; about twice as fast as ``librosa.stft`` for the paper's segments.
    """
    import scipy.fft

    pad = config.n_fft // 2
    padded = np.pad(segments, ((0, 0), (pad, pad)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, config.n_fft, axis=-1)[:, :: config.hop_length]
    spectrum = scipy.fft.rfft(frames * _window(config.n_fft), axis=-1)
    return spectrum.real ** 2 + spectrum.imag ** 2


def mfcc_segments(segments: np.ndarray, *, config: FeatureConfig = PAPER_CONFIG) -> np.ndarray:
    """MFCCs of each segment, as ``librosa.feature.mfcc(y=segment, ...).T`` gives them one by one.

    Same steps and defaults as :func:`librosa.feature.mfcc` (Hann window, centred frames with
    zero padding, power spectrogram, Slaney mel filter bank, ``power_to_db`` with ``ref=1``,
    ``amin=1e-10``, ``top_db=80`` *per segment*, orthonormal DCT-II), computed for all segments
    of a clip at once (:func:`power_spectrogram`). The mel filter bank is applied as a sparse
    matrix. The result equals librosa's to float32 rounding (the tests compare them) and does
    not depend on the number of BLAS threads.

    Parameters
    ----------
    segments : np.ndarray, shape (k, samples_per_segment)
        Mono segments at ``config.sample_rate`` (see :func:`mgc_helpers.audio.segment_signal`).
    config : FeatureConfig
        FFT size, hop, number of mel bands and MFCCs.

    Returns
    -------
    np.ndarray, float32, shape (k, frames, n_mfcc)
        E.g. ``(10, 130, 13)`` for a 30-s clip with the paper's settings.

    Examples
    --------
    >>> import numpy as np
    >>> mfcc_segments(np.zeros((2, 66150), np.float32)).shape
    (2, 130, 13)

    Explained in ``05_mfcc.ipynb`` and ``06_dataset.ipynb``.
    """
    import scipy.fft

    segments = np.asarray(segments, dtype=np.float32)
    if segments.ndim != 2:
        raise ValueError(f"segments must have shape (k, samples), got {segments.shape}")
    if segments.shape[0] == 0:
        return np.zeros((0, config.frames_per_segment, config.n_mfcc), dtype=np.float32)
    power = power_spectrogram(segments, config=config)  # (k, frames, bins)
    k, frames, bins = power.shape
    basis = _mel_basis(config.sample_rate, config.n_fft, config.n_mels)  # sparse (n_mels, bins)
    mel = (basis @ power.reshape(k * frames, bins).T).T.reshape(k, frames, config.n_mels)
    db = 10.0 * np.log10(np.maximum(1e-10, mel))
    db = np.maximum(db, db.max(axis=(1, 2), keepdims=True) - 80.0)  # top_db per segment, as librosa
    cepstrum = scipy.fft.dct(db, axis=-1, type=2, norm="ortho")[..., : config.n_mfcc]
    return np.ascontiguousarray(cepstrum, dtype=np.float32)


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
    from .audio import AudioError, load_audio, segment_signal

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

def _extract_chunk(number: int, items: list[tuple[int, str]], config: FeatureConfig) -> dict[str, Any]:
    """Worker: MFCCs of a few tracks, with BLAS/OpenMP threads limited to one."""
    from threadpoolctl import threadpool_limits

    from .audio import AudioError

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
    with context:
        tasks = (delayed(_extract_chunk)(number, items, config) for number, items in todo)
        yield from Parallel(n_jobs=n_jobs_arg, return_as="generator_unordered",
                            pre_dispatch="2*n_jobs")(tasks)


def _require_dask_client() -> None:
    try:
        from distributed import get_client
    except ImportError:
        raise RuntimeError("backend='dask' needs dask.distributed: pip install \"mgc-helpers[dask]\"") from None
    try:
        get_client()
    except ValueError:
        raise RuntimeError("backend='dask' needs a running dask.distributed Client, e.g. "
                           "`from dask.distributed import Client; client = Client()` (a local cluster) or "
                           "`Client('tcp://scheduler:8786')`; the workers must see the audio files") from None


# --------------------------------------------------------------------------------------------
# Cache keys
# --------------------------------------------------------------------------------------------

def cache_key(dataset: "Dataset", config: FeatureConfig = PAPER_CONFIG) -> str:
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


def feature_cache_path(dataset: "Dataset", *, config: FeatureConfig = PAPER_CONFIG,
                       cache_dir: str | os.PathLike | None = None) -> Path:
    """Where :func:`extract_features` keeps (or will keep) the features of ``dataset``."""
    folder = _cache_folder(cache_dir)
    return folder / f"{dataset.name}-{dataset.root.name}-{cache_key(dataset, config)[:20]}.npz"


def _cache_folder(cache_dir: str | os.PathLike | None) -> Path:
    from . import paths

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


def extract_features(dataset: "Dataset", *, config: FeatureConfig = PAPER_CONFIG,
                     cache_dir: str | os.PathLike | None = None, n_jobs: int | None = None,
                     backend: str = "loky", progress: bool = False, cache: bool = True,
                     chunk_size: int = CHUNK_SIZE) -> SegmentSet:
    """MFCC segments of every track of a dataset: cached, resumable and parallel.

    Parameters
    ----------
    dataset : Dataset
        From :func:`~mgc_helpers.datasets.load_dataset` or :func:`~mgc_helpers.datasets.prepare_dataset`.
    config : FeatureConfig
        Feature settings (the paper's by default).
    cache_dir : path-like or None
        Folder of the cache; ``None`` means ``features/`` in :func:`mgc_helpers.paths.cache_dir`
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


def _merge(dataset: "Dataset", config: FeatureConfig, chunks: list[list[tuple[int, str]]],
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
            for i, reason in zip(done[c][f"{kind}_index"].tolist(), done[c][f"{kind}_reason"].tolist()):
                out.append(Skipped(tracks[i].path, reason))
        return out

    return SegmentSet(X, labels[per_track], track_ids[per_track], groups[per_track], segment, dataset.genres, config,
                      entries("skipped"), entries("warning"), dataset.name)
