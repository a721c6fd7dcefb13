"""The representations of the paper's section 3, one small NumPy/SciPy function each.

Waveform -> power spectrum (FFT) -> short-time Fourier transform -> (log, mel) spectrogram ->
cepstrum. Every function follows the conventions of librosa :cite:`mcfee2015librosa` (array
layout ``(frequency, time)``, centred frames, periodic Hann window, Slaney mel filters), so that
the book's figures and the pipeline's features agree; ``tests/test_spectral.py`` checks each one
against librosa.

Explained in ``02_fft.ipynb`` (power spectrum), ``03_stft.ipynb`` (framing, STFT, spectrogram),
``04_log_mel.ipynb`` (dB, mel scale, filter bank) and ``05_mfcc.ipynb`` (cepstrum).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import scipy.signal
from numpy.typing import ArrayLike

from ..core.config import PAPER_CONFIG

__all__ = [
    "Spectrum",
    "cepstrum",
    "fft_frequencies",
    "frame_signal",
    "frame_times",
    "get_window",
    "hz_to_mel",
    "mel_filterbank",
    "mel_frequencies",
    "mel_spectrogram",
    "mel_to_hz",
    "power_spectrum",
    "spectrogram",
    "stft",
    "to_db",
]

_SR = PAPER_CONFIG.sample_rate
_N_FFT = PAPER_CONFIG.n_fft
_HOP = PAPER_CONFIG.hop_length
_N_MELS = PAPER_CONFIG.n_mels

#: Slaney mel scale: linear part (Hz per mel) below ``_SLANEY_F_BREAK``, logarithmic above it.
_SLANEY_F_SP = 200.0 / 3
_SLANEY_F_BREAK = 1000.0
_SLANEY_MEL_BREAK = _SLANEY_F_BREAK / _SLANEY_F_SP  # 15 mel
_SLANEY_LOGSTEP = np.log(6.4) / 27.0


class Spectrum(NamedTuple):
    """A power spectrum: ``power[k]`` is the energy at frequency ``frequencies[k]`` (Hz)."""

    frequencies: np.ndarray
    power: np.ndarray


def _as_signal(y: ArrayLike, name: str = "y") -> np.ndarray:
    """Check that ``y`` is a non-empty, finite, one-dimensional signal and return it as an array."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional (mono) signal, got shape {y.shape}")
    if y.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.issubdtype(y.dtype, np.floating):
        y = y.astype(np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return y


def _positive_int(value: Any, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def frame_signal(y: np.ndarray, *, frame_length: int = _N_FFT, hop_length: int = _HOP,
                 center: bool = True, pad_mode: str = "constant") -> np.ndarray:
    """Cut a signal into overlapping frames, one frame per column.

    With ``center=True`` the signal is first padded by ``frame_length // 2`` samples on both
    sides, so that frame ``t`` is centred on sample ``t * hop_length`` and there are
    ``1 + len(y) // hop_length`` frames (librosa's convention).

    Parameters
    ----------
    y : np.ndarray
        Mono signal, shape ``(n,)``.
    frame_length : int
        Samples per frame (the FFT size ``n_fft``).
    hop_length : int
        Samples between the starts of successive frames.
    center : bool
        Pad so that frames are centred on multiples of ``hop_length``.
    pad_mode : str
        How to pad when centring; any mode of :func:`numpy.pad` (librosa's default is
        ``"constant"``, i.e. zeros).

    Returns
    -------
    np.ndarray
        Shape ``(frame_length, n_frames)``; a read-only view when no padding was needed.

    Raises
    ------
    ValueError
        If the signal is not 1-D, or is shorter than one frame when ``center=False``.

    Examples
    --------
    >>> frame_signal(np.zeros(66150), frame_length=2048, hop_length=512).shape
    (2048, 130)

    Explained in ``03_stft.ipynb``.
    """
    y = _as_signal(y)
    frame_length = _positive_int(frame_length, "frame_length")
    hop_length = _positive_int(hop_length, "hop_length")
    if center:
        pad = frame_length // 2
        y = np.pad(y, (pad, pad), mode=pad_mode)  # type: ignore[call-overload]  # any numpy pad mode
    if y.size < frame_length:
        raise ValueError(f"signal of {y.size} samples is shorter than frame_length={frame_length}; "
                         "use center=True or a shorter frame")
    frames = np.lib.stride_tricks.sliding_window_view(y, frame_length)[::hop_length]
    return frames.T


def get_window(window: str | tuple | np.ndarray = "hann", n_fft: int = _N_FFT) -> np.ndarray:
    """A window of length ``n_fft``, periodic (DFT-even) as used for spectral analysis.

    ``window`` is a name or tuple understood by :func:`scipy.signal.get_window` (``"hann"``,
    ``"hamming"``, ``"boxcar"``, ``("kaiser", 8.0)`` ...) or an array of length ``n_fft``.

    Explained in ``03_stft.ipynb``.
    """
    n_fft = _positive_int(n_fft, "n_fft")
    if isinstance(window, np.ndarray):
        if window.shape != (n_fft,):
            raise ValueError(f"window array has shape {window.shape}, expected ({n_fft},)")
        return window.astype(np.float64)
    return scipy.signal.get_window(window, n_fft, fftbins=True)


def fft_frequencies(*, sr: float = _SR, n_fft: int = _N_FFT) -> np.ndarray:
    """Centre frequencies (Hz) of the ``1 + n_fft // 2`` bins of a real FFT: ``k * sr / n_fft``.

    Explained in ``02_fft.ipynb``.
    """
    n_fft = _positive_int(n_fft, "n_fft")
    return np.fft.rfftfreq(n_fft, d=1.0 / sr)


def frame_times(n_frames: int, *, sr: float = _SR, hop_length: int = _HOP) -> np.ndarray:
    """Time (s) of the centre of each of ``n_frames`` centred frames: ``t * hop_length / sr``.

    Explained in ``03_stft.ipynb``.
    """
    return np.arange(n_frames) * hop_length / sr


def power_spectrum(y: np.ndarray, *, sr: float = _SR, n_fft: int | None = None,
                   window: str | tuple | np.ndarray | None = None) -> Spectrum:
    """Power spectrum :math:`|X(k)|^2` of the whole signal (one FFT, no time axis).

    Parameters
    ----------
    y : np.ndarray
        Mono signal.
    sr : float
        Sample rate in Hz (sets the frequency of each bin).
    n_fft : int or None
        FFT size. ``None`` uses the whole signal (``len(y)``); a shorter ``n_fft`` uses only the
        first ``n_fft`` samples and a longer one zero-pads.
    window : str, tuple, array or None
        Optional window applied before the FFT (``None``: rectangular, i.e. no window).

    Returns
    -------
    Spectrum
        ``(frequencies, power)``, both of shape ``(1 + n_fft // 2,)``; bins are ``sr / n_fft`` Hz
        apart.

    Examples
    --------
    >>> t = np.arange(22050) / 22050
    >>> f, P = power_spectrum(np.sin(2 * np.pi * 440 * t), sr=22050)
    >>> float(f[np.argmax(P)])
    440.0

    Explained in ``02_fft.ipynb``.
    """
    y = _as_signal(y)
    n_fft = y.size if n_fft is None else _positive_int(n_fft, "n_fft")
    x = y[:n_fft]
    if window is not None:
        x = x * get_window(window, x.size)
    X = np.fft.rfft(x, n=n_fft)
    return Spectrum(fft_frequencies(sr=sr, n_fft=n_fft), np.abs(X) ** 2)


def stft(y: np.ndarray, *, n_fft: int = _N_FFT, hop_length: int = _HOP,
         window: str | tuple | np.ndarray = "hann", center: bool = True,
         pad_mode: str = "constant") -> np.ndarray:
    """Short-time Fourier transform: the FFT of each windowed frame.

    .. math:: X(k, t) = \\sum_{n=0}^{N-1} w(n)\\, x(n + tH - N/2)\\, e^{-2\\pi i k n / N}

    with window :math:`w`, FFT size :math:`N` = ``n_fft`` and hop :math:`H` = ``hop_length``
    (the :math:`-N/2` shift is the centring). Same result as :func:`librosa.stft` with the same
    arguments (``win_length = n_fft``).

    Parameters
    ----------
    y : np.ndarray
        Mono signal.
    n_fft : int
        FFT size = frame length in samples.
    hop_length : int
        Samples between frames.
    window : str, tuple or array
        Analysis window (periodic), see :func:`get_window`.
    center : bool
        Centre frame ``t`` on sample ``t * hop_length`` (pads ``n_fft // 2`` on both sides).
    pad_mode : str
        Padding for ``center=True`` (librosa's default: ``"constant"`` zeros).

    Returns
    -------
    np.ndarray
        Complex array of shape ``(1 + n_fft // 2, n_frames)``.

    Examples
    --------
    >>> stft(np.zeros(66150)).shape
    (1025, 130)

    Explained in ``03_stft.ipynb``.
    """
    frames = frame_signal(y, frame_length=n_fft, hop_length=hop_length, center=center,
                          pad_mode=pad_mode)
    w = get_window(window, n_fft)
    return np.fft.rfft(frames * w[:, np.newaxis], axis=0)


def spectrogram(y: np.ndarray, *, n_fft: int = _N_FFT, hop_length: int = _HOP,
                window: str | tuple | np.ndarray = "hann", center: bool = True,
                pad_mode: str = "constant", power: float = 2.0) -> np.ndarray:
    """Magnitude (``power=1``) or power (``power=2``, the default) spectrogram :math:`|X(k,t)|^p`.

    Returns an array of shape ``(1 + n_fft // 2, n_frames)``; see :func:`stft` for the other
    parameters.

    Explained in ``03_stft.ipynb``.
    """
    if not power > 0:
        raise ValueError(f"power must be positive, got {power!r}")
    return np.abs(stft(y, n_fft=n_fft, hop_length=hop_length, window=window, center=center,
                       pad_mode=pad_mode)) ** power


def to_db(S: np.ndarray, *, ref: float | Callable[[np.ndarray], float] = 1.0,
          amin: float = 1e-10, top_db: float | None = 80.0) -> np.ndarray:
    """Convert a power spectrogram to decibels: :math:`10 \\log_{10}(\\max(S, a) / \\mathrm{ref})`.

    Parameters
    ----------
    S : np.ndarray
        Non-negative power values (square magnitudes first if you have amplitudes).
    ref : float or callable
        Reference power that maps to 0 dB; a callable such as :func:`numpy.max` is applied to
        ``S``.
    amin : float
        Floor applied before the logarithm (avoids :math:`\\log 0`; ``1e-10`` is -100 dB).
    top_db : float or None
        Clip everything more than ``top_db`` below the maximum of the *whole* array (``None``:
        no clipping).

    Returns
    -------
    np.ndarray
        Same shape as ``S``. Equal to :func:`librosa.power_to_db` with the same arguments.

    Explained in ``04_log_mel.ipynb``.
    """
    S = np.asarray(S)
    if np.iscomplexobj(S):
        raise ValueError("to_db expects power values; pass np.abs(X) ** 2 of a complex STFT")
    if not amin > 0:
        raise ValueError(f"amin must be positive, got {amin!r}")
    ref_value = ref(S) if callable(ref) else ref
    log_S = 10.0 * np.log10(np.maximum(amin, S))
    log_S = log_S - 10.0 * np.log10(np.maximum(amin, np.abs(ref_value)))
    if top_db is not None:
        if top_db < 0:
            raise ValueError(f"top_db must be non-negative, got {top_db!r}")
        log_S = np.maximum(log_S, log_S.max() - top_db)
    return log_S


def hz_to_mel(f: ArrayLike, *, htk: bool = True) -> Any:  # an array, or a NumPy float for a number
    """Frequency in Hz to mels.

    ``htk=True`` is equation 3.1 of the paper (the HTK formula of O'Shaughnessy
    :cite:`oshaughnessy1987speech`):

    .. math:: m = 2595 \\log_{10}\\left(1 + \\frac{f}{700}\\right)

    ``htk=False`` is the Slaney variant :cite:`slaney1998auditory` that librosa uses by default:
    linear below 1 kHz (``f / (200/3)``, so 1000 Hz = 15 mel) and logarithmic above it
    (``15 + log(f / 1000) / (log(6.4) / 27)``).

    Examples
    --------
    >>> round(float(hz_to_mel(700.0)), 4) == round(2595 * np.log10(2), 4)
    True

    Explained in ``04_log_mel.ipynb``.
    """
    f = np.asarray(f, dtype=np.float64)
    if htk:
        m = 2595.0 * np.log10(1.0 + f / 700.0)
    else:
        m = f / _SLANEY_F_SP
        high = f >= _SLANEY_F_BREAK
        m = np.where(high, _SLANEY_MEL_BREAK
                     + np.log(np.maximum(f, _SLANEY_F_BREAK) / _SLANEY_F_BREAK) / _SLANEY_LOGSTEP, m)
    return m if m.ndim else m[()]


def mel_to_hz(m: ArrayLike, *, htk: bool = True) -> Any:  # an array, or a NumPy float for a number
    """Mels to frequency in Hz, the inverse of :func:`hz_to_mel` for the same ``htk`` flag.

    Explained in ``04_log_mel.ipynb``.
    """
    m = np.asarray(m, dtype=np.float64)
    if htk:
        f = 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    else:
        f = _SLANEY_F_SP * m
        high = m >= _SLANEY_MEL_BREAK
        f = np.where(high, _SLANEY_F_BREAK
                     * np.exp(_SLANEY_LOGSTEP * (np.maximum(m, _SLANEY_MEL_BREAK) - _SLANEY_MEL_BREAK)), f)
    return f if f.ndim else f[()]


def mel_frequencies(n_mels: int, *, fmin: float = 0.0, fmax: float = _SR / 2,
                    htk: bool = False) -> np.ndarray:
    """``n_mels`` frequencies (Hz) equally spaced on the mel scale from ``fmin`` to ``fmax``.

    Explained in ``04_log_mel.ipynb``.
    """
    n_mels = _positive_int(n_mels, "n_mels")
    mels = np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), n_mels)
    return mel_to_hz(mels, htk=htk)


