"""Figures of the retrieval chapter 14: a map of track embeddings.

Every function takes an optional ``ax`` and returns ``(fig, ax, artist)``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .style import new_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure

__all__ = ["plot_embedding_map"]


def plot_embedding_map(coords: np.ndarray, labels: np.ndarray, genres: Sequence[str], *, ax: Axes | None = None,
                       highlight: Sequence[int] | None = None, title: str | None = None,
                       size: float = 14.0) -> tuple[Figure, Axes, PathCollection]:
    """Tracks as points of a 2-D map (from :func:`mgc_helpers.beyond.retrieval.map_2d`), coloured by genre.

    Explained in ``14_retrieval.ipynb``.

    Parameters
    ----------
    coords : np.ndarray, shape (t, 2)
    labels : np.ndarray of int, shape (t,)
        Genre label of each track (index into ``genres``).
    genres : sequence of str
    ax : matplotlib axes or None
    highlight : sequence of int or None
        Tracks to circle (a query and its hits, say).
    title : str or None
    size : float
        Marker size.

    Returns
    -------
    fig, ax, scatter : figure, axes and the PathCollection of the points
    """
    coords = np.asarray(coords, dtype=float)
    labels = np.asarray(labels, dtype=int)
    if coords.ndim != 2 or coords.shape[1] != 2 or labels.shape != (len(coords),):
        raise ValueError(f"need coords of shape (t, 2) and t labels, got {coords.shape} and {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= len(genres)):
        raise ValueError(f"labels must lie in 0..{len(genres) - 1}")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    fig, ax = new_axes(ax, figsize=(6.0, 4.5))
    palette = cast(ListedColormap, plt.get_cmap("tab10" if len(genres) <= 10 else "tab20"))
    cmap = ListedColormap(cast(Sequence[Any], palette.colors)[: len(genres)])
    scatter = ax.scatter(coords[:, 0], coords[:, 1], c=labels, cmap=cmap, vmin=-0.5,
                         vmax=len(genres) - 0.5, s=size, linewidths=0)
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=cmap(i), label=g) for i, g in enumerate(genres)]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    if highlight is not None and len(highlight):
        index = np.asarray(highlight, dtype=int)
        ax.scatter(coords[index, 0], coords[index, 1], s=size * 4, facecolors="none", edgecolors="black",
                   linewidths=1.0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal", adjustable="datalim")
    if title:
        ax.set_title(title)
    return fig, ax, scatter
