"""Training the paper's models on MFCC segments, saving and reloading them.

:func:`train` takes a :class:`~mgc_helpers.segments.SegmentSet` and a
:class:`~mgc_helpers.splits.Split`, fits one model on the split's training part (validation
curves on its validation part) and returns a :class:`TrainedModel`: the Keras model, its per-epoch
history and everything needed to use it later (genres, feature settings, input scaling).
:func:`save_model` writes it as a native ``.keras`` file with a JSON file and the history CSV
beside it; :func:`load_model` reads it back (``safe_mode=True``) and refuses a model whose feature
settings differ from the ones the caller will feed it.

Input scaling: the paper fed raw MFCCs to its networks, and so does :func:`train` by default
(``standardize=False``). ``standardize=True`` subtracts the training segments' per-coefficient
mean and divides by their standard deviation; the statistics are saved with the model.

Explained in ``07_mlp.ipynb`` (training, history, saving), ``08_rnn_lstm.ipynb`` and ``09_cnn.ipynb``.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import compute
from . import models as _models  # sets the TensorFlow environment defaults before importing it
from .config import FeatureConfig

if TYPE_CHECKING:  # pragma: no cover
    import tensorflow as tf

    from .segments import SegmentSet
    from .splits import Split

keras = _models.keras

#: Columns of a training history, in order.
HISTORY_COLUMNS: tuple[str, ...] = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")

#: Version of the metadata written beside saved models.
METADATA_VERSION = 1


class FeatureConfigMismatchError(ValueError):
    """A saved model was trained on features made with other settings than the ones given."""


def set_seed(seed: int, *, deterministic: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's operations deterministic.

    With the same seed, the same data and the same machine, training gives the same numbers.
    Explained in ``07_mlp.ipynb``.

    Parameters
    ----------
    seed : int
        Non-negative seed.
    deterministic : bool
        Also call ``tf.config.experimental.enable_op_determinism()`` (slower on GPUs, no cost
        worth noting on CPUs).
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed))  # noqa: NPY002  (the legacy global generator, which some libraries still use)
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


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
    if model_name in _models.IMAGE_MODELS:
        X = X[..., np.newaxis]
    return X


@dataclass
class TrainedModel:
    """A fitted model and what is needed to use and describe it.

    Attributes
    ----------
    model : keras.Model
        The compiled, fitted Keras model.
    name : str
        One of :data:`mgc_helpers.models.MODEL_NAMES`.
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
            "keras_version": keras.__version__,
        }


def predict_batches(model: _models.keras.Model, X: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """``model``'s outputs for ``X``, batch by batch, without Keras' ``tf.data`` pipeline.

    ``model.predict`` builds a parallel ``tf.data`` map that op determinism rewrites, and TensorFlow
    then logs a harmless C++ error line to the process' stderr (which would appear in notebooks).
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size!r}")
    parts = [np.asarray(model.predict_on_batch(X[i:i + batch_size])) for i in range(0, len(X), batch_size)]
    return np.concatenate(parts, axis=0)


def _batches(X: np.ndarray, y: np.ndarray, *, batch_size: int, shuffle: bool, seed: int) -> tf.data.Dataset:
    """A ``tf.data`` pipeline of ``(X, y)`` mini-batches, reshuffled each epoch with a fixed seed.

    Built here, with no parallel map, rather than by Keras from the arrays (see :func:`predict_batches`).
    """
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((X, y))
    if shuffle:
        data = data.shuffle(len(X), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size)


class _EpochLog(keras.callbacks.Callback):  # type: ignore[name-defined]  # keras has no type information
    """Records each epoch's wall time and optionally prints one compact line per epoch."""

    def __init__(self, *, print_fn: Callable[[str], None] | None, every: int, epochs: int, label: str):
        super().__init__()
        self.print_fn, self.every, self.epochs, self.label = print_fn, max(1, every), epochs, label
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)
        n = epoch + 1
        if self.print_fn is not None and (n % self.every == 0 or n == self.epochs or n == 1):
            logs = logs or {}
            parts = [f"{self.label} epoch {n:3d}/{self.epochs}"]
            for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
                if key in logs:
                    parts.append(f"{key} {logs[key]:.4f}")
            self.print_fn("  ".join(parts))


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


