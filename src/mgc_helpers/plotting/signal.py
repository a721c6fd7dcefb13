"""Figures of the signal chapters 01-05 (waveform, spectrum, spectrogram, filter bank, MFCC).

Every function takes an optional ``ax`` (a new figure from :func:`.style.new_axes` when ``None``)
and returns ``(fig, ax, artist)``. Images are rasterised so that SVG files stay small.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.ticker import FuncFormatter

from ..core.config import PAPER_CONFIG
from .style import STYLE, new_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import QuadMesh
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

__all__ = [
    "plot_cepstrum",
    "plot_filterbank",
    "plot_mfcc",
    "plot_spectrogram",
    "plot_spectrum",
    "plot_waveform",
]

_SR = PAPER_CONFIG.sample_rate
_HOP = PAPER_CONFIG.hop_length

#: Frequencies (Hz) labelled on mel frequency axes.
_HZ_TICKS = (0, 250, 500, 1000, 2000, 4000, 8000, 16000)


def _hz_label(f: float) -> str:
    return f"{f / 1000:g}k" if f >= 1000 else f"{f:g}"


def _colorbar(fig: Figure, ax: Axes, artist: ScalarMappable, label: str) -> None:
    cb = fig.colorbar(artist, ax=ax, pad=0.01, fraction=0.05)
    cb.set_label(label)


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centres (midpoints, extended half a step at both ends)."""
    centres = np.asarray(centres, dtype=np.float64)
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mid = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])


