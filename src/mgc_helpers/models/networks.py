"""The paper's three classifiers: MLP, RNN-LSTM and CNN (Keras 3, TensorFlow backend).

Each builder returns a compiled :class:`keras.Sequential` model that takes one segment's MFCC
matrix, ``(frames, n_mfcc) = (130, 13)``, and outputs the softmax probabilities of the 10 genres.
The layer sizes are the paper's (sections 7.3-7.5 and Table 1); where the paper is silent the
choice is a keyword argument (the full statement-by-statement comparison is the book page
``book/fidelity.md``):

============================  ==============================  ========================================
setting                       value used here                 why
============================  ==============================  ========================================
optimiser (all models)        Adam, learning rate 1e-4        stated for the RNN-LSTM (7.4); the paper
                                                              names no other rate or optimiser
hidden activation             ReLU                            7.3, 7.4 and Table 1
MLP dropout rate              0.3 after each hidden layer     7.3 gives no rate; 0.3 is the rate of
                                                              the paper's other two models
CNN convolutions              ``padding="same"``              7.5: "padding all the edges"
CNN pooling                   3x3 window, 3x3 strides         7.5: "3x3 grid size, 3x3 strides"
batch normalisation (CNN)     after each pooling layer        7.5: "After pooling, the batch
                                                              normalization function is used"
loss                          sparse categorical cross-       labels are integers; 7.5 and 8 name
                              entropy                         no loss
============================  ==============================  ========================================

Every builder also takes ``optimizer`` (one of :data:`OPTIMIZERS`, the four that section 4.2 of the
paper describes) and ``activation`` (one of :data:`ACTIVATIONS`, for the hidden layers: the MLP's
dense layers, the CNN's convolutions and dense layer, the RNN-LSTM's dense layer; the LSTM cells keep
their own gates). The defaults, Adam and ReLU, build the paper's models; ``12_optimisers.ipynb``
measures the others.

``"cnn_tutorial"`` is the variant of the tutorial code the paper's set-up resembles (unpadded
convolutions, 3x3 pooling with stride 2); the book trains both side by side (``10_results.ipynb``).

Explained in ``07_mlp.ipynb``, ``08_rnn_lstm.ipynb`` and ``09_cnn.ipynb``; the optimiser and
activation options in ``12_optimisers.ipynb``.
"""
from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core import compute, config

# Quiet TensorFlow's start-up messages (they would land in notebook cells) and choose its CPU kernels
# (oneDNN, see mgc_helpers.core.compute). Only defaults: a user's own setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault(compute.ONEDNN_ENV, "1" if compute.ONEDNN else "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Thread pools of a fixed size, whatever first starts TensorFlow (see mgc_helpers.core.compute).
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(compute.TRAIN_THREADS))
os.environ.setdefault("TF_NUM_INTEROP_THREADS", str(compute.TRAIN_THREADS))

import logging

with compute.importing_tensorflow():  # without TensorFlow's oneDNN notice in every notebook that trains
    import keras
from keras import layers

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

# TensorFlow warns (through Python logging) when a new model retraces its functions, which is
# expected when several models are trained in one session.
logging.getLogger("tensorflow").setLevel(logging.ERROR)

#: Names accepted by :func:`build_model`.
MODEL_NAMES: tuple[str, ...] = ("mlp", "mlp_dropout", "rnn_lstm", "cnn", "cnn_tutorial")

#: Models that take a one-channel image ``(frames, n_mfcc, 1)`` (defined in :mod:`mgc_helpers.core.config`,
#: which the saved-model code reads without importing TensorFlow).
IMAGE_MODELS = config.IMAGE_MODELS

#: Settings of the tutorial-code CNN variant: unpadded convolutions, 3x3 pooling with stride 2.
CNN_TUTORIAL: dict[str, Any] = {"conv_padding": "valid", "pool_strides": (2, 2)}

#: Names used in tables and figures.
DISPLAY_NAMES: dict[str, str] = {
    "mlp": "MLP",
    "mlp_dropout": "MLP + dropout",
    "rnn_lstm": "RNN-LSTM",
    "cnn": "CNN",
    "cnn_tutorial": "CNN (tutorial variant)",
}

#: Learning rate of Adam for every model (the paper states it for the RNN-LSTM).
LEARNING_RATE = 1e-4

#: Optimisers described in section 4.2 of the paper, by the name the builders take.
OPTIMIZERS: dict[str, type] = {
    "sgd": keras.optimizers.SGD,
    "adagrad": keras.optimizers.Adagrad,
    "adadelta": keras.optimizers.Adadelta,
    "adam": keras.optimizers.Adam,
}

