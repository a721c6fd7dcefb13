"""A trained model and its files: what it is, how its inputs are prepared, saving and loading it.

:func:`mgc_helpers.models.training.train` returns a :class:`TrainedModel`: the network, its per-epoch
history and everything needed to use it later (genres, feature settings, input scaling).
:func:`save_model` writes it as a native ``.keras`` file with a JSON file and the history CSV
beside it; :func:`load_model` reads it back and refuses a model whose feature settings differ from
the ones the caller will feed it.

This module does not import TensorFlow. :func:`load_model` runs the network with Keras
(``engine="keras"``, what the chapters use: Keras' ``safe_mode=True`` loader) or with NumPy
(``engine="numpy"``, :class:`mgc_helpers.models.inference.NumpyNetwork`: the same weights and equations
without TensorFlow's 660 MB, which is how ``mgc predict`` classifies long recordings in little
memory). Everything here is re-exported by :mod:`mgc_helpers.models.training`, where the chapters find it.

Input scaling: the paper fed raw MFCCs to its networks, and so does training by default
(``standardize=False``). ``standardize=True`` subtracts the training segments' per-coefficient
mean and divides by their standard deviation; the statistics are saved with the model.

Explained in ``07_mlp.ipynb`` (history, saving) and ``11_predict.ipynb`` (loading, whole songs).
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.config import IMAGE_MODELS, FeatureConfig

__all__ = ["ENGINES", "HISTORY_COLUMNS", "METADATA_VERSION", "FeatureConfigMismatchError",
           "Standardizer", "TrainedModel", "history_frame", "load_model", "predict_batches", "prepare_inputs",
           "read_history", "save_model"]

#: What runs a loaded network: Keras (TensorFlow) or NumPy (:mod:`mgc_helpers.models.inference`).
ENGINES: tuple[str, ...] = ("keras", "numpy")

#: Columns of a training history, in order.
HISTORY_COLUMNS: tuple[str, ...] = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")

#: Version of the metadata written beside saved models.
METADATA_VERSION = 1


class FeatureConfigMismatchError(ValueError):
    """A saved model was trained on features made with other settings than the ones given."""


@dataclass(frozen=True)
class Standardizer:
    """Per-MFCC-coefficient standardisation fitted on training segments.

    ``mean`` and ``std`` have one value per coefficient (the last axis of the segments).
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, *, eps: float = 1e-8) -> Standardizer:
        """Statistics over every segment and frame of ``X`` (shape ``(n, frames, n_mfcc)``)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim < 2 or X.shape[0] == 0:
            raise ValueError(f"cannot fit a Standardizer on an array of shape {X.shape}")
        axes = tuple(range(X.ndim - 1))
        mean = X.mean(axis=axes)
        std = np.maximum(X.std(axis=axes), eps)
        return cls(mean.astype(np.float32), std.astype(np.float32))

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.shape[-1] != self.mean.shape[0]:
            raise ValueError(f"Standardizer fitted on {self.mean.shape[0]} coefficients, "
                             f"got segments with {X.shape[-1]}")
        return (X - self.mean) / self.std

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence[float]]) -> Standardizer:
        return cls(np.asarray(data["mean"], dtype=np.float32), np.asarray(data["std"], dtype=np.float32))


def prepare_inputs(X: np.ndarray, *, model_name: str, standardizer: Standardizer | None = None) -> np.ndarray:
    """Turn segments ``(n, frames, n_mfcc)`` into what the named model takes.

    Applies the standardiser if any and adds the channel axis for the CNN.
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 3:
        raise ValueError(f"segments must have shape (n, frames, n_mfcc), got {X.shape}")
    if standardizer is not None:
        X = standardizer.transform(X)
    if model_name in IMAGE_MODELS:
        X = X[..., np.newaxis]
    return X


