"""Reading audio and cutting it into the paper's segments.

Explained in ``01_waveform.ipynb`` (loading, mono, sample rate) and ``06_dataset.ipynb``
(segmentation and the policy for short clips).
"""
from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..core.config import PAPER_CONFIG, FeatureConfig

#: File endings treated as audio by the loaders.
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".au", ".flac", ".ogg", ".mp3", ".aiff", ".aif")

#: Default tolerance, in seconds, for padding a last segment that is only slightly short.
PAD_TOLERANCE = 0.5


class AudioError(Exception):
    """An audio file could not be used; the message names the file and the reason."""

    def __init__(self, path: str | os.PathLike | None, reason: str):
        self.path = None if path is None else Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if path is not None else reason)


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says, before any decoding or resampling."""

    path: Path
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Read sample rate, channel count and length from the file header.

    Raises
    ------
    AudioError
        If the file is missing or its header cannot be read.
    """
    import soundfile as sf

    path = Path(path)
    _check_file(path)
    try:
        with _opened(path) as source, sf.SoundFile(source) as f:
            rate, channels, frames = int(f.samplerate), int(f.channels), int(f.frames)
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError
        raise AudioError(path, f"unreadable audio header ({type(exc).__name__}: {exc})") from None
    return AudioInfo(path, rate, channels, frames)


def _check_file(path: Path) -> None:
    """Raise :class:`AudioError` for a broken link, a missing path or a folder."""
    if path.is_symlink() and not path.exists():
        raise AudioError(path, f"broken symbolic link (points to {os.readlink(path)}, which does not exist)")
    if not path.is_file():
        raise AudioError(path, "file not found")


def _encodable(path: Path) -> bool:
    """Whether libsndfile can be given the file name (it cannot take names that are not valid text)."""
    try:
        str(path).encode(sys.getfilesystemencoding())
    except UnicodeEncodeError:
        return False
    return True


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[str | BinaryIO]:
    """The name for libsndfile, or an open binary file when the name is not valid text.

    A file name that is not valid in the file system's encoding (a Latin-1 name from an old
    disk on a UTF-8 system) cannot be passed to libsndfile by name, so it reads the open file.
    """
    if _encodable(path):
        yield str(path)
    else:
        with open(path, "rb") as handle:
            yield handle


def load_audio(path: str | os.PathLike, *, sr: int | None = PAPER_CONFIG.sample_rate,
               mono: bool = True, duration: float | None = None) -> tuple[np.ndarray, int]:
    """Load an audio file as float32, mixed to mono and resampled to ``sr``.

    Parameters
    ----------
    path : path-like
        Any format libsndfile reads (WAV, AU, FLAC, OGG, MP3 with libsndfile >= 1.1).
    sr : int or None
        Target sample rate; ``None`` keeps the file's own rate.
    mono : bool
        Average the channels (the paper works on mono signals).
    duration : float or None
        Read at most this many seconds.

    Returns
    -------
    y : np.ndarray, shape (n,) or (channels, n)
        Samples in [-1, 1].
    sr : int
        Sample rate of ``y``.

    Raises
    ------
    AudioError
        If the file is missing, cannot be decoded, holds no samples, or holds NaN/inf samples.

    Examples
    --------
    >>> import numpy as np, soundfile as sf, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> sf.write(p, np.zeros((44100, 2)), 44100)
    >>> y, sr = load_audio(p)
    >>> y.shape, sr
    ((22050,), 22050)
    """
    path = Path(path)
    _check_file(path)
    if path.stat().st_size == 0:
        raise AudioError(path, "empty file (0 bytes)")
    y, sr_out = _read_soundfile(path, duration=duration)
    if y is None:  # libsndfile cannot read it: let librosa try audioread (e.g. MP3 on old libsndfile)
        y, sr_out = _read_librosa(path, duration=duration)
    if y.size == 0:
        raise AudioError(path, "no audio samples")
    if not np.all(np.isfinite(y)):
        raise AudioError(path, "contains NaN or infinite samples")
    if mono and y.ndim > 1:
        y = np.mean(y, axis=0)  # as librosa.to_mono
    if sr is not None and sr != sr_out:
        import librosa

        y = librosa.resample(y, orig_sr=sr_out, target_sr=sr, res_type="soxr_hq")  # librosa.load's default
        sr_out = sr
    return y, int(sr_out)


def _read_soundfile(path: Path, *, duration: float | None) -> tuple[np.ndarray | None, int]:
    """Decode with libsndfile as float32, shape (channels, n) or (n,); ``(None, 0)`` if it cannot.

    This is what :func:`librosa.load` does first, without its per-call overhead (about 7 ms of the
    10 ms it takes for a 30-s GTZAN clip).
    """
    import soundfile as sf

    try:
        with _opened(path) as source, sf.SoundFile(source) as f:
            frames = -1 if duration is None else int(duration * f.samplerate)
            data = f.read(frames=frames, dtype="float32", always_2d=True)
            rate = int(f.samplerate)
    except Exception:
        return None, 0
    return (data[:, 0] if data.shape[1] == 1 else np.ascontiguousarray(data.T)), rate