def mel_filterbank(*, sr: float = _SR, n_fft: int = _N_FFT, n_mels: int = _N_MELS,
                   fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
                   norm: str | None = "slaney") -> np.ndarray:
    """Triangular mel filter bank (the paper's Figure 1).

    The ``n_mels + 2`` edge frequencies :math:`f_0 < f_1 < \\dots < f_{M+1}` are equally spaced
    in mels between ``fmin`` and ``fmax``. Filter :math:`m` rises linearly from 0 at
    :math:`f_{m}` to its peak at :math:`f_{m+1}` and falls back to 0 at :math:`f_{m+2}`, so
    neighbouring filters overlap by half. With ``norm="slaney"`` each triangle is scaled by
    :math:`2 / (f_{m+2} - f_{m})` so that every filter has the same area (wide high filters get
    lower peaks). Same as :func:`librosa.filters.mel` with the same arguments.

    Parameters
    ----------
    sr : float
        Sample rate in Hz.
    n_fft : int
        FFT size of the spectra the filters are applied to.
    n_mels : int
        Number of filters.
    fmin, fmax : float
        Lowest and highest edge in Hz (``fmax=None``: ``sr / 2``).
    htk : bool
        Use the HTK mel formula (equation 3.1) instead of Slaney's.
    norm : {"slaney", None}
        Area normalisation, or none (peaks of height 1).

    Returns
    -------
    np.ndarray
        Weights of shape ``(n_mels, 1 + n_fft // 2)``; ``fb @ S`` turns a power spectrogram
        ``S`` into a mel spectrogram.

    Explained in ``04_log_mel.ipynb``.
    """
    n_fft = _positive_int(n_fft, "n_fft")
    n_mels = _positive_int(n_mels, "n_mels")
    fmax = sr / 2 if fmax is None else float(fmax)
    if not 0 <= fmin < fmax:
        raise ValueError(f"need 0 <= fmin < fmax, got fmin={fmin!r}, fmax={fmax!r}")
    if norm not in ("slaney", None):
        raise ValueError(f"norm must be 'slaney' or None, got {norm!r}")
    f_bins = fft_frequencies(sr=sr, n_fft=n_fft)
    f_edges = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax, htk=htk)
    lower, centre, upper = f_edges[:-2, None], f_edges[1:-1, None], f_edges[2:, None]
    rising = (f_bins - lower) / (centre - lower)
    falling = (upper - f_bins) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    if norm == "slaney":
        weights *= 2.0 / (upper - lower)
    return weights