@dataclass
class TrainedModel:
    """A fitted model and what is needed to use and describe it.

    Attributes
    ----------
    model : keras.Model or NumpyNetwork
        The fitted network: the compiled Keras model, or its NumPy forward pass
        (:class:`~mgc_helpers.models.inference.NumpyNetwork`, from ``load_model(..., engine="numpy")``).
    name : str
        One of :data:`mgc_helpers.models.networks.MODEL_NAMES`.
    genres : tuple of str
        Sorted genre names; output ``k`` of the softmax is ``genres[k]``.
    config : FeatureConfig
        Feature settings of the segments the model was trained on.
    seed : int
        Seed of the run.
    history : pandas.DataFrame
        One row per epoch, columns :data:`HISTORY_COLUMNS`.
    standardizer : Standardizer or None
        Input scaling fitted on the training part, or ``None`` for raw MFCCs.
    profile : str or None
        Run profile name, for the record.
    params : dict
        Training settings (epochs, batch size, learning rate, split name, sizes, model options).
    epoch_seconds : list of float
        Wall time of each epoch (not part of the deterministic results).
    """

    model: Any
    name: str
    genres: tuple[str, ...]
    config: FeatureConfig
    seed: int
    history: pd.DataFrame
    standardizer: Standardizer | None = None
    profile: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    epoch_seconds: list[float] = field(default_factory=list)

    @property
    def n_classes(self) -> int:
        return len(self.genres)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        """Model input for segments ``X`` of shape ``(n, frames, n_mfcc)``."""
        X = np.asarray(X, dtype=np.float32)
        expected = self.config.segment_shape
        if X.ndim != 3 or tuple(X.shape[1:]) != tuple(expected):
            raise ValueError(f"{self.name}: segments must have shape (n, {expected[0]}, {expected[1]}), "
                             f"got {X.shape}")
        return prepare_inputs(X, model_name=self.name, standardizer=self.standardizer)

    def predict_proba(self, X: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Softmax probabilities, shape ``(n, n_classes)``."""
        if len(X) == 0:
            return np.zeros((0, self.n_classes), dtype=np.float32)
        return predict_batches(self.model, self.prepare(X), batch_size=batch_size)

    def predict(self, X: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Predicted labels (argmax of :meth:`predict_proba`)."""
        return self.predict_proba(X, batch_size=batch_size).argmax(axis=1)

    @property
    def dataset(self) -> str | None:
        """Name of the dataset the model was trained on (``"synthetic"``, ``"gtzan"``), if recorded."""
        return self.params.get("dataset")

    def describe(self) -> str:
        """One line: what the model is and what it was trained on, for reports and logs.

        Examples
        --------
        ``"cnn, trained on the synthetic dataset (profile default, 20 epochs, seed 0, split segment (seed 0))"``
        """
        dataset = self.dataset or "an unrecorded"
        parts = [f"profile {self.profile}" if self.profile else None,
                 f"{self.params['epochs']} epochs" if "epochs" in self.params else None,
                 f"seed {self.seed}",
                 f"split {self.params['split']}" if self.params.get("split") else None]
        return f"{self.name}, trained on the {dataset} dataset ({', '.join(p for p in parts if p)})"

    def metadata(self) -> dict[str, Any]:
        """JSON-serialisable description written beside the saved model."""
        return {
            "format": "mgc-book model",
            "version": METADATA_VERSION,
            "model": self.name,
            "genres": list(self.genres),
            "feature_config": self.config.to_dict(),
            "feature_fingerprint": self.config.fingerprint(),
            "seed": int(self.seed),
            "profile": self.profile,
            "standardizer": None if self.standardizer is None else self.standardizer.to_dict(),
            "params": self.params,
            "epoch_seconds": [round(float(s), 3) for s in self.epoch_seconds],
            "keras_version": _keras_version(),
        }


def _keras_version() -> str:
    from importlib.metadata import version

    return version("keras")


def predict_batches(model: Any, X: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """``model``'s outputs for ``X``, batch by batch, without Keras' ``tf.data`` pipeline.

    ``model.predict`` builds a parallel ``tf.data`` map that op determinism rewrites, and TensorFlow
    then logs a harmless C++ error line to the process' stderr (which would appear in notebooks).
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size!r}")
    parts = [np.asarray(model.predict_on_batch(X[i:i + batch_size])) for i in range(0, len(X), batch_size)]
    return np.concatenate(parts, axis=0)


def history_frame(history: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """Keras ``History.history`` as a DataFrame with columns :data:`HISTORY_COLUMNS`.

    Validation columns are NaN when there was no validation data.
    """
    n = len(history.get("loss", []))
    frame = pd.DataFrame({"epoch": np.arange(1, n + 1)})
    for key in HISTORY_COLUMNS[1:]:
        values = history.get(key)
        frame[key] = np.asarray(values, dtype=np.float64) if values is not None else np.full(n, np.nan)
    return frame


def _paths(path: str | os.PathLike) -> tuple[Path, Path, Path]:
    """``(model.keras, model.json, model_history.csv)`` for a stem or a ``.keras`` path."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".keras", ".json") else path
    return (stem.with_name(stem.name + ".keras"), stem.with_name(stem.name + ".json"),
            stem.with_name(stem.name + "_history.csv"))


def save_model(trained: TrainedModel, path: str | os.PathLike) -> dict[str, Path]:
    """Save a trained model: ``<path>.keras``, ``<path>.json`` (metadata) and ``<path>_history.csv``.

    Explained in ``07_mlp.ipynb``.

    Parameters
    ----------
    trained : TrainedModel
    path : path-like
        File stem (``results/default/models/cnn``) or a path ending in ``.keras``. Folders are made.

    Returns
    -------
    dict
        ``{"model": ..., "metadata": ..., "history": ...}`` paths.
    """
    model_path, meta_path, history_path = _paths(path)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_model = model_path.with_name(model_path.stem + ".tmp.keras")
    trained.model.save(tmp_model)
    os.replace(tmp_model, model_path)
    _write_text(meta_path, json.dumps(trained.metadata(), indent=2, sort_keys=True) + "\n")
    _write_text(history_path, trained.history.to_csv(index=False))
    return {"model": model_path, "metadata": meta_path, "history": history_path}


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_history(path: str | os.PathLike) -> pd.DataFrame:
    """Read a history CSV written by :func:`save_model` (a stem, ``.keras`` or the CSV itself)."""
    path = Path(path)
    csv = path if path.suffix == ".csv" else _paths(path)[2]
    if not csv.is_file():
        raise FileNotFoundError(f"no training history at {csv}")
    return pd.read_csv(csv)


def _config_differences(saved: FeatureConfig, wanted: FeatureConfig) -> list[str]:
    a, b = saved.to_dict(), wanted.to_dict()
    return [f"{key}: model {a[key]!r}, given {b[key]!r}" for key in a if a[key] != b[key]]


def load_model(path: str | os.PathLike, *, config: FeatureConfig | None = None,
               genres: Sequence[str] | None = None, engine: str = "keras") -> TrainedModel:
    """Load a model saved by :func:`save_model`.

    Explained in ``07_mlp.ipynb``; used in ``11_predict.ipynb``.

    Parameters
    ----------
    path : path-like
        The ``.keras`` file or its stem.
    config : FeatureConfig or None
        Feature settings of the segments that will be fed to the model. When given, they must be
        those the model was trained with.
    genres : sequence of str or None
        Expected genre names, checked likewise.
    engine : {"keras", "numpy"}
        What runs the network: Keras (``keras.saving.load_model`` with ``safe_mode=True``; the
        model can be trained further) or NumPy (:class:`~mgc_helpers.models.inference.NumpyNetwork`:
        prediction only, probabilities within float32 rounding of Keras', without importing TensorFlow).

    Returns
    -------
    TrainedModel
        With the history when its CSV is present (an empty frame otherwise).

    Raises
    ------
    FileNotFoundError
        If the model or its JSON metadata is missing.
    FeatureConfigMismatchError
        If ``config`` or ``genres`` differ from the saved ones; the message lists the differences.
    ValueError
        If the metadata file is not an mgc-book model description, or ``engine`` is unknown.
    mgc_helpers.models.inference.UnsupportedModelError
        With ``engine="numpy"``, if the network holds a layer NumPy does not compute here.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    model_path, meta_path, history_path = _paths(path)
    for needed in (model_path, meta_path):
        if not needed.is_file():
            raise FileNotFoundError(f"cannot load model {model_path}: {needed} not found")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{meta_path}: not valid JSON ({exc})") from None
    if meta.get("format") != "mgc-book model":
        raise ValueError(f"{meta_path}: not an mgc-book model description")
    saved_config = FeatureConfig.from_dict(meta["feature_config"])
    if config is not None and config != saved_config:
        diffs = "; ".join(_config_differences(saved_config, config))
        raise FeatureConfigMismatchError(
            f"{model_path} was trained on features with other settings ({diffs}). "
            f"Extract features with the model's FeatureConfig, or retrain.")
    saved_genres = tuple(meta["genres"])
    if genres is not None and tuple(genres) != saved_genres:
        raise FeatureConfigMismatchError(
            f"{model_path} predicts genres {list(saved_genres)}, not {list(genres)}")
    if engine == "numpy":
        from .inference import NumpyNetwork

        network: Any = NumpyNetwork.load(model_path)
    else:
        from .networks import keras  # sets TensorFlow's environment defaults before importing it

        network = keras.saving.load_model(model_path, safe_mode=True)
    history = pd.read_csv(history_path) if history_path.is_file() else history_frame({})
    standardizer = meta.get("standardizer")
    return TrainedModel(
        model=network, name=meta["model"], genres=saved_genres, config=saved_config,
        seed=int(meta["seed"]), history=history,
        standardizer=None if standardizer is None else Standardizer.from_dict(standardizer),
        profile=meta.get("profile"), params=dict(meta.get("params", {})),
        epoch_seconds=list(meta.get("epoch_seconds", [])),
    )
