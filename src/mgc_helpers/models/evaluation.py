"""Metrics and track-level results of a trained model.

Segment level: accuracy, cross-entropy loss (what Keras reports as ``loss``) and the root mean
squared error between one-hot labels and predicted probabilities. The paper's Table 2 has a
"test error" column it calls RMSE, with values 3.31, 1.12 and 0.88; an RMSE between one-hot
vectors and probabilities cannot exceed :math:`\\sqrt{2/K}` (0.447 for ten genres), so those
numbers are most likely the cross-entropy loss. Both are computed here and shown side by side.

Track level: the segments of a clip are combined by averaging their probabilities, or by a
majority vote of their predicted labels.

The protocol grid, which trains models on several splits with several seeds, is in
:mod:`mgc_helpers.models.experiments`.

Explained in ``07_mlp.ipynb`` (metrics) and ``10_results.ipynb`` (track level).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from ..data.segments import SegmentSet

#: Probabilities are clipped to [EPSILON, 1 - EPSILON] in the loss, as Keras does.
EPSILON = 1e-7

def _labels(y: np.ndarray, name: str = "y_true") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of integer labels, got shape {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.equal(np.mod(y, 1), 0)):
            raise ValueError(f"{name} must hold integer labels")
    return y.astype(np.int64)


def _proba(proba: np.ndarray, n: int) -> np.ndarray:
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[0] != n:
        raise ValueError(f"probabilities must have shape ({n}, n_classes), got {proba.shape}")
    return proba


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """One-hot matrix ``(n, n_classes)`` of integer labels.

    Examples
    --------
    >>> one_hot(np.array([0, 2]), 3)
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """
    y = _labels(y)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, found {y.min()}..{y.max()}")
    out = np.zeros((y.size, n_classes))
    out[np.arange(y.size), y] = 1.0
    return out


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of correct predictions; ``y_pred`` holds labels or a probability matrix.

    Examples
    --------
    >>> accuracy(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]))
    0.75
    """
    y_true = _labels(y_true)
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 2:
        y_pred = _proba(y_pred, y_true.size).argmax(axis=1)
    y_pred = _labels(y_pred, "y_pred")
    if y_pred.shape != y_true.shape:
        raise ValueError(f"{y_true.size} labels but {y_pred.size} predictions")
    if y_true.size == 0:
        return float("nan")
    return float(np.mean(y_true == y_pred))


def cross_entropy(y_true: np.ndarray, proba: np.ndarray, *, eps: float = EPSILON) -> float:
    r"""Mean categorical cross-entropy :math:`-\frac1N\sum_i \log p_{i,y_i}` (Keras' ``loss``).

    Examples
    --------
    >>> round(cross_entropy(np.array([0]), np.array([[0.5, 0.5]])), 4)
    0.6931
    """
    y_true = _labels(y_true)
    proba = _proba(proba, y_true.size)
    if y_true.size == 0:
        return float("nan")
    p = np.clip(proba[np.arange(y_true.size), y_true], eps, 1.0 - eps)
    return float(-np.mean(np.log(p)))


def rmse(y_true: np.ndarray, proba: np.ndarray) -> float:
    r"""Root mean squared error between one-hot labels and probabilities.

    .. math:: \mathrm{RMSE} = \sqrt{\frac{1}{NK}\sum_{i=1}^{N}\sum_{k=1}^{K}(t_{ik} - p_{ik})^2}

    the mean running over all :math:`N K` entries (as Keras' ``RootMeanSquaredError`` does). Its
    largest possible value is :math:`\sqrt{2/K}`.

    Examples
    --------
    >>> rmse(np.array([0, 1]), np.array([[1.0, 0.0], [1.0, 0.0]]))
    0.7071067811865476
    """
    y_true = _labels(y_true)
    proba = _proba(proba, y_true.size)
    if y_true.size == 0:
        return float("nan")
    return float(np.sqrt(np.mean((one_hot(y_true, proba.shape[1]) - proba) ** 2)))


