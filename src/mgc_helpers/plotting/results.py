"""Figures of the training and results chapters 07-10 (histories, confusion matrices, comparisons).

Every function takes an optional ``ax`` and returns ``(fig, ax, artist)``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from matplotlib.ticker import MaxNLocator

from .style import new_axes

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.container import BarContainer
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D

__all__ = [
    "plot_confusion",
    "plot_histories",
    "plot_history",
    "plot_learning_curves",
    "plot_paper_comparison",
    "plot_per_genre",
    "plot_protocols",
    "plot_training",
]

_METRIC_LABELS = {"accuracy": "accuracy", "loss": "cross-entropy loss", "rmse": "RMSE",
                  "track_accuracy_mean": "track accuracy (mean)", "track_accuracy_vote": "track accuracy (vote)"}


def _label(metric: str) -> str:
    return _METRIC_LABELS.get(metric, metric)


def plot_history(history: pd.DataFrame, *, metric: str = "accuracy", ax: Axes | None = None, label: str | None = None,
                 color: str | None = None, validation: bool = True) -> tuple[Figure, Axes, list[Line2D]]:
    """Training (solid) and validation (dashed) ``metric`` of one run over the epochs.

    Explained in ``07_mlp.ipynb``.

    Parameters
    ----------
    history : pandas.DataFrame
        Columns ``epoch``, ``<metric>`` and ``val_<metric>`` (see ``training.HISTORY_COLUMNS``).
    metric : {"accuracy", "loss"}
    ax : matplotlib axes or None
    label : str or None
        Prefix of the legend entries.
    color : matplotlib colour or None
    validation : bool
        Also draw the validation curve (when present).

    Returns
    -------
    fig, ax, lines : figure, axes and the list of drawn lines
    """
    if metric not in history.columns:
        raise ValueError(f"history has no column {metric!r} (columns: {list(history.columns)})")
    fig, ax = new_axes(ax)
    prefix = f"{label}: " if label else ""
    (train_line,) = ax.plot(history["epoch"], history[metric], color=color, label=f"{prefix}training")
    lines = [train_line]
    val = f"val_{metric}"
    if validation and val in history.columns and history[val].notna().any():
        (val_line,) = ax.plot(history["epoch"], history[val], color=train_line.get_color(), linestyle="--",
                              label=f"{prefix}validation")
        lines.append(val_line)
    ax.set_xlabel("epoch")
    ax.set_ylabel(_label(metric))
    ax.legend(loc="best")
    return fig, ax, lines


def plot_histories(histories: Mapping[str, object], *, metric: str = "accuracy", ax: Axes | None = None,
                   validation: bool = True, title: str | None = None) -> tuple[Figure, Axes, list[Line2D]]:
    """Several runs' curves on one axes, one colour per model (the paper's Figures 6 and 7).

    Explained in ``10_results.ipynb``.

    Parameters
    ----------
    histories : mapping of str to DataFrame
        Legend name -> history.
    metric : {"accuracy", "loss"}
    validation : bool
        Draw validation curves (dashed) beside the training curves.

    Returns
    -------
    fig, ax, lines
    """
    if not histories:
        raise ValueError("no histories to plot")
    fig, ax = new_axes(ax)
    lines = []
    for name, history in histories.items():
        _, _, drawn = plot_history(history, metric=metric, ax=ax, label=name, validation=validation)
        lines += drawn
    ax.legend(loc="best", ncol=2)
    if title:
        ax.set_title(title)
    return fig, ax, lines


def plot_learning_curves(curves: Mapping[str, pd.DataFrame], *, ax: Axes | None = None, ylabel: str = "accuracy",
                         title: str | None = None, band: bool = True,
                         styles: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[Figure, Axes, list[Line2D]]:
    """Mean curves over seeds, one per configuration, with a shaded band of ± one standard deviation.

    Explained in ``12_optimisers.ipynb``.

    Parameters
    ----------
    curves : mapping of str to DataFrame
        Legend name -> frame with columns ``epoch``, ``mean`` and ``std`` (NaN for a single seed: no band),
        as :func:`mgc_helpers.beyond.optimisers.mean_curves` returns them.
    ylabel : str
    band : bool
        Shade mean ± std.
    styles : mapping or None
        Legend name -> keyword arguments of the line (``color``, ``linestyle``...); the band takes the
        line's colour.

    Returns
    -------
    fig, ax, lines : one line per configuration
    """
    if not curves:
        raise ValueError("no curves to plot")
    fig, ax = new_axes(ax)
    lines = []
    for name, frame in curves.items():
        for column in ("epoch", "mean", "std"):
            if column not in frame.columns:
                raise ValueError(f"curve {name!r} has no column {column!r}")
        style = {"marker": "o", "markersize": 3, **dict((styles or {}).get(name, {}))}
        (line,) = ax.plot(frame["epoch"], frame["mean"], label=name, **style)
        if band and frame["std"].notna().any():
            ax.fill_between(frame["epoch"], frame["mean"] - frame["std"], frame["mean"] + frame["std"],
                            color=line.get_color(), alpha=0.15, linewidth=0)
        lines.append(line)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        ax.set_title(title)
    return fig, ax, lines


def plot_training(histories: Mapping[str, object], *, axes: Sequence[Axes] | None = None,
                  colors: Sequence[str] | None = None) -> tuple[Figure, Sequence[Axes], list[Line2D]]:
    """Accuracy (left) and loss on a log scale (right) of one or more runs over the epochs.

    Training curves are solid, validation curves dashed. Explained in ``07_mlp.ipynb``; used in
    ``08_rnn_lstm.ipynb`` and ``09_cnn.ipynb`` too.

    Parameters
    ----------
    histories : mapping
        ``{label: history DataFrame}`` (columns as in :func:`plot_history`).
    axes : pair of matplotlib axes or None
        Where to draw; a new 10 x 3.2 inch figure with two panels when ``None``.
    colors : sequence of colours or None
        One per run (default: the colour cycle).

    Returns
    -------
    fig, axes, lines : the figure, the two axes and the list of drawn lines
    """
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    else:
        fig = cast("Figure", axes[0].figure)
    lines = []
    for i, (label, history) in enumerate(histories.items()):
        color = colors[i] if colors is not None else f"C{i}"
        for ax, metric in zip(axes, ("accuracy", "loss"), strict=False):
            lines += plot_history(history, metric=metric, ax=ax, label=label, color=color)[2]
    axes[0].set_title("accuracy")
    axes[1].set_title("loss (log scale)")
    axes[1].set_yscale("log")
    return fig, axes, lines


def plot_confusion(matrix: np.ndarray, genres: Sequence[str], *, normalize: bool = True, ax: Axes | None = None,
                   title: str | None = None, annotate: bool = True) -> tuple[Figure, Axes, AxesImage]:
    """Confusion matrix: true genre down, predicted genre across.

    Explained in ``10_results.ipynb``.

    Parameters
    ----------
    matrix : ndarray, shape (K, K)
        Counts ``C[i, j]`` of true class ``i`` predicted as ``j``.
    genres : sequence of str
    normalize : bool
        Show each row as fractions of that genre's items (the diagonal is then per-genre accuracy).
    annotate : bool
        Write the value in each cell.

    Returns
    -------
    fig, ax, image
    """
    matrix = np.asarray(matrix, dtype=float)
    k = len(genres)
    if matrix.shape != (k, k):
        raise ValueError(f"confusion matrix of shape {matrix.shape} does not match {k} genres")
    values = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1) if normalize else matrix
    fig, ax = new_axes(ax, figsize=(5.0, 4.2))
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.set_xticks(range(k), labels=list(genres), rotation=45, ha="right")
    ax.set_yticks(range(k), labels=list(genres))
    ax.set_xlabel("predicted genre")
    ax.set_ylabel("true genre")
    ax.grid(False)
    if annotate:
        top = values.max() if values.size else 1.0
        for i in range(k):
            for j in range(k):
                v = values[i, j]
                if v == 0:
                    continue
                text = f"{v:.2f}" if normalize else f"{int(v)}"
                ax.text(j, i, text, ha="center", va="center", fontsize=6,
                        color="white" if v > 0.6 * top else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if title:
        ax.set_title(title)
    return fig, ax, image


def plot_protocols(summary: pd.DataFrame, *, metric: str = "accuracy",
                   ax: Axes | None = None, title: str | None = None) -> tuple[Figure, Axes, list[BarContainer]]:
    """Mean ± std of ``metric`` per protocol (bars) and model (groups), from ``summarize_protocols``.

    Explained in ``10_results.ipynb``.

    Returns
    -------
    fig, ax, bars : the list of bar containers, one per model
    """
    mean, std = f"{metric}_mean", f"{metric}_std"
    if mean not in summary.columns:
        raise ValueError(f"summary has no column {mean!r}")
    frame = summary.reset_index()
    protocols = list(dict.fromkeys(frame["protocol"]))
    model_names = list(dict.fromkeys(frame["model"]))
    fig, ax = new_axes(ax, figsize=(6.0, 3.0))
    width = 0.8 / len(model_names)
    x = np.arange(len(protocols))
    bars = []
    for i, name in enumerate(model_names):
        rows = frame[frame["model"] == name].set_index("protocol").reindex(protocols)
        container = ax.bar(x + (i - (len(model_names) - 1) / 2) * width, rows[mean], width,
                           yerr=rows[std].fillna(0), capsize=3, label=name)
        bars.append(container)
    ax.set_xticks(x, labels=protocols)
    ax.set_xlabel("split protocol")
    ax.set_ylabel(f"test {_label(metric)}")
    if metric.startswith(("accuracy", "track_accuracy")):
        ax.set_ylim(0, 1)
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return fig, ax, bars


def plot_per_genre(table: pd.DataFrame, *,
                   ax: Axes | None = None, title: str | None = None) -> tuple[Figure, Axes, list[BarContainer]]:
    """Grouped bars of per-genre accuracy: genres across, one bar per column of ``table``.

    Explained in ``10_results.ipynb``.

    Parameters
    ----------
    table : pandas.DataFrame
        Index: genres; columns: models (values in [0, 1]).

    Returns
    -------
    fig, ax, bars
    """
    fig, ax = new_axes(ax)
    genres = list(table.index)
    x = np.arange(len(genres))
    width = 0.8 / max(1, table.shape[1])
    bars = []
    for i, column in enumerate(table.columns):
        bars.append(ax.bar(x + (i - (table.shape[1] - 1) / 2) * width, table[column], width, label=str(column)))
    ax.set_xticks(x, labels=genres, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.legend(loc="best", ncol=min(4, table.shape[1]))
    if title:
        ax.set_title(title)
    return fig, ax, bars


def plot_paper_comparison(table: pd.DataFrame, *, column_paper: str = "paper", column_run: str = "this run",
                          ax: Axes | None = None,
                          ylabel: str = "test accuracy") -> tuple[Figure, Axes, list[BarContainer]]:
    """Paper's value and this run's value side by side for each model (Table 2 as bars).

    Explained in ``10_results.ipynb``.

    Returns
    -------
    fig, ax, bars
    """
    fig, ax = new_axes(ax, figsize=(5.0, 3.0))
    x = np.arange(len(table.index))
    bars = [ax.bar(x - 0.2, table[column_paper], 0.4, label=column_paper, color="0.6"),
            ax.bar(x + 0.2, table[column_run], 0.4, label=column_run)]
    ax.set_xticks(x, labels=[str(i) for i in table.index])
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")
    return fig, ax, bars
