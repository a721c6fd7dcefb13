"""A saved model's forward pass in NumPy: prediction without TensorFlow.

``mgc predict`` classifies a song with a model the book trained (``results/<run>/models/*.keras``).
Importing TensorFlow alone takes about 660 MB of resident memory, more than the book's budget for
classifying a 60-minute recording; the networks themselves are small (the CNN holds 25,034
weights, the MLP about a million).
:class:`NumpyNetwork` reads the ``.keras`` archive (its ``config.json`` and ``model.weights.h5``)
and runs the same layers, with the same equations and weights, in NumPy:

==========================  ==================================================================
layer                       what it computes here
==========================  ==================================================================
``Dense``                   :math:`\\mathbf{x} W + \\mathbf{b}`, then its activation
``Conv2D``                  every :math:`k_h \\times k_w \\times C` patch times the kernel
                            (``same`` or ``valid`` padding, strides)
``MaxPooling2D``            the maximum of each window (``same`` pads with :math:`-\\infty`)
``BatchNormalization``      :math:`\\gamma (x - \\mu) / \\sqrt{\\sigma^2 + \\epsilon} + \\beta` with the
                            moving statistics (inference)
``LSTM`` / ``FusedLSTM``    :math:`[i, f, g, o] = \\mathbf{x}_t W + \\mathbf{h}_{t-1} U + \\mathbf{b}`,
                            :math:`c_t = \\sigma(f) c_{t-1} + \\sigma(i) \\tanh g`,
                            :math:`h_t = \\sigma(o) \\tanh c_t`
``Flatten``, ``Dropout``    a reshape; nothing (inference)
==========================  ==================================================================

Probabilities agree with Keras' to float32 rounding (summed in another order; within 2e-5, checked for
every model of :data:`mgc_helpers.models.networks.MODEL_NAMES` by ``tests/test_inference.py``). A layer or
an option outside this table raises :class:`UnsupportedModelError`, which names it: such a model
runs with Keras (``mgc predict --engine keras``). The models are explained in ``07_mlp.ipynb``,
``08_rnn_lstm.ipynb`` and ``09_cnn.ipynb``; ``11_predict.ipynb`` uses them on whole songs.

Examples
--------
>>> net = NumpyNetwork.load("results/default/models/cnn.keras")   # doctest: +SKIP
>>> net.predict_on_batch(X[..., None]).shape                      # doctest: +SKIP
(64, 10)
"""
from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["NumpyNetwork", "UnsupportedModelError", "batch_norm", "conv2d", "dense", "lstm", "max_pool2d"]


class UnsupportedModelError(ValueError):
    """A saved model holds a layer or an option that :class:`NumpyNetwork` does not compute."""


_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "softmax": lambda x: _softmax(x),
}


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _activation(name: Any) -> Callable[[np.ndarray], np.ndarray]:
    if name is None:
        return _ACTIVATIONS["linear"]
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise UnsupportedModelError(f"activation {name!r} (supported: {', '.join(sorted(_ACTIVATIONS))})")
    return _ACTIVATIONS[name]


def dense(x: np.ndarray, W: np.ndarray, b: np.ndarray | None = None, *, activation: str = "linear") -> np.ndarray:
    """``activation(x @ W + b)`` over the last axis of ``x`` (Keras ``Dense``)."""
    y = x @ W
    if b is not None:
        y = y + b
    return _activation(activation)(y)