def segment_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """``{"accuracy", "loss", "rmse", "n"}`` of segment probabilities."""
    return {"accuracy": accuracy(y_true, proba), "loss": cross_entropy(y_true, proba),
            "rmse": rmse(y_true, proba), "n": int(np.asarray(y_true).size)}


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, *, n_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of items of true class ``i`` predicted as ``j``.

    Examples
    --------
    >>> confusion_matrix(np.array([0, 0, 1]), np.array([0, 1, 1]))
    array([[1, 1],
           [0, 1]])
    """
    y_true, y_pred = _labels(y_true), _labels(np.asarray(y_pred), "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{y_true.size} labels but {y_pred.size} predictions")
    if n_classes is None:
        n_classes = int(max(y_true.max(initial=-1), y_pred.max(initial=-1)) + 1)
    if y_true.size and (min(y_true.min(), y_pred.min()) < 0
                        or max(y_true.max(), y_pred.max()) >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}")
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def per_genre_accuracy(matrix: np.ndarray, genres: Sequence[str]) -> pd.Series:
    """Fraction of each genre's items classified correctly (the confusion matrix's row recall).

    Genres with no items get NaN.
    """
    matrix = np.asarray(matrix)
    if matrix.shape != (len(genres), len(genres)):
        raise ValueError(f"confusion matrix {matrix.shape} does not match {len(genres)} genres")
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(totals > 0, np.diag(matrix) / np.maximum(totals, 1), np.nan)
    return pd.Series(values, index=list(genres), name="accuracy")


def aggregate_tracks(proba: np.ndarray, track: np.ndarray, y_true: np.ndarray | None = None, *,
                     method: str = "mean") -> pd.DataFrame:
    """Combine segment predictions into one prediction per track.

    Explained in ``10_results.ipynb``.

    Parameters
    ----------
    proba : ndarray, shape (n, n_classes)
        Segment probabilities.
    track : ndarray of str, shape (n,)
        Track id of each segment.
    y_true : ndarray of int or None
        Segment labels; every segment of a track must carry the same label.
    method : {"mean", "vote"}
        ``"mean"``: argmax of the mean probability. ``"vote"``: the label predicted for most
        segments; a tie goes to the tied label with the larger mean probability (then the
        smaller label).

    Returns
    -------
    pandas.DataFrame
        Sorted by track: ``track``, ``n_segments``, ``y_pred``, ``confidence`` (mean probability of
        ``y_pred``) and ``y_true`` when labels were given.

    Raises
    ------
    ValueError
        For an unknown method, mismatched lengths, or a track whose segments disagree on the label.
    """
    if method not in ("mean", "vote"):
        raise ValueError(f"unknown aggregation method {method!r}; choose 'mean' or 'vote'")
    track = np.asarray(track).astype(str)
    proba = _proba(proba, track.size)
    names, inverse = np.unique(track, return_inverse=True)
    n_classes = proba.shape[1]
    counts = np.bincount(inverse, minlength=names.size)
    mean = np.zeros((names.size, n_classes))
    np.add.at(mean, inverse, proba)
    mean /= np.maximum(counts, 1)[:, None]
    if method == "mean":
        y_pred = mean.argmax(axis=1)
    else:
        votes = np.zeros((names.size, n_classes))
        np.add.at(votes, (inverse, proba.argmax(axis=1)), 1)
        top = votes == votes.max(axis=1, keepdims=True)
        y_pred = np.where(top, mean, -np.inf).argmax(axis=1)
    frame = pd.DataFrame({"track": names, "n_segments": counts, "y_pred": y_pred,
                          "confidence": mean[np.arange(names.size), y_pred]})
    if y_true is not None:
        y_true = _labels(y_true)
        if y_true.size != track.size:
            raise ValueError(f"{track.size} track ids but {y_true.size} labels")
        first = np.full(names.size, -1, dtype=np.int64)
        first[inverse[::-1]] = y_true[::-1]
        if np.any(first[inverse] != y_true):
            bad = names[np.unique(inverse[first[inverse] != y_true])][:5]
            raise ValueError(f"segments of the same track carry different labels: {list(bad)}")
        frame.insert(1, "y_true", first)
    return frame


def track_accuracy(proba: np.ndarray, track: np.ndarray, y_true: np.ndarray, *, method: str = "mean") -> float:
    """Accuracy of track-level predictions (see :func:`aggregate_tracks`)."""
    frame = aggregate_tracks(proba, track, y_true, method=method)
    return accuracy(frame["y_true"].to_numpy(), frame["y_pred"].to_numpy())


@dataclass
class Evaluation:
    """Predictions and metrics of one model on one part of a data set.

    Explained in ``07_mlp.ipynb`` and ``10_results.ipynb``.
    """

    name: str
    genres: tuple[str, ...]
    y_true: np.ndarray
    proba: np.ndarray
    track: np.ndarray

    @property
    def y_pred(self) -> np.ndarray:
        return self.proba.argmax(axis=1)

    def metrics(self) -> dict[str, float]:
        """Segment metrics plus track-level accuracy by mean probability and by vote."""
        out: dict[str, Any] = segment_metrics(self.y_true, self.proba)
        out["n_tracks"] = int(np.unique(self.track).size)
        for method in ("mean", "vote"):
            out[f"track_accuracy_{method}"] = (track_accuracy(self.proba, self.track, self.y_true, method=method)
                                               if self.y_true.size else float("nan"))
        return out

    def confusion(self, *, level: str = "segment", method: str = "mean") -> np.ndarray:
        """Confusion matrix at segment level or track level (``level="track"``)."""
        if level == "segment":
            return confusion_matrix(self.y_true, self.y_pred, n_classes=len(self.genres))
        if level == "track":
            frame = self.tracks(method=method)
            return confusion_matrix(frame["y_true"].to_numpy(), frame["y_pred"].to_numpy(),
                                    n_classes=len(self.genres))
        raise ValueError(f"level must be 'segment' or 'track', got {level!r}")

    def tracks(self, *, method: str = "mean") -> pd.DataFrame:
        """Per-track predictions with genre names (see :func:`aggregate_tracks`)."""
        frame = aggregate_tracks(self.proba, self.track, self.y_true, method=method)
        names = np.asarray(self.genres)
        frame["genre"] = names[frame["y_true"].to_numpy()]
        frame["predicted"] = names[frame["y_pred"].to_numpy()]
        return frame

    def per_genre(self, *, level: str = "segment") -> pd.Series:
        return per_genre_accuracy(self.confusion(level=level), self.genres)


class Classifier(Protocol):
    """What :func:`evaluate` needs from a model: a :class:`~mgc_helpers.models.training.TrainedModel`, or a
    :class:`~mgc_helpers.models.baseline.BaselineModel`."""

    name: str
    genres: tuple[str, ...]

    def predict_proba(self, X: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Genre probabilities of each segment, ``(n, n_genres)``."""
        ...  # pragma: no cover