def mel_spectrogram(y: np.ndarray, *, sr: float = _SR, n_fft: int = _N_FFT, hop_length: int = _HOP,
                    n_mels: int = _N_MELS, window: str | tuple | np.ndarray = "hann",
                    center: bool = True, pad_mode: str = "constant", power: float = 2.0,
                    fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
                    norm: str | None = "slaney") -> np.ndarray:
    """Mel spectrogram: the filter bank applied to every frame of the (power) spectrogram.

    Returns shape ``(n_mels, n_frames)`` (power, not dB; pass it to :func:`to_db`). Same as
    :func:`librosa.feature.melspectrogram` with the same arguments.

    Explained in ``04_log_mel.ipynb``.
    """
    S = spectrogram(y, n_fft=n_fft, hop_length=hop_length, window=window, center=center,
                    pad_mode=pad_mode, power=power)
    fb = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
    return fb @ S


def cepstrum(y: np.ndarray, *, n_fft: int | None = None, amin: float = 1e-10) -> np.ndarray:
    """Real cepstrum, equation 3.2: the inverse FFT of the log magnitude spectrum.

    .. math:: c(q) = \\mathcal{F}^{-1}\\left\\{ \\log \\left| \\mathcal{F}\\{x(n)\\} \\right| \\right\\}

    Index ``q`` is the *quefrency* in samples (``q / sr`` seconds) :cite:`bogert1963quefrency`.
    A periodic sound with period :math:`P` samples has harmonics every :math:`sr / P` Hz; that
    ripple in the log spectrum gives a cepstral peak at ``q = P``. The slowly varying spectral
    envelope (timbre) ends up at small ``q``.

    Parameters
    ----------
    y : np.ndarray
        Mono signal (one frame, usually windowed).
    n_fft : int or None
        FFT size (``None``: ``len(y)``).
    amin : float
        Floor on the magnitude before the logarithm.

    Returns
    -------
    np.ndarray
        Real array of length ``n_fft``; only the first half is of interest (it is symmetric).

    Explained in ``05_mfcc.ipynb``.
    """
    y = _as_signal(y)
    n_fft = y.size if n_fft is None else _positive_int(n_fft, "n_fft")
    log_magnitude = np.log(np.maximum(amin, np.abs(np.fft.rfft(y, n=n_fft))))
    return np.fft.irfft(log_magnitude, n=n_fft)