#: Activations the builders accept for the hidden layers (the paper uses ReLU).
ACTIVATIONS: tuple[str, ...] = ("relu", "sigmoid", "tanh")

#: Input shape of one segment: 130 frames of 13 MFCCs.
SEGMENT_SHAPE: tuple[int, int] = (130, 13)


def _check_shape(input_shape: Sequence[int], ndim: int, name: str) -> tuple[int, ...]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != ndim or any(d <= 0 for d in shape):
        raise ValueError(f"{name}: input_shape must be {ndim} positive sizes, got {tuple(input_shape)!r}")
    return shape


def _check_common(n_classes: int, dropout: float, learning_rate: float, *, optimizer: str = "adam",
                  activation: str = "relu") -> None:
    if not isinstance(n_classes, int) or isinstance(n_classes, bool) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    check_optimizer(optimizer)
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {list(ACTIVATIONS)}")


def check_optimizer(name: str) -> None:
    """Raise a :class:`ValueError` naming the choices if ``name`` is not one of :data:`OPTIMIZERS`."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {list(OPTIMIZERS)}")


def make_optimizer(name: str = "adam", *, learning_rate: float = LEARNING_RATE) -> Any:
    """A new Keras optimiser of :data:`OPTIMIZERS` with the given learning rate (its other settings: Keras').

    SGD is plain stochastic gradient descent (no momentum), as the paper describes it.
    Explained in ``12_optimisers.ipynb``.

    Examples
    --------
    >>> type(make_optimizer("adadelta", learning_rate=1.0)).__name__
    'Adadelta'
    """
    check_optimizer(name)
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    return OPTIMIZERS[name](learning_rate=learning_rate)


def compile_model(model: keras.Model, *, learning_rate: float = LEARNING_RATE,
                  optimizer: str = "adam", **options: Any) -> keras.Model:
    """Compile ``model`` with an optimiser (default Adam), sparse categorical cross-entropy and accuracy.

    ``options`` go to ``model.compile`` (``steps_per_execution``, ``jit_compile``: how the model runs,
    chosen by :func:`mgc_helpers.core.compute.compile_options` when :func:`mgc_helpers.models.training.train` trains).
    Explained in ``07_mlp.ipynb`` (the optimiser and the loss); other optimisers in ``12_optimisers.ipynb``.
    """
    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        **options,
    )
    return model


def build_mlp(input_shape: Sequence[int] = SEGMENT_SHAPE, n_classes: int = 10, *,
              hidden_units: Sequence[int] = (512, 256, 128), dropout: float = 0.0,
              l2: float = 0.0, learning_rate: float = LEARNING_RATE, optimizer: str = "adam",
              activation: str = "relu", name: str | None = None) -> keras.Model:
    """Multilayer perceptron: flatten, dense ReLU layers, softmax.

    Explained in ``07_mlp.ipynb``.

    Parameters
    ----------
    input_shape : sequence of int
        Shape of one segment, ``(frames, n_mfcc)``.
    n_classes : int
        Number of genres (size of the softmax layer).
    hidden_units : sequence of int
        Width of each hidden dense layer (the paper: 512, 256, 128).
    dropout : float
        Dropout rate after each hidden layer; ``0`` builds the paper's first, overfitting MLP.
    l2 : float
        L2 weight penalty on the hidden layers (``0``: none, as in the paper).
    learning_rate : float
        The optimiser's learning rate.
    optimizer : {"adam", "sgd", "adagrad", "adadelta"}
        The optimiser (:data:`OPTIMIZERS`).
    activation : {"relu", "sigmoid", "tanh"}
        Activation of the hidden layers.
    name : str or None
        Keras model name (default ``"mlp"`` or ``"mlp_dropout"``).

    Returns
    -------
    keras.Model
        Compiled model mapping ``(batch, *input_shape)`` to ``(batch, n_classes)`` probabilities.

    Examples
    --------
    >>> build_mlp().count_params()
    1031306
    """
    shape = _check_shape(input_shape, 2, "build_mlp")
    _check_common(n_classes, dropout, learning_rate, optimizer=optimizer, activation=activation)
    if not hidden_units or any(int(u) <= 0 for u in hidden_units):
        raise ValueError(f"hidden_units must be positive sizes, got {tuple(hidden_units)!r}")
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    stack: list[Any] = [keras.Input(shape=shape, name="mfcc"), layers.Flatten(name="flatten")]
    for i, units in enumerate(hidden_units, start=1):
        stack.append(layers.Dense(int(units), activation=activation, kernel_regularizer=regularizer,
                                  name=f"dense_{i}"))
        if dropout > 0:
            stack.append(layers.Dropout(dropout, name=f"dropout_{i}"))
    stack.append(layers.Dense(n_classes, activation="softmax", name="softmax"))
    default = "mlp_dropout" if dropout > 0 else "mlp"
    return compile_model(keras.Sequential(stack, name=name or default), learning_rate=learning_rate,
                         optimizer=optimizer)


@keras.saving.register_keras_serializable(package="mgc_helpers")
class FusedLSTM(layers.LSTM):
    """:class:`keras.layers.LSTM` whose loop over the frames runs in one fused TensorFlow kernel.

    The same layer: the same weights (``kernel``, ``recurrent_kernel``, ``bias``, gates in Keras'
    order input, forget, cell, output), the same equations, the same initial state. Only the loop
    differs. Keras runs the LSTM on a CPU as a graph ``while`` loop of about fifteen small
    operations per frame, forward and again backward, and at a batch of 32 the time goes into
    dispatching them. TensorFlow's ``BlockLSTMV2`` kernel runs all 130 frames in C++, and its
    ``BlockLSTMGradV2`` kernel runs the backward pass the same way. Each step multiplies
    ``[x_t, h_{t-1}]`` by ``[kernel; recurrent_kernel]`` in one product, not two. The kernel keeps
    one core busy; the segments of a mini-batch are independent, so the batch is cut into
    :data:`mgc_helpers.core.compute.LSTM_BATCH_PARTS` parts that run side by side, one kernel each, and
    their weight gradients are added. Outputs therefore agree with Keras' loop to float rounding
    (about 1e-7; ``tests/test_models.py`` checks values and gradients), not bit for bit. The
    speed-up is measured by ``benchmarks/bench_training.py``.

    It falls back to Keras' own loop for anything the kernel does not do: a mask, dropout inside the
    cell, activations other than tanh and sigmoid, ``go_backwards``, no bias, a GPU (where Keras uses
    cuDNN), or a backend other than TensorFlow. :func:`build_rnn_lstm` uses it when
    :data:`mgc_helpers.core.compute.FUSED_LSTM` is on. Explained in ``08_rnn_lstm.ipynb``.
    """

    def _fusable(self, mask: Any, training: bool) -> bool:
        cell = self.cell
        return (keras.backend.backend() == "tensorflow" and mask is None and not self.go_backwards
                and not self.unroll and cell.use_bias
                and not (training and (cell.dropout > 0 or cell.recurrent_dropout > 0))
                and cell.activation is keras.activations.tanh
                and cell.recurrent_activation is keras.activations.sigmoid
                and not _gpu_visible())

    def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
        if not self._fusable(mask, training):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        import tensorflow as tf

        h0, c0 = tf.convert_to_tensor(initial_state[0]), tf.convert_to_tensor(initial_state[1])
        w = tf.concat([self.cell.kernel, self.cell.recurrent_kernel], axis=0)  # [x, h] @ w
        b = tf.convert_to_tensor(self.cell.bias)
        x = tf.transpose(tf.convert_to_tensor(sequences), [1, 0, 2])  # (frames, batch, features): time-major
        # The segments of a mini-batch are independent: its parts run side by side, one kernel each.
        n, parts = tf.shape(x)[1], compute.LSTM_BATCH_PARTS
        cuts = [0, *((n * k) // parts for k in range(1, parts)), n]
        pieces = [_block_lstm(x[:, a:z], h0[a:z], c0[a:z], w, b) for a, z in itertools.pairwise(cuts)]
        h = tf.concat([hp for hp, _ in pieces], axis=1) if parts > 1 else pieces[0][0]
        c = tf.concat([cp for _, cp in pieces], axis=1) if parts > 1 else pieces[0][1]
        last_h, last_c = h[-1], c[-1]
        return last_h, tf.transpose(h, [1, 0, 2]), [last_h, last_c]


def _gpu_visible() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_logical_devices("GPU"))


def _block_lstm(x: Any, h0: Any, c0: Any, w: Any, b: Any) -> Any:
    """All frames of an LSTM in TensorFlow's fused kernels: ``(h, c)``, each ``(frames, batch, units)``.

    ``x`` is time-major ``(frames, batch, features)``; ``w`` stacks the input and recurrent
    kernels; gates in Keras' order i, f, c, o (the layout of ``BlockLSTMV2``). The gradient is
    ``BlockLSTMGradV2``, given here by hand: TensorFlow registers the first version's gradient,
    whose gates are in another order, for ``BlockLSTMV2`` too.
    """
    import tensorflow as tf

    @tf.custom_gradient
    def fused(x: Any, h0: Any, c0: Any, w: Any, b: Any) -> Any:
        units = tf.shape(b)[0] // 4
        no_peephole = tf.zeros([units], dtype=x.dtype)
        args = {"seq_len_max": tf.cast(tf.shape(x)[0], tf.int64), "x": x, "cs_prev": c0, "h_prev": h0, "w": w,
                "wci": no_peephole, "wcf": no_peephole, "wco": no_peephole, "b": b}
        i, cs, f, o, ci, co, h = tf.raw_ops.BlockLSTMV2(cell_clip=0.0, use_peephole=False, **args)

        def grad(dh: Any, dc: Any) -> Any:
            dh = tf.zeros_like(h) if dh is None else dh
            dc = tf.zeros_like(cs) if dc is None else dc
            dx, dc0, dh0, dw, _, _, _, db = tf.raw_ops.BlockLSTMGradV2(
                i=i, cs=cs, f=f, o=o, ci=ci, co=co, h=h, cs_grad=dc, h_grad=dh, use_peephole=False, **args)
            empty = tf.equal(tf.shape(x)[1], 0)  # no segments (a part of a batch of one): the kernel leaves
            dw = tf.where(empty, tf.zeros_like(dw), dw)  # its weight gradients unset, they must be zero
            db = tf.where(empty, tf.zeros_like(db), db)
            return dx, dh0, dc0, dw, db

        return (h, cs), grad

    return fused(x, h0, c0, w, b)


def build_rnn_lstm(input_shape: Sequence[int] = SEGMENT_SHAPE, n_classes: int = 10, *,
                   lstm_units: Sequence[int] = (64, 64), dense_units: int = 64,
                   dropout: float = 0.3, learning_rate: float = LEARNING_RATE, optimizer: str = "adam",
                   activation: str = "relu", name: str = "rnn_lstm") -> keras.Model:
    """Recurrent network: two LSTM layers read the MFCC frames in time order, then dense + softmax.

    The first LSTM returns its whole output sequence (one 64-vector per frame) for the second,
    which returns only its last state: a summary of the segment.
    Explained in ``08_rnn_lstm.ipynb``.

    Parameters
    ----------
    input_shape : sequence of int
        ``(frames, n_mfcc)``: frames are the time steps, MFCCs the features of each step.
    n_classes : int
        Number of genres.
    lstm_units : sequence of int
        Units of each stacked LSTM layer (the paper: 64, 64).
    dense_units : int
        Width of the ReLU layer after the LSTMs (the paper: 64).
    dropout : float
        Dropout rate after the dense layer (the paper: 0.3).
    learning_rate : float
        The optimiser's learning rate (the paper states 1e-4 for its RNN-LSTM, section 7.4).
    optimizer : {"adam", "sgd", "adagrad", "adadelta"}
        The optimiser (:data:`OPTIMIZERS`).
    activation : {"relu", "sigmoid", "tanh"}
        Activation of the dense hidden layer (the paper: ReLU). The LSTM cells keep their own
        sigmoid gates and tanh state.
    name : str
        Keras model name.

    Returns
    -------
    keras.Model
        Compiled model.

    Examples
    --------
    >>> build_rnn_lstm().count_params()
    57802
    """
    shape = _check_shape(input_shape, 2, "build_rnn_lstm")
    _check_common(n_classes, dropout, learning_rate, optimizer=optimizer, activation=activation)
    if not lstm_units or any(int(u) <= 0 for u in lstm_units):
        raise ValueError(f"lstm_units must be positive sizes, got {tuple(lstm_units)!r}")
    lstm = FusedLSTM if compute.FUSED_LSTM else layers.LSTM
    stack: list[Any] = [keras.Input(shape=shape, name="mfcc")]
    for i, units in enumerate(lstm_units, start=1):
        last = i == len(lstm_units)
        stack.append(lstm(int(units), return_sequences=not last, name=f"lstm_{i}"))
    stack.append(layers.Dense(int(dense_units), activation=activation, name="dense"))
    if dropout > 0:
        stack.append(layers.Dropout(dropout, name="dropout"))
    stack.append(layers.Dense(n_classes, activation="softmax", name="softmax"))
    return compile_model(keras.Sequential(stack, name=name), learning_rate=learning_rate, optimizer=optimizer)


def build_cnn(input_shape: Sequence[int] = (*SEGMENT_SHAPE, 1), n_classes: int = 10, *,
              filters: Sequence[int] = (32, 32, 32),
              kernel_sizes: Sequence[tuple[int, int]] = ((3, 3), (3, 3), (2, 2)),
              conv_padding: str = "same", pool_size: tuple[int, int] = (3, 3),
              pool_strides: tuple[int, int] = (3, 3), batch_norm: bool = True, dense_units: int = 64,
              dropout: float = 0.3,
              learning_rate: float = LEARNING_RATE, optimizer: str = "adam", activation: str = "relu",
              name: str = "cnn") -> keras.Model:
    """Convolutional network of the paper's Table 1.

    Three blocks of convolution (ReLU, edges padded), 3x3 max pooling with 3x3 strides (edges
    padded) and batch normalisation, then flatten, a 64-unit ReLU layer, dropout and softmax, as
    section 7.5 of the paper states. The MFCC matrix is treated as a one-channel image: time down,
    MFCC index across. ``conv_padding="valid", pool_strides=(2, 2)`` gives the tutorial-code
    variant (:data:`CNN_TUTORIAL`, ``build_model("cnn_tutorial")``).
    Explained in ``09_cnn.ipynb``.

    Parameters
    ----------
    input_shape : sequence of int
        ``(frames, n_mfcc, 1)``; a 2-d shape ``(frames, n_mfcc)`` gets the channel axis added.
    n_classes : int
        Number of genres.
    filters : sequence of int
        Filters of each convolution (the paper: 32, 32, 32).
    kernel_sizes : sequence of (int, int)
        Kernel of each convolution (the paper: 3x3, 3x3, 2x2).
    conv_padding : {"same", "valid"}
        Padding of the convolutions: ``"same"`` pads the edges (the paper), ``"valid"`` does not
        (the tutorial code).
    pool_size : (int, int)
        Max-pooling window after each convolution (the paper: 3x3).
    pool_strides : (int, int)
        Pooling stride (the paper: 3x3; the tutorial code: 2x2). Pooling always pads the edges.
    batch_norm : bool
        Batch normalisation after each pooling layer.
    dense_units : int
        Width of the ReLU layer before the output.
    dropout : float
        Dropout rate before the output (the paper: 0.3).
    learning_rate : float
        The optimiser's learning rate.
    optimizer : {"adam", "sgd", "adagrad", "adadelta"}
        The optimiser (:data:`OPTIMIZERS`).
    activation : {"relu", "sigmoid", "tanh"}
        Activation of the convolutions and of the dense hidden layer (the paper: ReLU).
    name : str
        Keras model name.

    Returns
    -------
    keras.Model
        Compiled model.

    Raises
    ------
    ValueError
        If the lists of filters and kernels differ in length, or the input is too small for the
        stack of convolutions.

    Examples
    --------
    >>> build_cnn().count_params()
    25034
    >>> build_cnn(**CNN_TUTORIAL).count_params()
    45514
    """
    shape = tuple(int(d) for d in input_shape)
    if len(shape) == 2:
        shape = (*shape, 1)
    shape = _check_shape(shape, 3, "build_cnn")
    _check_common(n_classes, dropout, learning_rate, optimizer=optimizer, activation=activation)
    if len(filters) != len(kernel_sizes) or not filters:
        raise ValueError(f"build_cnn: {len(filters)} filter counts but {len(kernel_sizes)} kernel sizes")
    if conv_padding not in ("same", "valid"):
        raise ValueError(f"build_cnn: conv_padding must be 'same' or 'valid', got {conv_padding!r}")
    stack: list[Any] = [keras.Input(shape=shape, name="mfcc")]
    height, width = shape[0], shape[1]
    for i, (n_filters, kernel) in enumerate(zip(filters, kernel_sizes, strict=False), start=1):
        kh, kw = (int(k) for k in kernel)
        if conv_padding == "valid":
            height, width = height - kh + 1, width - kw + 1
        if height <= 0 or width <= 0:
            raise ValueError(f"build_cnn: input {shape} too small for convolution {i} ({kh}x{kw})")
        height = -(-height // pool_strides[0])
        width = -(-width // pool_strides[1])
        stack += [
            layers.Conv2D(int(n_filters), (kh, kw), padding=conv_padding, activation=activation, name=f"conv_{i}"),
            layers.MaxPooling2D(tuple(pool_size), strides=tuple(pool_strides), padding="same",
                                name=f"pool_{i}"),
        ]
        if batch_norm:
            stack.append(layers.BatchNormalization(name=f"batchnorm_{i}"))
    stack += [layers.Flatten(name="flatten"),
              layers.Dense(int(dense_units), activation=activation, name="dense")]
    if dropout > 0:
        stack.append(layers.Dropout(dropout, name="dropout"))
    stack.append(layers.Dense(n_classes, activation="softmax", name="softmax"))
    return compile_model(keras.Sequential(stack, name=name), learning_rate=learning_rate, optimizer=optimizer)


def model_input_shape(name: str, segment_shape: Sequence[int] = SEGMENT_SHAPE) -> tuple[int, ...]:
    """Input shape the named model expects for segments of ``segment_shape`` (the CNN adds a channel)."""
    check_model_name(name)
    shape = tuple(int(d) for d in segment_shape)
    return (*shape, 1) if name in IMAGE_MODELS else shape


def check_model_name(name: str) -> None:
    """Raise ``ValueError`` naming the choices if ``name`` is not one of :data:`MODEL_NAMES`."""
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; choose one of {list(MODEL_NAMES)}")


def build_model(name: str, input_shape: Sequence[int] = SEGMENT_SHAPE, n_classes: int = 10,
                **kwargs: Any) -> keras.Model:
    """Build one of the paper's models by name.

    Explained in ``07_mlp.ipynb``.

    Parameters
    ----------
    name : {"mlp", "mlp_dropout", "rnn_lstm", "cnn", "cnn_tutorial"}
        ``"mlp_dropout"`` is the MLP with dropout 0.3 after each hidden layer (the paper's fix for
        the overfitting of the plain MLP); ``"cnn_tutorial"`` the CNN with the tutorial code's
        unpadded convolutions and stride-2 pooling.
    input_shape : sequence of int
        Segment shape ``(frames, n_mfcc)``; the CNN's channel axis is added when missing.
    n_classes : int
        Number of genres.
    **kwargs
        Passed to the builder (for example ``dropout=0.5``, ``pool_strides=(1, 1)``,
        ``optimizer="sgd"`` or ``activation="tanh"``).

    Returns
    -------
    keras.Model
        Compiled model.

    Raises
    ------
    ValueError
        For an unknown name.

    Examples
    --------
    >>> build_model("mlp_dropout").name
    'mlp_dropout'
    """
    check_model_name(name)
    if name == "mlp":
        return build_mlp(input_shape, n_classes, **kwargs)
    if name == "mlp_dropout":
        kwargs.setdefault("dropout", 0.3)
        kwargs.setdefault("name", "mlp_dropout")
        return build_mlp(input_shape, n_classes, **kwargs)
    if name == "rnn_lstm":
        return build_rnn_lstm(input_shape, n_classes, **kwargs)
    if name == "cnn_tutorial":
        for key, value in CNN_TUTORIAL.items():
            kwargs.setdefault(key, value)
        kwargs.setdefault("name", "cnn_tutorial")
    return build_cnn(input_shape, n_classes, **kwargs)


def layer_table(model: keras.Model) -> pd.DataFrame:
    """One row per layer: name, type, output shape, parameter count (trainable or not).

    A compact, deterministic alternative to ``model.summary()`` for notebooks and tests.
    Explained in ``07_mlp.ipynb``.
    """
    import pandas as pd

    rows = []
    for layer in model.layers:
        trainable = sum(int(w.numpy().size) for w in layer.trainable_weights)
        frozen = sum(int(w.numpy().size) for w in layer.non_trainable_weights)
        shape = tuple(layer.output.shape) if hasattr(layer, "output") else ()
        rows.append({
            "layer": layer.name,
            "type": type(layer).__name__,
            "output shape": str(shape).replace("None", "batch"),
            "parameters": trainable + frozen,
            "trainable": trainable,
        })
    return pd.DataFrame(rows)


def summary_text(model: keras.Model, *, line_length: int = 88) -> str:
    """The text of ``model.summary()`` as one string (plain box drawing, no terminal colours).

    The width is fixed (``line_length``), so the text does not depend on the terminal.
    """
    lines: list[str] = []
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(line_length + 4)  # rich sizes its console from COLUMNS
    try:
        model.summary(print_fn=lambda line, **_: lines.append(line), line_length=line_length)
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join(line.rstrip() for text in lines for line in text.splitlines())
