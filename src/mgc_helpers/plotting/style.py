"""The shared look of every figure (``use_style``), the ``ax`` convention (``new_axes``) and ``savefig``.

Every chapter calls :func:`use_style` once, from ``01_waveform.ipynb`` on.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import matplotlib

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Default figure size in inches (wide, for a book column).
FIGSIZE = (8.0, 3.0)

STYLE: dict[str, Any] = {
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": "medium",
    "axes.labelsize": "small",
    "xtick.labelsize": "small",
    "ytick.labelsize": "small",
    "legend.fontsize": "small",
    "image.cmap": "magma",
    "figure.autolayout": True,
}


def use_style() -> None:
    """Apply the book's matplotlib settings globally (notebooks call this once)."""
    matplotlib.rcParams.update(STYLE)  # type: ignore[arg-type]  # keys are rc names


def new_axes(ax: Axes | None = None, *, figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, Axes]:
    """Return ``(fig, ax)``: the given axes and its figure, or a new figure with one axes."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return cast("Figure", ax.figure), ax
    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]  # keys are rc names
        fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def savefig(fig: Figure, path: str | os.PathLike, *, formats: Iterable[str] = ("png", "svg")) -> list[Path]:
    """Save ``fig`` as ``path`` with each suffix in ``formats``; returns the written paths.

    SVG output has a fixed hash salt and no date, so the same figure gives the same bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        out = path.with_suffix(f".{fmt}")
        metadata = {"Date": None} if fmt == "svg" else {"Software": None} if fmt == "png" else None
        with matplotlib.rc_context({"svg.hashsalt": "mgc-book"}):
            fig.savefig(out, format=fmt, metadata=metadata, bbox_inches="tight")
        written.append(out)
    return written