def train(segments: SegmentSet, split: Split, *, model: str = "cnn", epochs: int = 30, batch_size: int = 32,
          seed: int = 0, learning_rate: float = _models.LEARNING_RATE, standardize: bool = False,
          optimizer: str = "adam", activation: str = "relu",
          model_kwargs: Mapping[str, Any] | None = None, profile: str | None = None,
          progress: bool | Callable[[str], None] = False, progress_every: int = 5,
          callbacks: Sequence[Any] = ()) -> TrainedModel:
    """Train one of the paper's models on the training part of a split.

    Explained in ``07_mlp.ipynb``.

    Parameters
    ----------
    segments : SegmentSet
        MFCC segments (``X`` of shape ``(n, frames, n_mfcc)``, integer labels ``y``, ``genres``,
        ``config``).
    split : Split
        Index arrays ``train``, ``valid`` and ``test`` into ``segments``. The model is fitted on
        ``train``; ``valid`` (when not empty) gives the validation curves. ``test`` is not touched.
    model : {"mlp", "mlp_dropout", "rnn_lstm", "cnn", "cnn_tutorial"}
        Which model to build.
    epochs, batch_size : int
        Passes over the training data, and segments per gradient step.
    seed : int
        Seeds weight initialisation, dropout and the shuffling of mini-batches.
    learning_rate : float
        The optimiser's learning rate.
    standardize : bool
        Standardise each MFCC coefficient with the training part's statistics (default: raw MFCCs,
        as in the paper).
    optimizer, activation : str
        The optimiser and the hidden layers' activation (see :func:`mgc_helpers.models.build_model`;
        default: the paper's Adam and ReLU). Explained in ``12_optimisers.ipynb``.
    model_kwargs : mapping or None
        Extra arguments for the model builder (for example ``{"dropout": 0.5}``).
    profile : str or None
        Profile name, stored with the model.
    progress : bool or callable
        Print one compact line every ``progress_every`` epochs (``True``: with :func:`print`).
        Keras' own progress bars are always off.
    callbacks : sequence
        Extra Keras callbacks.

    Returns
    -------
    TrainedModel

    Raises
    ------
    ValueError
        For an unknown model, an empty training part, labels outside the genre list, or
        non-positive epochs or batch size.
    """
    for label, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{label} must be a positive integer, got {value!r}")
    _models._check_name(model)
    genres = tuple(segments.genres)
    train_index = np.asarray(split.train, dtype=np.int64)
    valid_index = np.asarray(split.valid, dtype=np.int64)
    if train_index.size == 0:
        raise ValueError(f"split {getattr(split, 'name', '?')!r} has an empty training part")
    y = np.asarray(segments.y, dtype=np.int64)
    if y.size and (y.min() < 0 or y.max() >= len(genres)):
        raise ValueError(f"labels must lie in 0..{len(genres) - 1} for genres {genres}, "
                         f"found {int(y.min())}..{int(y.max())}")

    compute.configure_threads()
    set_seed(int(seed))
    X_all = np.asarray(segments.X, dtype=np.float32)
    standardizer = Standardizer.fit(X_all[train_index]) if standardize else None
    X_train = prepare_inputs(X_all[train_index], model_name=model, standardizer=standardizer)
    train_data = _batches(X_train, y[train_index], batch_size=int(batch_size), shuffle=True, seed=int(seed))
    validation_data = None
    if valid_index.size:
        X_valid = prepare_inputs(X_all[valid_index], model_name=model, standardizer=standardizer)
        validation_data = _batches(X_valid, y[valid_index], batch_size=256, shuffle=False, seed=0)

    kwargs = dict(model_kwargs or {})
    network = _models.build_model(model, tuple(segments.config.segment_shape), len(genres),
                                  learning_rate=learning_rate, optimizer=optimizer, activation=activation, **kwargs)
    _models.compile_model(network, learning_rate=learning_rate, optimizer=optimizer,
                          **compute.compile_options(model))
    print_fn = print if progress is True else (progress or None)
    log = _EpochLog(print_fn=print_fn, every=progress_every, epochs=int(epochs),
                    label=_models.DISPLAY_NAMES.get(model, model))
    fit = network.fit(train_data, validation_data=validation_data, epochs=int(epochs), shuffle=False,
                      verbose=0, callbacks=[log, *callbacks])
    params = {
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "learning_rate": float(learning_rate),
        "optimizer": optimizer,
        "activation": activation,
        "standardize": bool(standardize),
        "model_kwargs": {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()},
        "split": getattr(split, "name", None),
        "dataset": getattr(segments, "dataset", None) or None,
        "n_train": int(train_index.size),
        "n_valid": int(valid_index.size),
        "n_test": int(np.asarray(split.test).size),
        "data_fingerprint": data_fingerprint(segments, train_index, valid_index),
    }
    return TrainedModel(model=network, name=model, genres=genres, config=segments.config, seed=int(seed),
                        history=history_frame(fit.history), standardizer=standardizer,
                        profile=profile, params=params, epoch_seconds=log.seconds)


