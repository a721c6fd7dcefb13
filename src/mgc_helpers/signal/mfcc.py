"""Mel-frequency cepstral coefficients, written out step by step in NumPy.

The paper (section 3.1) computes MFCCs in five steps; here each step is its own function so that
``05_mfcc.ipynb`` can show the intermediate arrays:

1. :func:`frame` - cut the (centred, zero-padded) signal into overlapping frames, and
   :func:`apply_window` - taper each frame with a Hann window;
2. :func:`power_frames` - FFT of each frame and its power :math:`|X|^2`;
3. :func:`mel_energies` - sum the power in each triangular mel filter;
4. :func:`log_energies` - take the logarithm (in dB, clipped 80 dB below the maximum);
5. :func:`dct` - decorrelate with a type-II orthonormal DCT and keep the first ``n_mfcc``.

:func:`mfcc` chains them and returns ``(n_mfcc, n_frames)`` like :func:`librosa.feature.mfcc`.
With matched settings (``center=True``, ``pad_mode="constant"``, Hann window, Slaney mel scale and
area normalisation, ``power_to_db`` with ``ref=1``, ``amin=1e-10``, ``top_db=80``, DCT-II
``norm="ortho"``, no liftering) it agrees with librosa within :data:`LIBROSA_TOLERANCE`.

This is the MFCC for teaching. The feature pipeline stores the fast, batched
:func:`mgc_helpers.signal.mfcc_fast.mfcc_segments` (all segments of a clip at once, time first:
``(frames, n_mfcc)`` = ``(130, 13)``); the tests compare the two, and each with librosa.

Explained in ``05_mfcc.ipynb``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.config import PAPER_CONFIG
from .spectral import _as_signal, frame_signal, get_window, mel_filterbank, to_db

__all__ = [
    "LIBROSA_TOLERANCE",
    "MFCCSteps",
    "apply_window",
    "dct",
    "dct_matrix",
    "frame",
    "log_energies",
    "max_relative_difference",
    "mel_energies",
    "mfcc",
    "mfcc_steps",
    "power_frames",
]

#: Agreement with :func:`librosa.feature.mfcc` guaranteed by the tests: the largest absolute
#: difference between the two MFCC matrices, divided by the range (max - min) of librosa's
#: coefficients, stays below this value. librosa computes in float32 and this module in float64;
#: the measured differences are around 1e-7 of the range, so 1e-5 leaves a wide margin while
#: still catching any mismatched setting (which gives differences of 1e-2 or more).
LIBROSA_TOLERANCE = 1e-5

_C = PAPER_CONFIG


def frame(y: np.ndarray, *, n_fft: int = _C.n_fft, hop_length: int = _C.hop_length,
          center: bool = True, pad_mode: str = "constant") -> np.ndarray:
    """Step 1a: overlapping frames of ``n_fft`` samples every ``hop_length`` samples.

    With ``center=True`` the signal is padded with ``n_fft // 2`` zeros on each side (librosa's
    ``pad_mode="constant"``), giving ``1 + len(y) // hop_length`` frames.

    Returns
    -------
    np.ndarray
        Shape ``(n_fft, n_frames)``, float64.
    """
    y = _as_signal(y).astype(np.float64)
    return frame_signal(y, frame_length=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode)


def apply_window(frames: np.ndarray, *, window: str | tuple | np.ndarray = "hann") -> np.ndarray:
    """Step 1b: multiply every frame (column) by the analysis window (periodic Hann by default).

    Returns an array of the same shape ``(n_fft, n_frames)``.
    """
    frames = np.asarray(frames)
    if frames.ndim != 2:
        raise ValueError(f"frames must have shape (n_fft, n_frames), got {frames.shape}")
    return frames * get_window(window, frames.shape[0])[:, np.newaxis]


def power_frames(windowed: np.ndarray) -> np.ndarray:
    """Step 2: FFT of each windowed frame and its power :math:`|X(k, t)|^2`.

    Returns shape ``(1 + n_fft // 2, n_frames)``: the power spectrogram.
    """
    return np.abs(np.fft.rfft(windowed, axis=0)) ** 2


def mel_energies(power: np.ndarray, *, sr: float = _C.sample_rate, n_mels: int = _C.n_mels,
                 fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
                 norm: str | None = "slaney") -> np.ndarray:
    """Step 3: energy in each triangular mel filter, ``filterbank @ power``.

    ``n_fft`` is taken from the number of rows of ``power``. Returns shape ``(n_mels, n_frames)``.
    """
    power = np.asarray(power)
    n_fft = 2 * (power.shape[0] - 1)
    fb = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
    return fb @ power


def log_energies(mel: np.ndarray, *, amin: float = 1e-10, top_db: float | None = 80.0) -> np.ndarray:
    """Step 4: logarithm of the mel energies in dB, :math:`10\\log_{10}`, floored at ``amin`` and
    clipped ``top_db`` below the maximum of the whole array (librosa's ``power_to_db``).

    Returns the same shape ``(n_mels, n_frames)``.
    """
    return to_db(mel, ref=1.0, amin=amin, top_db=top_db)


def dct_matrix(n_mfcc: int, n_mels: int) -> np.ndarray:
    """Orthonormal DCT-II basis, shape ``(n_mfcc, n_mels)``.

    .. math:: D_{q,m} = s_q \\cos\\left(\\frac{\\pi q (2m + 1)}{2M}\\right),\\quad
              s_0 = \\sqrt{1/M},\\; s_{q>0} = \\sqrt{2/M}

    Row ``q`` is a cosine with ``q`` half-periods across the ``M`` mel bands; the rows are
    orthonormal (``D @ D.T`` is the identity when ``n_mfcc == n_mels``).
    """
    if not 0 < n_mfcc <= n_mels:
        raise ValueError(f"need 0 < n_mfcc <= n_mels, got n_mfcc={n_mfcc}, n_mels={n_mels}")
    q = np.arange(n_mfcc)[:, np.newaxis]
    m = np.arange(n_mels)[np.newaxis, :]
    D = np.cos(np.pi * q * (2 * m + 1) / (2 * n_mels)) * np.sqrt(2.0 / n_mels)
    D[0] /= np.sqrt(2.0)
    return D


def dct(log_mel: np.ndarray, *, n_mfcc: int = _C.n_mfcc) -> np.ndarray:
    """Step 5: type-II orthonormal DCT along the mel axis, keeping the first ``n_mfcc`` rows.

    Returns shape ``(n_mfcc, n_frames)``: the MFCCs. Equal to
    ``scipy.fft.dct(log_mel, type=2, norm="ortho", axis=0)[:n_mfcc]``.
    """
    log_mel = np.asarray(log_mel)
    return dct_matrix(n_mfcc, log_mel.shape[0]) @ log_mel


@dataclass(frozen=True)
class MFCCSteps:
    """Every intermediate array of :func:`mfcc_steps`, in order (shapes for a 3-s segment)."""

    frames: np.ndarray    #: (n_fft, n_frames) = (2048, 130)
    windowed: np.ndarray  #: (n_fft, n_frames)
    power: np.ndarray     #: (1 + n_fft // 2, n_frames) = (1025, 130)
    mel: np.ndarray       #: (n_mels, n_frames) = (128, 130)
    log_mel: np.ndarray   #: (n_mels, n_frames), dB
    mfcc: np.ndarray      #: (n_mfcc, n_frames) = (13, 130)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Name -> shape of every step, for printing."""
        return {name: getattr(self, name).shape
                for name in ("frames", "windowed", "power", "mel", "log_mel", "mfcc")}


def mfcc_steps(y: np.ndarray, *, sr: float = _C.sample_rate, n_mfcc: int = _C.n_mfcc,
               n_fft: int = _C.n_fft, hop_length: int = _C.hop_length, n_mels: int = _C.n_mels,
               window: str | tuple | np.ndarray = "hann", center: bool = True,
               pad_mode: str = "constant", fmin: float = 0.0, fmax: float | None = None,
               htk: bool = False, norm: str | None = "slaney", amin: float = 1e-10,
               top_db: float | None = 80.0) -> MFCCSteps:
    """Run the five steps and keep every intermediate array (see :func:`mfcc` for parameters)."""
    if n_mfcc > n_mels:
        raise ValueError(f"n_mfcc ({n_mfcc}) cannot exceed n_mels ({n_mels})")
    frames = frame(y, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode)
    windowed = apply_window(frames, window=window)
    power = power_frames(windowed)
    mel = mel_energies(power, sr=sr, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
    log_mel = log_energies(mel, amin=amin, top_db=top_db)
    coefficients = dct(log_mel, n_mfcc=n_mfcc)
    return MFCCSteps(frames, windowed, power, mel, log_mel, coefficients)


def mfcc(y: np.ndarray, *, sr: float = _C.sample_rate, n_mfcc: int = _C.n_mfcc,
         n_fft: int = _C.n_fft, hop_length: int = _C.hop_length, n_mels: int = _C.n_mels,
         window: str | tuple | np.ndarray = "hann", center: bool = True, pad_mode: str = "constant",
         fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
         norm: str | None = "slaney", amin: float = 1e-10, top_db: float | None = 80.0) -> np.ndarray:
    """MFCCs from scratch: frame, window, FFT power, mel filter bank, dB, DCT-II.

    Parameters
    ----------
    y : np.ndarray
        Mono signal.
    sr : float
        Sample rate in Hz.
    n_mfcc : int
        Coefficients kept (the paper: 13).
    n_fft, hop_length : int
        Frame length and hop in samples (the paper: 2048 and 512).
    n_mels : int
        Mel filters (librosa's default 128).
    window, center, pad_mode
        Framing, as in :func:`mgc_helpers.signal.spectral.stft`.
    fmin, fmax, htk, norm
        Filter bank, as in :func:`mgc_helpers.signal.spectral.mel_filterbank`.
    amin, top_db
        dB conversion, as in :func:`mgc_helpers.signal.spectral.to_db` with ``ref=1``.

    Returns
    -------
    np.ndarray
        Shape ``(n_mfcc, 1 + len(y) // hop_length)`` when centred; ``(13, 130)`` for a 3-s
        segment at 22050 Hz.

    Examples
    --------
    >>> mfcc(np.random.default_rng(0).standard_normal(66150)).shape
    (13, 130)
    """
    return mfcc_steps(y, sr=sr, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
                      window=window, center=center, pad_mode=pad_mode, fmin=fmin, fmax=fmax, htk=htk,
                      norm=norm, amin=amin, top_db=top_db).mfcc


def max_relative_difference(A: np.ndarray, B: np.ndarray) -> float:
    """Largest ``|A - B|`` divided by the range ``max(B) - min(B)`` of the reference ``B``.

    The measure behind :data:`LIBROSA_TOLERANCE`.
    """
    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    if A.shape != B.shape:
        raise ValueError(f"shapes differ: {A.shape} vs {B.shape}")
    span = float(B.max() - B.min())
    return float(np.abs(A - B).max() / span) if span > 0 else float(np.abs(A - B).max())