def _same_padding(n: int, k: int, stride: int) -> tuple[int, int]:
    """TensorFlow's ``same`` padding of one axis: ``ceil(n / stride)`` outputs, the odd cell after."""
    out = -(-n // stride)
    total = max((out - 1) * stride + k - n, 0)
    return total // 2, total - total // 2


def _windows(x: np.ndarray, size: Sequence[int], strides: Sequence[int], padding: str,
             fill: float) -> np.ndarray:
    """Windows of ``x`` (``(n, H, W, C)``) as a view ``(n, H', W', C, k_h, k_w)``."""
    if padding not in ("same", "valid"):
        raise UnsupportedModelError(f"padding {padding!r}")
    if padding == "same":
        pads = [(0, 0), _same_padding(x.shape[1], size[0], strides[0]),
                _same_padding(x.shape[2], size[1], strides[1]), (0, 0)]
        x = np.pad(x, pads, constant_values=fill)
    if x.shape[1] < size[0] or x.shape[2] < size[1]:
        raise ValueError(f"input of {x.shape[1]}x{x.shape[2]} is smaller than the {size[0]}x{size[1]} window")
    view = sliding_window_view(x, tuple(size), axis=(1, 2))
    return view[:, ::strides[0], ::strides[1]]


def conv2d(x: np.ndarray, K: np.ndarray, b: np.ndarray | None = None, *, strides: Sequence[int] = (1, 1),
           padding: str = "valid", activation: str = "linear") -> np.ndarray:
    """2-d convolution of ``x`` (``(n, H, W, C)``) with kernel ``K`` (``(k_h, k_w, C, F)``), Keras ``Conv2D``.

    Each output cell is the patch of ``k_h x k_w x C`` inputs around it times the kernel: the patches
    are gathered as a ``(n H' W', k_h k_w C)`` matrix and multiplied by ``K`` reshaped to
    ``(k_h k_w C, F)``.
    """
    k_h, k_w, C, F = K.shape
    if x.shape[-1] != C:
        raise ValueError(f"kernel expects {C} channels, input has {x.shape[-1]}")
    patches = _windows(x, (k_h, k_w), strides, padding, 0.0)  # (n, H', W', C, k_h, k_w)
    n, H, W = patches.shape[:3]
    P = np.ascontiguousarray(patches.transpose(0, 1, 2, 4, 5, 3)).reshape(n * H * W, k_h * k_w * C)
    y = (P @ K.reshape(k_h * k_w * C, F)).reshape(n, H, W, F)
    if b is not None:
        y = y + b
    return _activation(activation)(y)


def max_pool2d(x: np.ndarray, *, pool_size: Sequence[int] = (2, 2), strides: Sequence[int] | None = None,
               padding: str = "valid") -> np.ndarray:
    """Maximum of each ``pool_size`` window of ``x`` (``(n, H, W, C)``), Keras ``MaxPooling2D``.

    ``same`` padding adds :math:`-\\infty` cells, which never win.
    """
    strides = tuple(pool_size) if strides is None else tuple(strides)
    return _windows(x, pool_size, strides, padding, -np.inf).max(axis=(-2, -1))


def batch_norm(x: np.ndarray, *, gamma: np.ndarray | None, beta: np.ndarray | None, mean: np.ndarray,
               variance: np.ndarray, epsilon: float) -> np.ndarray:
    """Batch normalisation at inference over the last axis (Keras ``BatchNormalization``)."""
    inv = 1 / np.sqrt(variance + np.float32(epsilon))
    if gamma is not None:
        inv = inv * gamma
    y = x * inv - mean * inv
    return y + beta if beta is not None else y


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def lstm(x: np.ndarray, W: np.ndarray, U: np.ndarray, b: np.ndarray | None = None, *,
         return_sequences: bool = False) -> np.ndarray:
    """LSTM over the frames of ``x`` (``(n, T, d)``), Keras ``LSTM`` with its default activations.

    ``W`` (``(d, 4u)``), ``U`` (``(u, 4u)``) and ``b`` (``(4u,)``) hold the input, forget, cell and
    output gates in that order. Returns ``h_T`` (``(n, u)``), or every ``h_t`` (``(n, T, u)``) with
    ``return_sequences``. The input products of all frames are one matrix product.
    """
    n, T, _ = x.shape
    u = U.shape[0]
    Z = x @ W
    if b is not None:
        Z = Z + b
    h = np.zeros((n, u), dtype=x.dtype)
    c = np.zeros((n, u), dtype=x.dtype)
    hs = np.empty((n, T, u), dtype=x.dtype) if return_sequences else None
    for t in range(T):
        z = Z[:, t] + h @ U
        i, f, g, o = _sigmoid(z[:, :u]), _sigmoid(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]), _sigmoid(z[:, 3 * u:])
        c = f * c + i * g
        h = o * np.tanh(c)
        if hs is not None:
            hs[:, t] = h
    return hs if hs is not None else h