def _read_librosa(path: Path, *, duration: float | None) -> tuple[np.ndarray, int]:
    """Fallback decoder (audioread through librosa), native rate and channels."""
    import librosa

    try:
        with warnings.catch_warnings(), _opened(path) as source:
            warnings.simplefilter("ignore")  # librosa warns before it falls back to audioread
            y, rate = librosa.load(source, sr=None, mono=False, duration=duration, dtype=np.float32)
    except Exception as exc:
        if type(exc).__name__ == "NoBackendError":  # audioread found no decoder either
            raise AudioError(path, "cannot decode audio: not a format libsndfile or audioread can read") from None
        raise AudioError(path, f"cannot decode audio ({type(exc).__name__}: {exc})") from None
    return y, int(rate)


def segment_signal(y: np.ndarray, *, config: FeatureConfig = PAPER_CONFIG,
                   n_segments: int | None = -1, pad_tolerance: float = PAD_TOLERANCE) -> np.ndarray:
    """Cut a mono signal into equal, non-overlapping segments of ``config.samples_per_segment``.

    Policy for clips that are not exactly ``config.track_duration`` long:

    * samples past ``n_segments`` full segments are ignored (GTZAN clips run to about 30.01 s);
    * a last segment that is short by at most ``pad_tolerance`` seconds (and by less than half a
      segment) is zero-padded (several GTZAN clips are 29.9x s long);
    * a shorter remainder is dropped, so a 25-s clip gives 8 segments and a clip shorter than one
      segment gives none. Callers report the missing segments; nothing is dropped silently.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal at ``config.sample_rate``.
    config : FeatureConfig
        Segment length and default number of segments.
    n_segments : int or None
        Most segments to return; ``-1`` (default) means ``config.n_segments``, ``None`` means
        as many as the signal holds (used for prediction on full songs).
    pad_tolerance : float
        Seconds of padding allowed for the last segment.

    Returns
    -------
    np.ndarray, shape (k, config.samples_per_segment)

    Examples
    --------
    >>> import numpy as np
    >>> segment_signal(np.ones(661500, dtype=np.float32)).shape
    (10, 66150)
    >>> segment_signal(np.ones(661500 - 2000, dtype=np.float32)).shape  # 29.9 s: last one padded
    (10, 66150)
    >>> segment_signal(np.ones(22050 * 25, dtype=np.float32)).shape    # 25 s: 8 full segments
    (8, 66150)
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"segment_signal expects a mono signal of shape (n,), got {y.shape}")
    if pad_tolerance < 0:
        raise ValueError("pad_tolerance must be >= 0")
    size = config.samples_per_segment
    limit = config.n_segments if n_segments == -1 else n_segments
    if limit is not None and limit <= 0:
        raise ValueError(f"n_segments must be positive or None, got {n_segments}")
    k = len(y) // size
    remainder = len(y) - k * size
    pad = 0
    short_by = size - remainder
    if (remainder and short_by <= pad_tolerance * config.sample_rate and short_by < size / 2
            and (limit is None or k < limit)):
        pad = size - remainder
        k += 1
    if limit is not None:
        k = min(k, limit)
    if k == 0:
        return np.zeros((0, size), dtype=y.dtype)
    if pad:
        y = np.concatenate([y, np.zeros(pad, dtype=y.dtype)])
    return y[: k * size].reshape(k, size)


class SegmentStream:
    """A song of any length as the model's segments, decoded block by block in bounded memory.

    Iterating yields arrays of shape ``(k, config.samples_per_segment)`` with ``k <= block_segments``:
    exactly the segments :func:`load_song` returns for the whole file, in order, but never more than
    about ``block_segments`` segments of audio exist at once (a 60-minute recording at 44.1 kHz is
    never decoded whole). libsndfile reads the file a block at a time; each block is mixed to mono
    as :func:`load_audio` does and resampled by a streaming soxr resampler (the samples
    :func:`librosa.resample` gives for the whole file, to float32 rounding). Files libsndfile cannot
    read are decoded whole by :func:`load_audio` (audioread). After the iteration, ``duration``,
    ``peak`` and :meth:`notes` describe the whole song. Explained in ``11_predict.ipynb``.

    Raises
    ------
    AudioError
        While iterating: the file cannot be decoded, holds NaN/inf samples, or is shorter than one
        segment.
    """

    def __init__(self, path: str | os.PathLike, *, config: FeatureConfig = PAPER_CONFIG, block_segments: int = 10):
        if block_segments < 1:
            raise ValueError(f"block_segments must be positive, got {block_segments!r}")
        self.path = Path(path)
        self.config = config
        self.block_segments = block_segments
        self.duration = 0.0
        self.peak = 0.0
        self.n_segments = 0

    def _blocks(self) -> Iterator[np.ndarray]:
        """Mono float32 blocks at ``config.sample_rate``."""
        import soundfile as sf

        path, sr = self.path, self.config.sample_rate
        _check_file(path)
        if path.stat().st_size == 0:
            raise AudioError(path, "empty file (0 bytes)")
        try:
            with _opened(path) as source, sf.SoundFile(source) as f:
                rate = int(f.samplerate)
        except Exception:  # not for libsndfile: decode it whole (audioread), then cut it up
            y, _ = load_audio(path, sr=sr, mono=True)
            yield y
            return
        seconds = min(30.0, self.block_segments * self.config.segment_duration)  # decoded at a time
        n_in = n_out = 0
        resampler = None
        if rate != sr:
            import soxr

            resampler = soxr.ResampleStream(rate, sr, 1, dtype="float32", quality="HQ")
        try:
            with _opened(path) as source, sf.SoundFile(source) as f:
                while True:
                    data = f.read(frames=max(1, int(seconds * rate)), dtype="float32", always_2d=True)
                    if not len(data):
                        break
                    if not np.all(np.isfinite(data)):
                        raise AudioError(path, "contains NaN or infinite samples")
                    n_in += len(data)
                    # as load_audio: (channels, n), then the mean over channels
                    y = data[:, 0] if data.shape[1] == 1 else np.mean(np.ascontiguousarray(data.T), axis=0)
                    if resampler is not None:
                        y = resampler.resample_chunk(y)
                    n_out += len(y)
                    yield y
                if resampler is not None:  # the resampler's tail, then librosa's length: ceil(n * ratio)
                    tail = resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
                    wanted = int(np.ceil(n_in * float(sr) / rate))
                    tail = np.concatenate([tail, np.zeros(max(0, wanted - n_out - len(tail)), np.float32)])
                    if n_out + len(tail) > wanted:
                        raise AudioError(path, "resampler gave more samples than expected")  # pragma: no cover
                    yield tail
        except sf.LibsndfileError as exc:
            raise AudioError(path, f"cannot decode audio ({type(exc).__name__}: {exc})") from None
        if n_in == 0:
            raise AudioError(path, "no audio samples")

    def __iter__(self) -> Iterator[np.ndarray]:
        config = self.config
        size = config.samples_per_segment
        step = self.block_segments * size
        pending: list[np.ndarray] = []
        held = total = 0
        self.peak, self.n_segments = 0.0, 0
        for y in self._blocks():
            if not len(y):
                continue
            total += len(y)
            self.peak = max(self.peak, float(np.max(np.abs(y))))
            pending.append(y)
            held += len(y)
            while held >= step:  # whole segments that the whole-file cut gives too (only the end is padded)
                buffer = np.concatenate(pending)
                block, rest = buffer[:step], buffer[step:]
                pending, held = [rest], len(rest)
                self.n_segments += self.block_segments
                yield block.reshape(self.block_segments, size)
        self.duration = total / config.sample_rate
        rest = np.concatenate(pending) if pending else np.zeros(0, np.float32)
        last = segment_signal(rest, config=config, n_segments=None)
        self.n_segments += len(last)
        if self.n_segments == 0:
            raise AudioError(self.path, f"too short ({self.duration:.2f} s): needs at least one "
                                        f"{config.segment_duration:g}-s segment")
        for i in range(0, len(last), self.block_segments):
            yield last[i: i + self.block_segments]

    def notes(self, *, silent_note: str = "silent audio") -> list[str]:
        """What :func:`load_song` notes: an unused tail, silence (call after iterating)."""
        notes = []
        covered = self.n_segments * self.config.segment_duration
        if self.duration - covered > 0.5:
            notes.append(f"last {self.duration - covered:.1f} s (shorter than a segment) not used")
        if self.peak < 1e-4:
            notes.append(silent_note)
        return notes


def load_song(path: str | os.PathLike, *, config: FeatureConfig = PAPER_CONFIG,
              silent_note: str = "silent audio") -> tuple[np.ndarray, float, list[str]]:
    """A song of any length, rate and channel count, as the model's segments.

    Decoded to mono at ``config.sample_rate`` and cut into as many full segments as it holds (the
    policy of :func:`segment_signal` with ``n_segments=None``). Used by ``mgc predict`` and
    ``mgc similar``; explained in ``11_predict.ipynb``.

    Returns
    -------
    segments : np.ndarray, shape (k, config.samples_per_segment)
    duration : float
        Length of the decoded audio in seconds.
    notes : list of str
        A tail shorter than a segment that was left out; ``silent_note`` for a silent song.

    Raises
    ------
    AudioError
        If the file cannot be decoded, holds NaN/inf samples, or is shorter than one segment.
    """
    y, sr = load_audio(path, sr=config.sample_rate, mono=True)
    duration = len(y) / sr
    segments = segment_signal(y, config=config, n_segments=None)
    if len(segments) == 0:
        raise AudioError(path, f"too short ({duration:.2f} s): needs at least one "
                               f"{config.segment_duration:g}-s segment")
    notes = []
    covered = len(segments) * config.segment_duration
    if duration - covered > 0.5:
        notes.append(f"last {duration - covered:.1f} s (shorter than a segment) not used")
    if float(np.max(np.abs(y))) < 1e-4:
        notes.append(silent_note)
    return segments, duration, notes
