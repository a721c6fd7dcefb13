"""The fast MFCC the feature pipeline stores: all segments of a clip at once.

:func:`mfcc_segments` gives exactly what the paper's named call gives,
``librosa.feature.mfcc(segment, ...).T`` segment by segment (the tests compare the two, and with
the from-scratch :func:`mgc_helpers.signal.mfcc.mfcc` written for teaching), but computes the STFT of
all segments of a clip with one FFT call (:func:`power_spectrogram`) and builds the mel filter
bank only once per process, as a sparse matrix.

Explained in ``05_mfcc.ipynb`` and ``06_dataset.ipynb``.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..core.config import PAPER_CONFIG, FeatureConfig

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse

__all__ = ["filters", "install_filters", "mfcc_segments", "power_spectrogram", "reuse_freed_memory"]

#: Filter banks and windows handed over by :func:`install_filters`, by (sample rate, n_fft, n_mels).
_INSTALLED: dict[tuple[int, int, int], tuple[scipy.sparse.csr_matrix, np.ndarray]] = {}


def filters(config: FeatureConfig = PAPER_CONFIG) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """The mel filter bank (sparse) and analysis window :func:`mfcc_segments` uses for ``config``.

    A parent process computes them once and hands them to its workers (:func:`install_filters`), so
    that a worker never imports librosa (about a second of CPU time per process).
    """
    key = (config.sample_rate, config.n_fft, config.n_mels)
    if key in _INSTALLED:
        return _INSTALLED[key]
    return _librosa_mel_basis(*key), _librosa_window(config.n_fft)


@lru_cache(maxsize=1)
def reuse_freed_memory() -> bool:
    """Ask glibc's ``malloc`` to keep freed blocks of up to 256 MB for reuse (worker processes).

    Each clip's MFCCs allocate several 5-10 MB temporaries; by default glibc gives such blocks back
    to the system when they are freed and takes them again (zeroed page by page) for the next clip,
    which costs about a fifth of the CPU time of :func:`mfcc_segments`. Called once by the worker
    processes of :func:`mgc_helpers.data.features.extract_features` and ``mgc predict``; the numbers do
    not change. Returns whether it applied (Linux with glibc only).
    """
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # from <malloc.h>
        return bool(libc.mallopt(m_mmap_threshold, 256 * 2**20)) and bool(libc.mallopt(m_trim_threshold, 2**30))
    except (OSError, AttributeError):  # another C library (musl...): leave it as it is
        return False


def install_filters(config: FeatureConfig, bank: tuple[scipy.sparse.csr_matrix, np.ndarray]) -> None:
    """Use ``bank`` (from :func:`filters` in another process) for ``config`` in this process."""
    _INSTALLED[(config.sample_rate, config.n_fft, config.n_mels)] = bank


def _mel_basis(sample_rate: int, n_fft: int, n_mels: int) -> scipy.sparse.csr_matrix:
    installed = _INSTALLED.get((sample_rate, n_fft, n_mels))
    return installed[0] if installed is not None else _librosa_mel_basis(sample_rate, n_fft, n_mels)


def _window(n_fft: int) -> np.ndarray:
    for (_, size, _), (_, window) in _INSTALLED.items():
        if size == n_fft:
            return window
    return _librosa_window(n_fft)


@lru_cache(maxsize=8)
def _librosa_mel_basis(sample_rate: int, n_fft: int, n_mels: int) -> scipy.sparse.csr_matrix:
    """librosa's (Slaney) mel filter bank as a sparse matrix, built once per process.

    Each triangular filter covers only a few FFT bins (about 2000 non-zeros of 131 000), so the
    sparse product is cheaper than the dense one and, unlike a BLAS call, gives the same bits
    whatever the number of threads.
    """
    import librosa
    import scipy.sparse

    return scipy.sparse.csr_matrix(librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels))


@lru_cache(maxsize=8)
def _librosa_window(n_fft: int) -> np.ndarray:
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
        Mono segments at ``config.sample_rate`` (see :func:`mgc_helpers.signal.audio.segment_signal`).
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
