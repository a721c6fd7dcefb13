"""Training the paper's models on MFCC segments, saving and reloading them.

:func:`train` takes a :class:`~mgc_helpers.data.segments.SegmentSet` and a
:class:`~mgc_helpers.data.splits.Split`, fits one model on the split's training part (validation
curves on its validation part) and returns a :class:`TrainedModel`: the Keras model, its per-epoch
history and everything needed to use it later (genres, feature settings, input scaling).
:func:`save_model` writes it as a native ``.keras`` file with a JSON file and the history CSV
beside it; :func:`load_model` reads it back (``safe_mode=True``) and refuses a model whose feature
settings differ from the ones the caller will feed it. Both live in :mod:`mgc_helpers.models.model_files`,
which does not import TensorFlow, and are re-exported here.

Input scaling: the paper fed raw MFCCs to its networks, and so does :func:`train` by default
(``standardize=False``). ``standardize=True`` subtracts the training segments' per-coefficient
mean and divides by their standard deviation; the statistics are saved with the model.

Explained in ``07_mlp.ipynb`` (training, history, saving), ``08_rnn_lstm.ipynb`` and ``09_cnn.ipynb``.
"""
from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import compute
from . import networks as _models  # sets the TensorFlow environment defaults before importing it
from .model_files import (
    HISTORY_COLUMNS,
    METADATA_VERSION,
    FeatureConfigMismatchError,
    Standardizer,
    TrainedModel,
    history_frame,
    load_model,
    predict_batches,
    prepare_inputs,
    read_history,
    save_model,
)

if TYPE_CHECKING:  # pragma: no cover
    import tensorflow as tf

    from ..data.segments import SegmentSet
    from ..data.splits import Split

keras = _models.keras

# Re-exported: the chapters use them from here (one import for training and its results).
__all__ = ["HISTORY_COLUMNS", "METADATA_VERSION", "FeatureConfigMismatchError", "Standardizer", "TrainedModel",
           "data_fingerprint", "history_frame", "load_model", "model_path", "predict_batches", "prepare_inputs",
           "read_history", "save_model", "set_seed", "train", "train_or_load"]


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


def _batches(X: np.ndarray, y: np.ndarray, *, batch_size: int, shuffle: bool, seed: int) -> tf.data.Dataset:
    """A ``tf.data`` pipeline of ``(X, y)`` mini-batches, reshuffled each epoch with a fixed seed.

    Built here, with no parallel map, rather than by Keras from the arrays (see :func:`predict_batches`);
    prefetched while the model trains when :data:`mgc_helpers.core.compute.PREFETCH` says so.
    """
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((X, y))
    if shuffle:
        data = data.shuffle(len(X), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    return data.prefetch(tf.data.AUTOTUNE) if compute.PREFETCH else data


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
        The optimiser and the hidden layers' activation (see :func:`mgc_helpers.models.networks.build_model`;
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
    _models.check_model_name(model)
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