def evaluate(trained: Classifier, segments: SegmentSet, index: np.ndarray | None = None, *,
             batch_size: int = 256) -> Evaluation:
    """Predict the segments ``segments.subset(index)`` (all when ``index`` is None) with a trained model.

    Explained in ``07_mlp.ipynb``.

    Parameters
    ----------
    trained : TrainedModel
        From :func:`mgc_helpers.models.training.train` or :func:`~mgc_helpers.models.training.load_model`.
    segments : SegmentSet
    index : array of int or None
        Rows to evaluate, typically ``split.test``.

    Raises
    ------
    ValueError
        If the model's genres differ from the segments'.
    """
    if tuple(trained.genres) != tuple(segments.genres):
        raise ValueError(f"model {trained.name} knows genres {list(trained.genres)}, "
                         f"the segments have {list(segments.genres)}")
    index = np.arange(len(segments.y)) if index is None else np.asarray(index, dtype=np.int64)
    X = np.asarray(segments.X)[index]
    proba = trained.predict_proba(X, batch_size=batch_size)
    return Evaluation(name=trained.name, genres=tuple(trained.genres),
                      y_true=np.asarray(segments.y, dtype=np.int64)[index], proba=np.asarray(proba),
                      track=np.asarray(segments.track).astype(str)[index])


def save_evaluation(evaluation: Evaluation, path: str | os.PathLike) -> Path:
    """Write an :class:`Evaluation` (probabilities, labels, track ids, genres) as a compressed ``.npz``.

    Together with :func:`load_evaluation`, lets ``10_results.ipynb`` redraw confusion matrices and
    track-level results without running the models again. The file loads without pickle.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"{path}: evaluation files end in .npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez_compressed(tmp, name=np.array(evaluation.name), genres=np.array(evaluation.genres, dtype=str),
                        y_true=np.asarray(evaluation.y_true, dtype=np.int64),
                        proba=np.asarray(evaluation.proba, dtype=np.float32),
                        track=np.asarray(evaluation.track).astype(str))
    os.replace(tmp, path)
    return path


def load_evaluation(path: str | os.PathLike) -> Evaluation:
    """Read a file written by :func:`save_evaluation`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no evaluation file at {path}")
    with np.load(path, allow_pickle=False) as data:
        return Evaluation(name=str(data["name"]), genres=tuple(str(g) for g in data["genres"]),
                          y_true=data["y_true"], proba=data["proba"].astype(np.float64), track=data["track"])


def metrics_table(evaluations: Mapping[str, Evaluation] | Sequence[Evaluation]) -> pd.DataFrame:
    """One row of :meth:`Evaluation.metrics` per model, indexed by model name."""
    items = evaluations.items() if isinstance(evaluations, Mapping) else [(e.name, e) for e in evaluations]
    return pd.DataFrame({name: ev.metrics() for name, ev in items}).T.rename_axis("model")