def data_fingerprint(segments: SegmentSet, *indices: np.ndarray) -> str:
    """Short hash of the segments (MFCCs, labels, track ids) at the given indices.

    Stored with a trained model so that :func:`train_or_load` only reuses a model trained on the
    very same data.
    """
    digest = hashlib.sha256()
    for index in indices:
        index = np.asarray(index, dtype=np.int64)
        digest.update(index.tobytes())
        digest.update(np.ascontiguousarray(np.asarray(segments.X, dtype=np.float32)[index]).tobytes())
        digest.update(np.asarray(segments.y, dtype=np.int64)[index].tobytes())
        digest.update("\n".join(np.asarray(segments.track).astype(str)[index]).encode())
    return digest.hexdigest()[:16]


def model_path(results_dir: str | os.PathLike, name: str) -> Path:
    """Where the chapters keep a trained model: ``<results_dir>/models/<name>`` (a file stem).

    ``save_model`` adds ``.keras``, ``.json`` and ``_history.csv``; ``11_predict.ipynb`` looks there.
    """
    return Path(results_dir) / "models" / name


def train_or_load(segments: SegmentSet, split: Split, *, model: str, path: str | os.PathLike, epochs: int,
                  batch_size: int = 32, seed: int = 0, standardize: bool = False,
                  learning_rate: float = _models.LEARNING_RATE, optimizer: str = "adam",
                  activation: str = "relu", model_kwargs: Mapping[str, Any] | None = None,
                  profile: str | None = None,
                  progress: bool | Callable[[str], None] = False) -> tuple[TrainedModel, bool]:
    """Reuse the model saved at ``path`` if it was trained with these settings on this data, else train it.

    The settings compared are the model, epochs, batch size, seed, scaling, learning rate, optimiser,
    activation, model options, split name and a fingerprint of the training and validation segments
    (a model saved before the optimiser and activation were recorded counts as Adam with ReLU). A model trained
    now is saved at ``path``. Explained in ``10_results.ipynb``, which reuses the models of
    chapters 07-09 when they are there.

    Returns
    -------
    (TrainedModel, bool)
        The model, and whether it was loaded (``True``) or trained and saved now (``False``).
    """
    kwargs = dict(model_kwargs or {})
    wanted = {
        "epochs": int(epochs), "batch_size": int(batch_size), "standardize": bool(standardize),
        "learning_rate": float(learning_rate), "optimizer": optimizer, "activation": activation,
        "split": getattr(split, "name", None),
        "model_kwargs": {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()},
        "data_fingerprint": data_fingerprint(segments, np.asarray(split.train), np.asarray(split.valid)),
    }
    try:
        saved = load_model(path, config=segments.config, genres=segments.genres)
    except (FileNotFoundError, FeatureConfigMismatchError, ValueError):
        saved = None
    if (saved is not None and saved.name == model and saved.seed == int(seed)
            and {k: saved.params.get(k, _UNRECORDED.get(k)) for k in wanted} == wanted):
        return saved, True
    trained = train(segments, split, model=model, epochs=epochs, batch_size=batch_size, seed=seed,
                    learning_rate=learning_rate, standardize=standardize, optimizer=optimizer,
                    activation=activation, model_kwargs=kwargs,
                    profile=profile, progress=progress)
    save_model(trained, path)
    return trained, False


#: Settings of models saved before they were recorded (the paper's optimiser and activation).
_UNRECORDED: dict[str, Any] = {"optimizer": "adam", "activation": "relu"}


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
               genres: Sequence[str] | None = None) -> TrainedModel:
    """Load a model saved by :func:`save_model` (Keras ``safe_mode=True``).

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
        If the metadata file is not an mgc-book model description.
    """
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
