"""musicnn's input: the log-mel spectrogram of a 16-kHz signal and its 3-s patches.

Steps 1-4 of the pipeline of :mod:`mgc_helpers.beyond.musicnn` (as musicnn's ``extractor.py`` does
them, with two repairs):

1. mono audio resampled to 16 kHz (``soxr_hq``, as :func:`librosa.load`): :func:`check_signal`,
   :func:`resample_16k`;
2. power mel spectrogram: 512-sample Hann window, hop 256, 96 Slaney mel bands, frames centred
   with *reflect* padding (librosa's default when the model was trained; librosa 0.9 changed it);
3. log compression ``log10(10000 * S + 1)``, computed in **float32** (:func:`log_mel`). The original
   casts ``S`` to float16 first; with NumPy 2 the product then stays in float16 and overflows to
   ``inf`` for any loud sound (``S > 6.55``), after which every input gives the same tags;
4. non-overlapping patches of 187 frames (3 s, :func:`patches`); a tail shorter than a patch is
   left out, and a clip shorter than 3 s is repeated to fill one patch.

:class:`LogMelStream` computes the same frames from a signal pushed in blocks of any size, so that
long files need bounded memory (:func:`mgc_helpers.beyond.musicnn.analyse_file`).

Explained in ``13_transfer.ipynb``.
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, cast

import numpy as np

__all__ = [
    "HOP_LENGTH",
    "MIN_SAMPLES",
    "N_FFT",
    "N_MELS",
    "PATCH_FRAMES",
    "SR",
    "LogMelStream",
    "check_signal",
    "log_mel",
    "log_mel_blocks",
    "patches",
    "resample_16k",
]

#: Sample rate of the model's input, Hz.
SR: int = 16000
#: STFT window and FFT size, samples (32 ms).
N_FFT: int = 512
#: Hop between frames, samples (16 ms).
HOP_LENGTH: int = 256
#: Mel bands.
N_MELS: int = 96
#: Frames per patch: ``librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1``.
PATCH_FRAMES: int = 187
#: Shortest signal accepted, samples at 16 kHz (one STFT window, 32 ms).
MIN_SAMPLES: int = N_FFT

_BLOCK_SAMPLES = 60 * SR  # samples pushed through the spectrogram at a time (bounded memory)


@lru_cache(maxsize=1)
def _mel_basis() -> np.ndarray:
    import librosa

    return np.ascontiguousarray(librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS).T.astype(np.float32))


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    import librosa

    return librosa.filters.get_window("hann", N_FFT, fftbins=True)  # float64, as librosa.stft


def _log_mel_frames(frames: np.ndarray) -> np.ndarray:
    """Windowed frames ``(k, 512)`` -> log-mel ``(k, 96)`` float32, arithmetic as librosa's.

    librosa.stft multiplies by a float64 window, takes the float64 FFT and stores complex64;
    ``melspectrogram`` squares the magnitude in float32 and applies a float32 filter bank.
    """
    spectrum = np.fft.rfft(frames * _window(), axis=-1).astype(np.complex64)
    power = np.abs(spectrum) ** 2
    mel = power @ _mel_basis()
    # float32 throughout: the original's float16 overflows (10000 * S > 65504) for loud sounds
    return np.log10(np.float32(10000.0) * mel.astype(np.float32) + np.float32(1.0))


class LogMelStream:
    """Log-mel frames of a signal pushed in blocks of any size.

    Gives exactly the frames of a centred STFT with reflect padding of the whole signal (frame
    ``t`` covers samples ``256 t - 256 ... 256 t + 255``; ``1 + n // 256`` frames in all), holding
    at most one block and one window of samples.
    """

    def __init__(self) -> None:
        self.n_samples = 0
        self._head = np.zeros(0, dtype=np.float32)  # samples before the left padding can be made
        self._buf: np.ndarray | None = None  # padded-domain samples not yet framed
        self._tail = np.zeros(0, dtype=np.float32)  # last N_FFT // 2 + 1 samples seen

    def push(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float32)
        self.n_samples += len(y)
        half = N_FFT // 2
        self._tail = np.concatenate([self._tail, y[-(half + 1):]])[-(half + 1):]
        if self._buf is None:
            self._head = np.concatenate([self._head, y])
            if len(self._head) <= half:
                return np.zeros((0, N_MELS), dtype=np.float32)
            self._buf = np.concatenate([self._head[1: half + 1][::-1], self._head])
            self._head = np.zeros(0, dtype=np.float32)
        else:
            self._buf = np.concatenate([self._buf, y])
        return self._frames()

    def finish(self) -> np.ndarray:
        half = N_FFT // 2
        if self._buf is None:
            raise ValueError(f"signal too short: {self.n_samples} samples at {SR} Hz, needs at least {MIN_SAMPLES}")
        self._buf = np.concatenate([self._buf, self._tail[:-1][::-1][:half]])
        return self._frames()

    def _frames(self) -> np.ndarray:
        buf = cast(np.ndarray, self._buf)  # called once samples have arrived
        if len(buf) < N_FFT:
            return np.zeros((0, N_MELS), dtype=np.float32)
        k = (len(buf) - N_FFT) // HOP_LENGTH + 1
        frames = np.lib.stride_tricks.sliding_window_view(buf, N_FFT)[: (k - 1) * HOP_LENGTH + 1: HOP_LENGTH]
        out = _log_mel_frames(frames)
        self._buf = buf[k * HOP_LENGTH:].copy()
        return out


def check_signal(y: Any, sr: Any) -> np.ndarray:
    """A signal as musicnn takes it: mono, real, finite, as float32 (float16 is widened, never computed in).

    Raises
    ------
    ValueError
        For a bad sample rate, or an empty, non-mono, non-numeric or NaN/inf signal.
    """
    if not isinstance(sr, (int, np.integer)) or isinstance(sr, bool) or sr <= 0:
        raise ValueError(f"sr must be a positive integer sample rate, got {sr!r}")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"musicnn expects a mono signal of shape (n,), got shape {y.shape}; "
                         f"mix it down first (np.mean(y, axis=0))")
    if y.size == 0:
        raise ValueError("empty signal: no samples to tag")
    if not np.issubdtype(y.dtype, np.floating) and not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"signal must hold real numbers, got dtype {y.dtype}")
    y = y.astype(np.float32)  # float16 input is widened here, never computed in
    if not np.all(np.isfinite(y)):
        raise ValueError("signal contains NaN or infinite samples")
    return y


def resample_16k(y: np.ndarray, sr: int) -> np.ndarray:
    """A signal from :func:`check_signal` at 16 kHz (``soxr_hq``, as :func:`librosa.load`), float32.

    Raises
    ------
    ValueError
        If it is shorter than 32 ms (one STFT window), before or after resampling.
    """
    _check_length(round(len(y) * SR / sr), sr)
    y16 = _resample(y, int(sr))
    _check_length(len(y16), sr)
    return y16


def _resample(y: np.ndarray, sr: int) -> np.ndarray:
    if sr == SR:
        return y
    import librosa

    return librosa.resample(y, orig_sr=int(sr), target_sr=SR, res_type="soxr_hq").astype(np.float32)


def _check_length(n: int, sr: int) -> None:
    if n < MIN_SAMPLES:
        raise ValueError(f"signal too short: {n} samples at {sr} Hz, needs at least "
                         f"{MIN_SAMPLES / SR * 1000:.0f} ms")


def log_mel_blocks(y16: np.ndarray) -> Iterator[np.ndarray]:
    """The log-mel frames of a 16-kHz signal, block by block (one minute of samples at a time).

    Their concatenation is :func:`log_mel` of the signal; only a block of frames exists at once.
    """
    stream = LogMelStream()
    for i in range(0, len(y16), _BLOCK_SAMPLES):
        yield stream.push(y16[i: i + _BLOCK_SAMPLES])
    yield stream.finish()


def log_mel(y: np.ndarray, sr: int) -> np.ndarray:
    """musicnn's input representation of a whole signal: ``log10(10000 * mel + 1)``, float32.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal, any float or integer dtype (float16 is widened to float32 first).
    sr : int
        Its sample rate; resampled to 16 kHz.

    Returns
    -------
    np.ndarray, shape (1 + n16 // 256, 96), float32
        One row per 16-ms frame, ``n16`` being the length at 16 kHz.

    Raises
    ------
    ValueError
        For an empty, non-mono or NaN/inf signal, or one shorter than 32 ms.

    Examples
    --------
    >>> S = log_mel(np.ones(16000, dtype=np.float32), 16000)
    >>> S.shape, S.dtype.name
    ((63, 96), 'float32')
    """
    return np.concatenate(list(log_mel_blocks(resample_16k(check_signal(y, sr), sr))))


def patches(spectrogram: np.ndarray) -> np.ndarray:
    """Cut a log-mel spectrogram into the model's non-overlapping 187-frame patches.

    A tail shorter than a patch is left out (as musicnn does); a spectrogram shorter than one patch
    is repeated until it fills one (musicnn's training "repeat-pad"), so short clips give one patch.

    Examples
    --------
    >>> patches(np.zeros((1876, 96), dtype=np.float32)).shape   # 30 s
    (10, 187, 96)
    >>> patches(np.zeros((63, 96), dtype=np.float32)).shape     # 1 s: repeated 3 times
    (1, 187, 96)
    """
    S = np.asarray(spectrogram, dtype=np.float32)
    if S.ndim != 2 or S.shape[1] != N_MELS or len(S) == 0:
        raise ValueError(f"expected a (frames, {N_MELS}) spectrogram, got shape {S.shape}")
    if len(S) < PATCH_FRAMES:
        S = np.tile(S, (-(-PATCH_FRAMES // len(S)), 1))[:PATCH_FRAMES]
    k = len(S) // PATCH_FRAMES
    return S[: k * PATCH_FRAMES].reshape(k, PATCH_FRAMES, N_MELS)