def plot_waveform(y: np.ndarray, *, sr: float = _SR,
                  ax: Axes | None = None, offset: float = 0.0, title: str | None = None,
                  color: str | None = None, label: str | None = None,
                  **line_kwargs: Any) -> tuple[Figure, Axes, Line2D]:
    """Amplitude against time (s).

    Parameters
    ----------
    y : np.ndarray
        Mono signal.
    sr : float
        Sample rate in Hz.
    ax : matplotlib Axes or None
        Where to draw.
    offset : float
        Time (s) of the first sample, for zoomed excerpts.
    title, color, label : str
        Axes title, line colour and legend label.

    Returns
    -------
    (fig, ax, line)

    Explained in ``01_waveform.ipynb``.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"plot_waveform expects a mono signal, got shape {y.shape}")
    fig, ax = new_axes(ax)
    t = offset + np.arange(y.size) / sr
    line_kwargs.setdefault("linewidth", 0.6 if y.size > 2000 else 1.0)
    (line,) = ax.plot(t, y, color=color, label=label, **line_kwargs)
    ax.set_xlim(t[0], t[-1] if t.size > 1 else t[0] + 1 / sr)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    if title:
        ax.set_title(title)
    return fig, ax, line


def plot_spectrum(frequencies: np.ndarray, power: np.ndarray, *, ax: Axes | None = None, db: bool = True,
                  fmin: float = 0.0, fmax: float | None = None, log_freq: bool = False,
                  title: str | None = None, color: str | None = None, label: str | None = None,
                  top_db: float | None = 80.0, **line_kwargs: Any) -> tuple[Figure, Axes, Line2D]:
    """Power spectrum against frequency (Hz), in dB relative to its maximum by default.

    Parameters
    ----------
    frequencies, power : np.ndarray
        Output of :func:`mgc_helpers.signal.spectral.power_spectrum`.
    db : bool
        Plot :math:`10 \\log_{10}(P / \\max P)` (clipped ``top_db`` below 0) instead of ``P``.
    fmin, fmax : float
        Frequency range shown (``fmax: Axes | None = None``: the highest bin).
    log_freq : bool
        Logarithmic frequency axis.

    Returns
    -------
    (fig, ax, line)

    Explained in ``02_fft.ipynb``.
    """
    from ..signal.spectral import to_db

    frequencies, power = np.asarray(frequencies), np.asarray(power)
    if frequencies.shape != power.shape:
        raise ValueError(f"frequencies {frequencies.shape} and power {power.shape} differ in shape")
    fig, ax = new_axes(ax)
    values = to_db(power, ref=np.max, top_db=top_db) if db else power
    line_kwargs.setdefault("linewidth", 0.8)
    (line,) = ax.plot(frequencies, values, color=color, label=label, **line_kwargs)
    fmax = float(frequencies[-1]) if fmax is None else fmax
    if log_freq:
        ax.set_xscale("log")
        fmin = max(fmin, float(frequencies[1]) if frequencies.size > 1 else 1.0)
    ax.set_xlim(fmin, fmax)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("power (dB re max)" if db else "power")
    if title:
        ax.set_title(title)
    return fig, ax, line


def plot_spectrogram(S_db: np.ndarray, *, sr: float = _SR, hop_length: int = _HOP, ax: Axes | None = None,
                     y_axis: str = "linear", n_fft: int | None = None, fmin: float = 0.0,
                     fmax: float | None = None, htk: bool = False, colorbar: bool = True,
                     title: str | None = None, cmap: str | None = None, vmin: float | None = None,
                     vmax: float | None = None, label: str = "dB") -> tuple[Figure, Axes, QuadMesh]:
    """A (dB) spectrogram as an image: time (s) across, frequency up.

    Parameters
    ----------
    S_db : np.ndarray
        Shape ``(n_bins, n_frames)``. For ``y_axis="linear"`` or ``"log"`` the rows are the
        ``1 + n_fft // 2`` FFT bins; for ``y_axis="mel"`` they are mel bands.
    sr, hop_length : float, int
        Sample rate and hop, for the time axis (frame ``t`` is centred at ``t * hop_length / sr``).
    y_axis : {"linear", "log", "mel"}
        Frequency axis. ``"log"`` drops the 0-Hz bin; ``"mel"`` spaces the rows evenly in mels
        (between ``fmin`` and ``fmax``, HTK or Slaney) and labels them in Hz.
    n_fft : int or None
        FFT size (default: inferred from the number of rows, linear/log only).
    colorbar : bool
        Add a colour bar labelled ``label``.

    Returns
    -------
    (fig, ax, mesh)
        ``mesh`` is the :class:`~matplotlib.collections.QuadMesh`.

    Explained in ``03_stft.ipynb`` and ``04_log_mel.ipynb``.
    """
    from ..signal.spectral import fft_frequencies, hz_to_mel

    S_db = np.asarray(S_db)
    if S_db.ndim != 2:
        raise ValueError(f"S_db must have shape (n_bins, n_frames), got {S_db.shape}")
    if y_axis not in ("linear", "log", "mel"):
        raise ValueError(f"y_axis must be 'linear', 'log' or 'mel', got {y_axis!r}")
    n_bins, n_frames = S_db.shape
    fig, ax = new_axes(ax)
    t_edges = (np.arange(n_frames + 1) - 0.5) * hop_length / sr
    fmax = sr / 2 if fmax is None else fmax
    if y_axis == "mel":
        m_lo, m_hi = hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk)
        y_edges = np.linspace(m_lo, m_hi, n_bins + 1)
        data = S_db
    else:
        n_fft = 2 * (n_bins - 1) if n_fft is None else n_fft
        f = fft_frequencies(sr=sr, n_fft=n_fft)
        if f.size != n_bins:
            raise ValueError(f"{n_bins} rows do not match n_fft={n_fft} ({f.size} bins)")
        y_edges = np.clip(_edges(f), 0, None)
        data = S_db
        if y_axis == "log":
            y_edges, data = y_edges[1:], S_db[1:]
            y_edges[0] = max(y_edges[0], f[1] / 2)
    mesh = ax.pcolormesh(t_edges, y_edges, data, shading="flat", rasterized=True,
                         cmap=cmap or STYLE["image.cmap"], vmin=vmin, vmax=vmax)
    ax.grid(False)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    if y_axis == "mel":
        ticks = [f for f in _HZ_TICKS if fmin <= f <= fmax]
        ax.set_yticks([hz_to_mel(f, htk=htk) for f in ticks])
        ax.set_yticklabels([_hz_label(f) for f in ticks])
        ax.set_ylabel("frequency (Hz, mel-spaced)")
        ax.set_ylim(m_lo, m_hi)
    elif y_axis == "log":
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _hz_label(v)))
        ax.set_ylim(max(y_edges[0], fmin if fmin > 0 else y_edges[0]), min(fmax, y_edges[-1]))
    else:
        ax.set_ylim(fmin, min(fmax, y_edges[-1]))
    if colorbar:
        _colorbar(fig, ax, mesh, label)
    if title:
        ax.set_title(title)
    return fig, ax, mesh


def plot_filterbank(fb: np.ndarray, *, sr: float = _SR, n_fft: int | None = None, ax: Axes | None = None,
                    every: int = 1, fmax: float | None = None, cmap: str = "viridis",
                    title: str | None = None, linewidth: float = 0.9) -> tuple[Figure, Axes, LineCollection]:
    """Triangular mel filters against frequency (the paper's Figure 1).

    Parameters
    ----------
    fb : np.ndarray
        Filter bank of shape ``(n_mels, 1 + n_fft // 2)`` from
        :func:`mgc_helpers.signal.spectral.mel_filterbank`.
    every : int
        Draw every ``every``-th filter (128 filters are hard to tell apart).
    fmax : float or None
        Highest frequency shown.

    Returns
    -------
    (fig, ax, lines)
        ``lines`` is a :class:`~matplotlib.collections.LineCollection`, one line per filter drawn,
        coloured from low (dark) to high (light) centre frequency.

    Explained in ``04_log_mel.ipynb``.
    """
    from ..signal.spectral import fft_frequencies

    fb = np.asarray(fb)
    if fb.ndim != 2:
        raise ValueError(f"fb must have shape (n_mels, n_bins), got {fb.shape}")
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every!r}")
    n_fft = 2 * (fb.shape[1] - 1) if n_fft is None else n_fft
    f = fft_frequencies(sr=sr, n_fft=n_fft)
    if f.size != fb.shape[1]:
        raise ValueError(f"fb has {fb.shape[1]} columns but n_fft={n_fft} gives {f.size} bins")
    rows = fb[::every]
    segments = [np.column_stack([f, w]) for w in rows]
    colors = matplotlib.colormaps[cmap](np.linspace(0.0, 0.9, len(rows)))
    fig, ax = new_axes(ax)
    lines = LineCollection(segments, colors=colors, linewidths=linewidth)
    ax.add_collection(lines)
    ax.set_xlim(0, f[-1] if fmax is None else fmax)
    ax.set_ylim(0, 1.05 * float(rows.max()) if rows.size and rows.max() > 0 else 1)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("weight")
    if title:
        ax.set_title(title)
    return fig, ax, lines


def plot_mfcc(M: np.ndarray, *, sr: float = _SR, hop_length: int = _HOP, ax: Axes | None = None,
              colorbar: bool = True, title: str | None = None, cmap: str = "coolwarm",
              symmetric: bool = True, vmax: float | None = None, first: int = 0) -> tuple[Figure, Axes, QuadMesh]:
    """MFCC matrix as a heat map: time across, coefficient index up (the paper's Figure 2).

    Parameters
    ----------
    M : np.ndarray
        Shape ``(n_mfcc, n_frames)`` (librosa's layout; transpose a ``(frames, n_mfcc)`` segment).
    symmetric : bool
        Centre the colour scale on 0 (coefficients are signed).
    vmax : float or None
        Top of the colour scale (default: the largest ``|M|``); pass the same value to several
        panels to compare them.
    first : int
        Index of the first row, e.g. ``1`` when plotting ``M[1:]`` without the loudness
        coefficient c0, which otherwise dominates the colour scale.

    Returns
    -------
    (fig, ax, mesh)

    Explained in ``05_mfcc.ipynb``.
    """
    M = np.asarray(M)
    if M.ndim != 2:
        raise ValueError(f"M must have shape (n_mfcc, n_frames), got {M.shape}")
    n_mfcc, n_frames = M.shape
    fig, ax = new_axes(ax)
    t_edges = (np.arange(n_frames + 1) - 0.5) * hop_length / sr
    q_edges = first + np.arange(n_mfcc + 1) - 0.5
    if vmax is None and M.size:
        vmax = float(np.abs(M).max()) if symmetric else float(M.max())
    vmin = -vmax if symmetric and vmax else None
    mesh = ax.pcolormesh(t_edges, q_edges, M, shading="flat", rasterized=True, cmap=cmap,
                         vmin=vmin, vmax=vmax or None)
    ax.grid(False)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("MFCC index")
    if n_mfcc <= 20:
        step = 2 if n_mfcc > 10 else 1
        ax.set_yticks(np.arange(first, first + n_mfcc, step))
    if colorbar:
        _colorbar(fig, ax, mesh, "coefficient")
    if title:
        ax.set_title(title)
    return fig, ax, mesh


def plot_cepstrum(c: np.ndarray, *, sr: float = _SR, ax: Axes | None = None, qmax: float = 0.02, qmin: float = 0.0,
                  title: str | None = None, color: str | None = None,
                  **line_kwargs: Any) -> tuple[Figure, Axes, Line2D]:
    """Real cepstrum against quefrency (ms), between ``qmin`` and ``qmax`` seconds.

    Returns
    -------
    (fig, ax, line)

    Explained in ``05_mfcc.ipynb``.
    """
    c = np.asarray(c)
    if c.ndim != 1:
        raise ValueError(f"c must be one-dimensional, got shape {c.shape}")
    fig, ax = new_axes(ax)
    q = np.arange(c.size) / sr
    keep = (q >= qmin) & (q <= qmax)
    line_kwargs.setdefault("linewidth", 0.9)
    (line,) = ax.plot(1000 * q[keep], c[keep], color=color, **line_kwargs)
    ax.set_xlabel("quefrency (ms)")
    ax.set_ylabel("cepstrum")
    ax.set_xlim(1000 * qmin, 1000 * min(qmax, q[-1]))
    if title:
        ax.set_title(title)
    return fig, ax, line
