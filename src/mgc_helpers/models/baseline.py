"""The classic baseline: MFCC statistics and a linear or kernel classifier (scikit-learn).

Before deep learning, genre classifiers summarised a clip by a few statistics of its frame-level
features and fed them to a standard classifier (Tzanetakis and Cook, 2002). This module does that
with the very same MFCC segments the deep models see, so the comparison is about the model only:

* **features** (:func:`mfcc_statistics`): the mean and standard deviation over frames of each of
  the 13 coefficients (26 numbers per segment), optionally also of the first-order frame-to-frame
  differences (deltas, 52 numbers); :func:`track_statistics` computes them over all frames of a
  track's segments;
* **classifiers** (:data:`BASELINE_MODELS`): multinomial logistic regression, and an SVM with an RBF
  kernel whose class probabilities come from Platt scaling (``SVC(probability=True)``), both after a
  :class:`~sklearn.preprocessing.StandardScaler` in one :class:`~sklearn.pipeline.Pipeline`, so the
  scaling is fitted on the training part only;
* **evaluation**: a :class:`BaselineModel` has the same ``name``, ``genres`` and ``predict_proba``
  as a :class:`~mgc_helpers.models.training.TrainedModel`, so :func:`mgc_helpers.models.evaluation.evaluate`
  computes its accuracy, loss, RMSE and track accuracy with the code used for the deep models, and
  :func:`run_baseline_protocols` returns rows in the format of
  :func:`mgc_helpers.models.experiments.run_protocols` (same splits, same seeds), ready to be concatenated.

Why an RBF ``SVC`` rather than ``LinearSVC`` plus calibration: logistic regression already is the
linear model; the kernel SVM is the classic non-linear one on MFCC statistics. ``probability=True``
fits Platt's sigmoid by an internal 5-fold cross-validation seeded by ``random_state``, so the
probabilities are deterministic for a seed. Its argmax can differ slightly from ``SVC.predict`` on
ambiguous segments; every metric here uses the argmax of the probabilities, as for the deep models.

Why the deltas are on by default: measured on the embedded synthetic data (three seeds, mean
accuracy on the test segments), they add 3 to 7 points to logistic regression under every protocol
and 3 to 5 points to the SVM under the track and artist protocols (none under the segment protocol)
at the default size (50 clips per genre); at the quick size (12 clips per genre) the differences are
within the seed-to-seed spread. ``deltas=False`` gives the 26-number version (model names end in
``_nodeltas``).

Explained in ``10_results.ipynb``.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.config import FeatureConfig

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from ..data.segments import SegmentSet
    from ..data.splits import Split

__all__ = [
    "BASELINE_MODELS",
    "DISPLAY_NAMES",
    "BaselineModel",
    "build_baseline",
    "mfcc_statistics",
    "model_name",
    "run_baseline_protocols",
    "statistic_names",
    "track_statistics",
    "train_baseline",
]

#: Baseline classifiers: short name -> grid name (the ``model`` column of a protocol grid).
BASELINE_MODELS: dict[str, str] = {"logreg": "mfcc_logreg", "svm": "mfcc_svm"}

#: Names used in tables and figures.
DISPLAY_NAMES: dict[str, str] = {"mfcc_logreg": "MFCC stats + logistic regression",
                                 "mfcc_svm": "MFCC stats + SVM (RBF)",
                                 "mfcc_logreg_nodeltas": "MFCC stats (no deltas) + logistic regression",
                                 "mfcc_svm_nodeltas": "MFCC stats (no deltas) + SVM (RBF)"}

#: Iterations allowed to the logistic regression's solver (lbfgs).
MAX_ITER = 2000


def _segments_array(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3:
        raise ValueError(f"MFCC segments must have shape (n, frames, n_mfcc), got {X.shape}")
    return X


def _stats(frames: np.ndarray, *, deltas: bool) -> np.ndarray:
    """Mean and std over axis -2 of ``frames`` (..., frames, n_mfcc), plus those of the deltas."""
    if frames.shape[-2] < (2 if deltas else 1):
        raise ValueError(f"need at least {2 if deltas else 1} frame(s) per segment, got {frames.shape[-2]}")
    parts = [frames.mean(axis=-2), frames.std(axis=-2)]
    if deltas:
        diff = np.diff(frames, axis=-2)
        parts += [diff.mean(axis=-2), diff.std(axis=-2)]
    return np.concatenate(parts, axis=-1)


def statistic_names(n_mfcc: int = 13, *, deltas: bool = False) -> list[str]:
    """Column names of :func:`mfcc_statistics`: ``mean_0 .. mean_12, std_0 .. std_12`` (then deltas).

    Examples
    --------
    >>> statistic_names(2, deltas=True)
    ['mean_0', 'mean_1', 'std_0', 'std_1', 'delta_mean_0', 'delta_mean_1', 'delta_std_0', 'delta_std_1']
    """
    kinds = ["mean", "std"] + (["delta_mean", "delta_std"] if deltas else [])
    return [f"{kind}_{i}" for kind in kinds for i in range(int(n_mfcc))]


def mfcc_statistics(X: np.ndarray, *, deltas: bool = False) -> np.ndarray:
    """Mean and standard deviation over frames of each MFCC coefficient, per segment.

    Explained in ``10_results.ipynb``.

    Parameters
    ----------
    X : np.ndarray, shape (n, frames, n_mfcc)
        MFCC segments, e.g. :attr:`SegmentSet.X <mgc_helpers.data.segments.SegmentSet>`.
    deltas : bool
        Also the mean and standard deviation of the first-order differences between successive
        frames (how fast each coefficient changes).

    Returns
    -------
    np.ndarray, float64, shape (n, 2 * n_mfcc) or (n, 4 * n_mfcc) with deltas
        Columns as :func:`statistic_names`.

    Examples
    --------
    >>> X = np.arange(12, dtype=np.float32).reshape(1, 3, 4)   # 3 frames of 4 coefficients
    >>> mfcc_statistics(X)[0, :4], mfcc_statistics(X, deltas=True).shape
    (array([4., 5., 6., 7.]), (1, 16))
    """
    return _stats(_segments_array(X), deltas=deltas)


def track_statistics(X: np.ndarray, track: np.ndarray, *, deltas: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """MFCC statistics of whole tracks: over every frame of all of a track's segments.

    Explained in ``10_results.ipynb``.

    Parameters
    ----------
    X : np.ndarray, shape (n, frames, n_mfcc)
        MFCC segments.
    track : np.ndarray of str, shape (n,)
        Track id of each segment.
    deltas : bool
        As in :func:`mfcc_statistics` (differences are taken within each segment, never across the
        border between two segments).

    Returns
    -------
    tracks : np.ndarray of str, shape (t,)
        Sorted track ids.
    features : np.ndarray, float64, shape (t, 2 * n_mfcc) or (t, 4 * n_mfcc)
    """
    X = _segments_array(X)
    track = np.asarray(track).astype(str)
    if track.shape != (len(X),):
        raise ValueError(f"{len(X)} segments but {track.size} track ids")
    names, inverse = np.unique(track, return_inverse=True)
    out = []
    for t in range(len(names)):
        segs = X[inverse == t]
        frames = segs.reshape(-1, segs.shape[-1])
        row = [frames.mean(axis=0), frames.std(axis=0)]
        if deltas:
            diff = np.diff(segs, axis=1).reshape(-1, segs.shape[-1])
            row += [diff.mean(axis=0), diff.std(axis=0)]
        out.append(np.concatenate(row))
    width = X.shape[-1] * (4 if deltas else 2)
    return names, (np.array(out) if out else np.zeros((0, width)))


def model_name(model: str, *, deltas: bool = True) -> str:
    """Grid name of a baseline: ``"mfcc_logreg"``, ``"mfcc_svm"``, with ``"_nodeltas"`` without deltas.

    Examples
    --------
    >>> model_name("svm"), model_name("logreg", deltas=False)
    ('mfcc_svm', 'mfcc_logreg_nodeltas')
    """
    if model not in BASELINE_MODELS:
        raise ValueError(f"unknown baseline model {model!r}; choose one of {list(BASELINE_MODELS)}")
    return BASELINE_MODELS[model] + ("" if deltas else "_nodeltas")


def build_baseline(model: str = "logreg", *, seed: int = 0, max_iter: int = MAX_ITER, C: float = 1.0) -> Pipeline:
    """An unfitted ``StandardScaler -> classifier`` pipeline.

    Explained in ``10_results.ipynb``.

    Parameters
    ----------
    model : {"logreg", "svm"}
        Logistic regression (lbfgs, multinomial) or an RBF-kernel SVM with Platt probabilities.
    seed : int
        ``random_state`` of the classifier (the SVM's probability calibration folds).
    max_iter : int
        Solver iterations of the logistic regression.
    C : float
        Inverse regularisation strength of either classifier.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if model not in BASELINE_MODELS:
        raise ValueError(f"unknown baseline model {model!r}; choose one of {list(BASELINE_MODELS)}")
    if model == "logreg":
        clf = LogisticRegression(C=C, max_iter=int(max_iter), random_state=int(seed))
    else:
        clf = SVC(C=C, kernel="rbf", gamma="scale", probability=True, random_state=int(seed))
    return Pipeline([("scale", StandardScaler()), (model, clf)])


@dataclass
class BaselineModel:
    """A fitted baseline with the interface :func:`mgc_helpers.models.evaluation.evaluate` needs.

    Attributes
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted ``StandardScaler -> classifier``.
    name : str
        Grid name, ``"mfcc_logreg"`` or ``"mfcc_svm"``.
    genres : tuple of str
        Column ``k`` of :meth:`predict_proba` is ``genres[k]``.
    config : FeatureConfig
        Feature settings of the segments it was trained on.
    seed : int
    deltas : bool
        Whether the features include the delta statistics.
    params : dict
        Settings and sizes, for the record.
    """

    pipeline: Any
    name: str
    genres: tuple[str, ...]
    config: FeatureConfig
    seed: int = 0
    deltas: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.genres)

    def features(self, X: np.ndarray) -> np.ndarray:
        """The statistics this model takes, from segments ``(n, frames, n_mfcc)``."""
        X = np.asarray(X)
        if X.ndim != 3 or tuple(X.shape[1:]) != tuple(self.config.segment_shape):
            expected = self.config.segment_shape
            raise ValueError(f"{self.name}: segments must have shape (n, {expected[0]}, {expected[1]}), got {X.shape}")
        return mfcc_statistics(X, deltas=self.deltas)

    def predict_proba(self, X: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``; genres absent from training get probability 0.

        ``batch_size`` is accepted (and ignored) for the same call as the deep models.
        """
        if len(X) == 0:
            return np.zeros((0, self.n_classes))
        with _one_blas_thread():
            known = self.pipeline.predict_proba(self.features(X))
        proba = np.zeros((len(known), self.n_classes))
        proba[:, np.asarray(self.pipeline.classes_, dtype=np.int64)] = known
        return proba

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted labels (argmax of :meth:`predict_proba`)."""
        return self.predict_proba(X).argmax(axis=1)


def _one_blas_thread() -> Any:
    """Fit and predict with one BLAS thread: its sums then run in the same order in a chapter's kernel and
    in a grid's worker process (where joblib leaves one thread per worker), so the numbers are the same
    bit for bit. The matrices are small (segments x 52 statistics): a second thread gains nothing."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def train_baseline(segments: SegmentSet, split: Split, *, model: str = "logreg", seed: int = 0,
                   deltas: bool = True, max_iter: int = MAX_ITER, C: float = 1.0) -> BaselineModel:
    """Fit a baseline on the training part of a split (the validation part is not used).

    Explained in ``10_results.ipynb``.

    Parameters
    ----------
    segments : SegmentSet
    split : Split
        Only ``split.train`` is used, as for the deep models' weights; ``test`` is not touched.
    model : {"logreg", "svm"}
    seed : int
    deltas : bool
        Add the delta statistics (see :func:`mfcc_statistics`).
    max_iter, C
        See :func:`build_baseline`.

    Raises
    ------
    ValueError
        For an unknown model, an empty training part or a training part with a single genre.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    pipeline = build_baseline(model, seed=seed, max_iter=max_iter, C=C)
    train = np.asarray(split.train, dtype=np.int64)
    if train.size == 0:
        raise ValueError(f"split {getattr(split, 'name', '?')!r} has an empty training part")
    y = np.asarray(segments.y, dtype=np.int64)[train]
    if np.unique(y).size < 2:
        raise ValueError(f"the training part of split {getattr(split, 'name', '?')!r} holds a single genre")
    features = mfcc_statistics(np.asarray(segments.X)[train], deltas=deltas)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught, _one_blas_thread():
        warnings.simplefilter("always", ConvergenceWarning)
        pipeline.fit(features, y)
        train_accuracy = float(np.mean(pipeline.predict(features) == y))
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    params = {"model": model, "deltas": bool(deltas), "C": float(C), "max_iter": int(max_iter),
              "split": getattr(split, "name", None), "n_train": int(train.size),
              "n_features": int(features.shape[1]), "converged": converged,
              "train_accuracy": train_accuracy, "fit_seconds": round(time.perf_counter() - start, 3)}
    return BaselineModel(pipeline, model_name(model, deltas=deltas), tuple(segments.genres), segments.config,
                         int(seed), bool(deltas), params)


def _run_cell(key: dict[str, Any], segments: SegmentSet, split_fn: Callable[..., Any],
              split_kwargs: dict[str, Any], deltas: bool) -> dict[str, Any]:
    """Fit and test one cell of the baselines' grid (in this process or a worker); its result row."""
    from . import evaluation as E
    from . import experiments as X

    start = time.perf_counter()
    model = next(m for m in BASELINE_MODELS if model_name(m, deltas=deltas) == key["model"])
    split = split_fn(segments, key["protocol"], seed=key["seed"], **split_kwargs)
    fitted = train_baseline(segments, split, model=model, seed=key["seed"], deltas=deltas)
    metrics = E.evaluate(fitted, segments, split.test).metrics()
    return {**key, **{m: metrics[m] for m in X.GRID_METRICS},
            "n_train": len(split.train), "n_valid": len(split.valid), "n_test": len(split.test),
            "n_test_tracks": metrics["n_tracks"], "final_train_accuracy": fitted.params["train_accuracy"],
            "seconds": round(time.perf_counter() - start, 2)}


def run_baseline_protocols(segments: SegmentSet, *, models: Sequence[str] = ("logreg", "svm"),
                           protocols: Sequence[str] = ("segment", "track", "artist"),
                           seeds: Sequence[int] = (0, 1, 2), deltas: bool = True,
                           out: str | os.PathLike | None = None,
                           split_fn: Callable[..., Any] | None = None,
                           split_kwargs: Mapping[str, Any] | None = None,
                           progress: bool | Callable[[str], None] = False, jobs: int | None = None) -> pd.DataFrame:
    """The protocol grid of :func:`mgc_helpers.models.experiments.run_protocols`, for the baselines.

    Same splits (``split_fn(segments, protocol, seed=seed)``, default
    :func:`mgc_helpers.data.splits.make_split`), same seeds, same metrics (computed by
    :func:`mgc_helpers.models.evaluation.evaluate` and :meth:`~mgc_helpers.models.evaluation.Evaluation.metrics`)
    and the same columns, so that ``pd.concat([cnn_grid, baseline_grid])`` feeds
    :func:`~mgc_helpers.models.experiments.summarize_protocols` directly. The ``model`` column holds
    ``"mfcc_logreg"`` / ``"mfcc_svm"`` (``"_nodeltas"`` appended with ``deltas=False``); ``epochs`` and
    ``batch_size`` are 0 (no gradient training) and ``standardize`` is True (the pipeline scales);
    ``final_train_accuracy`` is the accuracy on the training part. Runs already in the CSV ``out``
    are kept, as in ``run_protocols``.

    Explained in ``10_results.ipynb``.

    Parameters
    ----------
    segments : SegmentSet
    models : sequence of {"logreg", "svm"}
    protocols : sequence of str
    seeds : sequence of int
        Each seeds the split and the classifier.
    deltas : bool
        Add the delta statistics.
    out : path-like or None
        CSV file keeping finished runs (its own file or the deep models' grid file: the keys differ).
    split_fn : callable or None
    split_kwargs : mapping or None
    progress : bool or callable
        One line per run.
    jobs : int or None
        Runs fitted at the same time, in worker processes (``None``: ``MGC_TRAIN_JOBS`` or
        :data:`mgc_helpers.core.compute.GRID_JOBS`; ``1``: one after the other, in this process); the
        results do not depend on it.

    Returns
    -------
    pandas.DataFrame
        One row per run: the :data:`~mgc_helpers.models.experiments.GRID_KEYS`, the
        :data:`~mgc_helpers.models.experiments.GRID_METRICS`, sizes, ``final_train_accuracy`` and ``seconds``.
    """
    from . import experiments as X

    for m in models:
        if m not in BASELINE_MODELS:
            raise ValueError(f"unknown baseline model {m!r}; choose one of {list(BASELINE_MODELS)}")
    if split_fn is None:
        from ..data.splits import make_split

        split_fn = make_split
    data = X.data_keys(segments)  # the deep models' rows carry the same fingerprints
    keys = [{"model": model_name(m, deltas=deltas), "protocol": p, "seed": int(s), "epochs": 0, "batch_size": 0,
             "standardize": True, **data} for m in models for p in protocols for s in seeds]
    return X.run_grid(keys, _run_cell, args=(segments, split_fn, dict(split_kwargs or {}), deltas), out=out,
                      progress=progress, jobs=jobs)
