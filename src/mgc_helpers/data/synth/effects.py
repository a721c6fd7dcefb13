"""Effects: Butterworth filters, a high shelf, waveshaping distortion, tape echo and convolution reverb.

Each effect takes and returns a numpy array of samples. The reverb's impulse response is
synthetic: low-passed noise decaying exponentially. Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal

from .oscillators import clock

#: A cut-off in Hz, or a (low, high) band.
Cutoff = float | tuple[float, ...]


@lru_cache(maxsize=256)
def _sos(kind: str, cutoff: Cutoff, sr: int, order: int) -> np.ndarray:
    """Cached Butterworth design as second-order sections."""
    return signal.butter(order, cutoff, btype=kind, fs=sr, output="sos")


def butterworth(x: np.ndarray, kind: str, cutoff: Cutoff, sr: int, order: int = 2) -> np.ndarray:
    """Butterworth filter of ``kind`` ``"lowpass"``, ``"highpass"`` or ``"bandpass"`` (band as a tuple).

    The cut-offs are rounded to 0.1 Hz, so that the filter designs can be cached.
    Explained in ``06_dataset.ipynb``.
    """
    if isinstance(cutoff, tuple):
        cutoff = tuple(round(float(c), 1) for c in cutoff)
    else:
        cutoff = round(float(cutoff), 1)
    return signal.sosfilt(_sos(kind, cutoff, sr, order), x)


def lowpass(x: np.ndarray, cutoff: float, *, sr: int, order: int = 2) -> np.ndarray:
    """Butterworth low-pass filter (``cutoff`` in Hz, at most 0.45 ``sr``; ``06_dataset.ipynb``)."""
    return butterworth(x, "lowpass", min(cutoff, 0.45 * sr), sr, order)


def highpass(x: np.ndarray, cutoff: float, *, sr: int, order: int = 2) -> np.ndarray:
    """Butterworth high-pass filter (``cutoff`` in Hz; ``06_dataset.ipynb``)."""
    return butterworth(x, "highpass", cutoff, sr, order)


def distortion(x: np.ndarray, drive: float, *, sr: int) -> np.ndarray:
    """Waveshaping distortion: ``tanh`` of the signal boosted by up to 40 dB, then a cabinet low-pass.

    ``drive`` goes from 0 (clean) to 1 (metal). The output keeps roughly the input's peak.
    Explained in ``06_dataset.ipynb``.
    """
    if drive <= 0:
        return x
    peak = max(np.abs(x).max(), 1e-12)
    gain = 10.0 ** (2.0 * drive)
    y = np.tanh(gain * x / peak)
    return peak * lowpass(y, 6500 - 2500 * drive, sr=sr, order=2)


def reverb(x: np.ndarray, *, sr: int, rt60: float, wet: float, rng: np.random.Generator,
           damping: float = 5000.0, predelay: float = 0.015) -> np.ndarray:
    """Convolution reverb with a synthetic impulse response: low-passed noise decaying 60 dB in ``rt60``.

    Returns the dry signal plus ``wet`` times the reverberated one. The reverberation is dull
    (``damping`` low-pass), so it is computed at half the sample rate and interpolated back:
    half the FFT work for an inaudible difference.

    Examples
    --------
    >>> x = np.zeros(22050); x[0] = 1.0
    >>> y = reverb(x, sr=22050, rt60=0.5, wet=0.5, rng=np.random.default_rng(0))
    >>> bool(abs(y[0] - 1.0) < 1e-6 and np.abs(y[1000:5000]).max() > 0.01)
    True

    Explained in ``06_dataset.ipynb``.
    """
    if wet <= 0:
        return x
    sr2 = sr // 2
    x2 = (0.5 * (x[0:len(x) - 1:2] + x[1::2])).astype(np.float32)
    n_ir = int(rt60 * sr2)
    t = clock(n_ir, sr2)
    ir = lowpass(rng.standard_normal(n_ir), min(damping, 0.45 * sr2), sr=sr2) * np.exp(-6.9 * t / rt60)
    ir = np.concatenate([np.zeros(int(predelay * sr2)), ir / np.sqrt(np.sum(ir**2))]).astype(np.float32)
    wet2 = signal.fftconvolve(x2, ir)[: len(x2)]
    up = np.empty(len(x))
    up[0:2 * len(wet2):2] = wet2
    up[1:2 * len(wet2):2] = 0.5 * (wet2 + np.append(wet2[1:], 0.0))
    if len(x) % 2:
        up[-1] = wet2[-1] if len(wet2) else 0.0
    return x + wet * up


def high_shelf(freq: float, gain_db: float, *, sr: int) -> np.ndarray:
    """Second-order high-shelf filter (RBJ audio-EQ cookbook) as one ``sos`` row: tilts the spectrum.

    Explained in ``06_dataset.ipynb``.
    """
    A = 10.0 ** (gain_db / 40.0)
    w0 = 2 * np.pi * freq / sr
    alpha = np.sin(w0) / 2 * np.sqrt(2.0)
    cw, sa = np.cos(w0), 2 * np.sqrt(A) * alpha
    b = np.array([A * ((A + 1) + (A - 1) * cw + sa), -2 * A * ((A - 1) + (A + 1) * cw),
                  A * ((A + 1) + (A - 1) * cw - sa)])
    a = np.array([(A + 1) - (A - 1) * cw + sa, 2 * ((A - 1) - (A + 1) * cw), (A + 1) - (A - 1) * cw - sa])
    return np.concatenate([b / a[0], a / a[0]])[None, :]


def echo(x: np.ndarray, *, sr: int, delay: float, feedback: float, repeats: int = 4) -> np.ndarray:
    """Tape-style echo: ``repeats`` copies delayed by ``delay`` s, each ``feedback`` times quieter.

    Explained in ``06_dataset.ipynb``.
    """
    y = x.copy()
    d = int(delay * sr)
    for r in range(1, repeats + 1):
        if r * d >= len(x):
            break
        y[r * d:] += feedback**r * x[: len(x) - r * d]
    return y