def _snake_case(name: str) -> str:
    """The folder Keras gives a layer class in ``model.weights.h5`` (``Conv2D`` -> ``conv2d``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _tuple2(value: Any) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, (int, float)) else (int(value[0]), int(value[1]))


@dataclass
class _Layer:
    """One layer of a :class:`NumpyNetwork`: its Keras class, name and the function it applies."""

    kind: str
    name: str
    apply: Callable[[np.ndarray], np.ndarray]


def _require(config: Mapping[str, Any], layer: str, **expected: Any) -> None:
    for key, value in expected.items():
        got = config.get(key, value)
        if isinstance(got, list):
            got = tuple(got)
        if got != value:
            raise UnsupportedModelError(f"layer {layer!r}: {key}={got!r} (only {value!r} is computed here)")


def _build_layer(kind: str, config: Mapping[str, Any], w: list[np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    name = config.get("name", kind)
    if kind in ("InputLayer", "Dropout", "SpatialDropout2D", "GaussianNoise"):
        return lambda x: x
    if kind == "Flatten":
        _require(config, name, data_format="channels_last")
        return lambda x: x.reshape(len(x), -1)
    if kind == "Dense":
        act = config.get("activation", "linear")
        _activation(act)
        bias = w[1] if config.get("use_bias", True) else None
        return lambda x: dense(x, w[0], bias, activation=act)
    if kind == "Conv2D":
        _require(config, name, data_format="channels_last", dilation_rate=(1, 1), groups=1)
        act, strides, padding = config.get("activation", "linear"), _tuple2(config.get("strides", 1)), config["padding"]
        _activation(act)
        bias = w[1] if config.get("use_bias", True) else None
        return lambda x: conv2d(x, w[0], bias, strides=strides, padding=padding, activation=act)
    if kind == "MaxPooling2D":
        _require(config, name, data_format="channels_last")
        size = _tuple2(config["pool_size"])
        strides = _tuple2(config["strides"]) if config.get("strides") is not None else size
        padding = config["padding"]
        return lambda x: max_pool2d(x, pool_size=size, strides=strides, padding=padding)
    if kind == "BatchNormalization":
        if config.get("axis", -1) not in (-1, 3, [-1], [3]):
            raise UnsupportedModelError(f"layer {name!r}: batch normalisation over axis {config['axis']!r}")
        parts = list(w)
        gamma = parts.pop(0) if config.get("scale", True) else None
        beta = parts.pop(0) if config.get("center", True) else None
        mean, variance = parts
        eps = float(config.get("epsilon", 1e-3))
        return lambda x: batch_norm(x, gamma=gamma, beta=beta, mean=mean, variance=variance, epsilon=eps)
    if kind in ("LSTM", "FusedLSTM"):
        _require(config, name, activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
                 stateful=False, return_state=False)
        seq = bool(config.get("return_sequences", False))
        bias = w[2] if config.get("use_bias", True) else None
        return lambda x: lstm(x, w[0], w[1], bias, return_sequences=seq)
    raise UnsupportedModelError(f"layer {name!r} of class {kind}")


def _layer_weights(h5: Any, folder: str) -> list[np.ndarray]:
    """The variables Keras saved for one layer, in order (an LSTM keeps them in its ``cell``)."""
    base = f"layers/{folder}"
    if base not in h5:
        return []
    group = h5[base]
    if not len(group.get("vars", ())) and "cell" in group:
        group = group["cell"]
    variables = group.get("vars", {})
    return [np.asarray(variables[str(i)], dtype=np.float32) for i in range(len(variables))]


class NumpyNetwork:
    """A Keras ``Sequential`` model of the book's layers, run in NumPy (see the module's table).

    Use :meth:`load`; :meth:`predict_on_batch` has the meaning of Keras' method of that name, so a
    :class:`~mgc_helpers.models.model_files.TrainedModel` uses either kind of network the same way.
    """

    def __init__(self, name: str, layers: list[_Layer], input_shape: tuple[int | None, ...] | None = None) -> None:
        self.name = name
        self.layers = layers
        self.input_shape = input_shape

    @classmethod
    def load(cls, path: str | os.PathLike) -> NumpyNetwork:
        """Read a ``.keras`` archive written by ``keras.Model.save``.

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            If it is not a ``.keras`` archive, or a layer's saved weights do not fit its configuration.
        UnsupportedModelError
            If the model is not ``Sequential`` or holds a layer or option this module does not compute.
        """
        import h5py  # Keras' own weight format; h5py comes with Keras

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"cannot load model {path}: not found")
        try:
            with zipfile.ZipFile(path) as archive:
                config = json.loads(archive.read("config.json"))
                weights_file = io.BytesIO(archive.read("model.weights.h5"))
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot load model {path}: not a .keras archive ({exc})") from None
        if config.get("class_name") != "Sequential":
            raise UnsupportedModelError(f"{path}: a {config.get('class_name')} model (only Sequential models run "
                                        "without Keras)")
        specs = config["config"]["layers"]
        layers: list[_Layer] = []
        used: dict[str, int] = {}
        input_shape = None
        with h5py.File(weights_file, "r") as h5:
            for spec in specs:
                kind, layer_config = spec["class_name"], spec["config"]
                if kind == "InputLayer":
                    shape = layer_config.get("batch_shape") or layer_config.get("batch_input_shape")
                    input_shape = tuple(shape) if shape is not None else None
                    continue
                folder = _snake_case(kind)
                used[folder] = used.get(folder, -1) + 1
                if used[folder]:
                    folder = f"{folder}_{used[folder]}"
                w = _layer_weights(h5, folder)
                try:
                    apply = _build_layer(kind, layer_config, w)
                except UnsupportedModelError as exc:
                    raise UnsupportedModelError(f"{path}: {exc}; run it with Keras (--engine keras)") from None
                except (IndexError, ValueError) as exc:
                    raise ValueError(f"{path}: layer {layer_config.get('name')!r} ({kind}): saved weights "
                                     f"do not fit ({exc})") from None
                layers.append(_Layer(kind, layer_config.get("name", folder), apply))
        return cls(config["config"].get("name", path.stem), layers, input_shape)

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs for the batch ``x`` (float32, like Keras)."""
        y = np.asarray(x, dtype=np.float32)
        if self.input_shape is not None and tuple(y.shape[1:]) != tuple(self.input_shape[1:]):
            raise ValueError(f"{self.name}: input of shape {y.shape}, the model takes (n, "
                             f"{', '.join(str(s) for s in self.input_shape[1:])})")
        for layer in self.layers:
            y = layer.apply(y).astype(np.float32, copy=False)
        return y

    def __repr__(self) -> str:
        return f"NumpyNetwork({self.name!r}, {' -> '.join(layer.kind for layer in self.layers)})"
