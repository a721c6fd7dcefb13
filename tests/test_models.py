"""Architecture of the paper's models: layer types, output shapes, parameter counts by hand."""
from __future__ import annotations

import numpy as np
import pytest

from mgc_helpers.core import compute
from mgc_helpers.models import networks


def dense_params(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out  # weights + biases


def lstm_params(n_in: int, units: int) -> int:
    return 4 * (units * (n_in + units) + units)  # four gates, each W, U and b


def conv_params(kh: int, kw: int, c_in: int, c_out: int) -> int:
    return kh * kw * c_in * c_out + c_out


def layer_types(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def test_mlp_architecture_and_parameter_count():
    model = networks.build_mlp()
    assert layer_types(model) == ["Flatten", "Dense", "Dense", "Dense", "Dense"]
    assert [layer.units for layer in model.layers[1:]] == [512, 256, 128, 10]
    assert [layer.activation.__name__ for layer in model.layers[1:]] == ["relu", "relu", "relu", "softmax"]
    expected = (dense_params(130 * 13, 512) + dense_params(512, 256) + dense_params(256, 128)
                + dense_params(128, 10))
    assert expected == 1_031_306
    assert model.count_params() == expected
    assert tuple(model.outputs[0].shape) == (None, 10)


def test_mlp_dropout_variant_adds_only_dropout_layers():
    plain, dropped = networks.build_model("mlp"), networks.build_model("mlp_dropout")
    assert dropped.name == "mlp_dropout" and plain.name == "mlp"
    assert layer_types(dropped) == ["Flatten", "Dense", "Dropout", "Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert {layer.rate for layer in dropped.layers if type(layer).__name__ == "Dropout"} == {0.3}
    assert dropped.count_params() == plain.count_params()
    assert networks.build_model("mlp_dropout", dropout=0.5).layers[2].rate == 0.5


def test_rnn_lstm_architecture_and_parameter_count():
    model = networks.build_rnn_lstm()
    assert layer_types(model) == ["FusedLSTM", "FusedLSTM", "Dense", "Dropout", "Dense"]
    first, second = model.layers[0], model.layers[1]
    assert first.return_sequences and not second.return_sequences
    assert tuple(first.output.shape) == (None, 130, 64)
    assert tuple(second.output.shape) == (None, 64)
    assert model.layers[3].rate == 0.3
    expected = lstm_params(13, 64) + lstm_params(64, 64) + dense_params(64, 64) + dense_params(64, 10)
    assert expected == 57_802
    assert model.count_params() == expected
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-4)


def test_cnn_is_the_papers_reading_padded_3x3_pooling_with_3x3_strides():
    """Section 7.5: "3x3 grid size, 3x3 strides", "padding all the edges"; Table 1's filters."""
    model = networks.build_cnn()
    assert layer_types(model) == ["Conv2D", "MaxPooling2D", "BatchNormalization"] * 3 + [
        "Flatten", "Dense", "Dropout", "Dense"]
    for i in (1, 2, 3):
        conv, pool = model.get_layer(f"conv_{i}"), model.get_layer(f"pool_{i}")
        assert conv.padding == "same" and conv.filters == 32
        assert pool.pool_size == (3, 3) and pool.strides == (3, 3) and pool.padding == "same"
    assert [model.get_layer(f"conv_{i}").kernel_size for i in (1, 2, 3)] == [(3, 3), (3, 3), (2, 2)]
    shapes = [tuple(layer.output.shape)[1:] for layer in model.layers]
    # padded convolutions keep the size, pooling with stride 3 and "same" padding: ceil(n / 3)
    assert shapes[:9] == [(130, 13, 32), (44, 5, 32), (44, 5, 32),
                          (44, 5, 32), (15, 2, 32), (15, 2, 32),
                          (15, 2, 32), (5, 1, 32), (5, 1, 32)]
    assert shapes[9] == (5 * 1 * 32,)
    convs = conv_params(3, 3, 1, 32) + conv_params(3, 3, 32, 32) + conv_params(2, 2, 32, 32)
    batch_norm = 3 * 4 * 32  # gamma, beta (trained), moving mean and variance (not trained)
    expected = convs + batch_norm + dense_params(160, 64) + dense_params(64, 10)
    assert expected == 25_034
    assert model.count_params() == expected
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert non_trainable == 3 * 2 * 32
    assert model.get_layer("dropout").rate == pytest.approx(0.3)
    assert model.get_layer("dense").units == 64


def test_cnn_tutorial_variant_unpadded_convolutions_stride_2_pooling():
    model = networks.build_model("cnn_tutorial")
    assert model.name == "cnn_tutorial"
    shapes = [tuple(layer.output.shape)[1:] for layer in model.layers]
    # valid convolutions, then pooling with stride 2 and "same" padding: ceil(n / 2)
    assert shapes[:9] == [(128, 11, 32), (64, 6, 32), (64, 6, 32),
                          (62, 4, 32), (31, 2, 32), (31, 2, 32),
                          (30, 1, 32), (15, 1, 32), (15, 1, 32)]
    convs = conv_params(3, 3, 1, 32) + conv_params(3, 3, 32, 32) + conv_params(2, 2, 32, 32)
    expected = convs + 3 * 4 * 32 + dense_params(480, 64) + dense_params(64, 10)
    assert expected == 45_514
    assert model.count_params() == expected
    assert networks.build_cnn(**networks.CNN_TUTORIAL).count_params() == expected


def test_cnn_pool_strides_are_a_parameter():
    model = networks.build_cnn(pool_strides=(1, 1))
    # stride 1 with "same" padding everywhere keeps the size: 130 x 13 x 32 inputs to the dense layer
    assert tuple(model.layers[-4].output.shape) == (None, 130 * 13 * 32)
    model = networks.build_cnn(pool_strides=(1, 1), conv_padding="valid")
    # 130x13 -> 128x11 -> 126x9 -> 125x8
    assert tuple(model.layers[-4].output.shape) == (None, 125 * 8 * 32)
    assert networks.build_cnn((130, 13)).input_shape == (None, 130, 13, 1)  # channel added
    with pytest.raises(ValueError, match="conv_padding"):
        networks.build_cnn(conv_padding="full")


def test_models_output_probabilities():
    x = np.random.default_rng(0).standard_normal((3, 130, 13)).astype("float32")
    for name in networks.MODEL_NAMES:
        model = networks.build_model(name)
        p = model.predict(x[..., None] if name in networks.IMAGE_MODELS else x, verbose=0)
        assert p.shape == (3, 10)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
        assert model.loss == "sparse_categorical_crossentropy"


def test_layer_table_and_summary_text():
    model = networks.build_model("cnn")
    table = networks.layer_table(model)
    assert table["parameters"].sum() == 25_034
    assert table["trainable"].sum() == 25_034 - 192
    assert table.loc[table["layer"] == "flatten", "output shape"].item() == "(batch, 160)"
    text = networks.summary_text(model)
    assert 'Model: "cnn"' in text and "25,034" in text and "conv_3 (Conv2D)" in text


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "svm"}, "unknown model 'svm'"),
    ({"name": "mlp", "n_classes": 1}, "n_classes"),
    ({"name": "rnn_lstm", "dropout": 1.0}, "dropout"),
    ({"name": "mlp", "input_shape": (130,)}, "input_shape"),
    ({"name": "cnn_tutorial", "input_shape": (2, 2, 1)}, "too small"),
])
def test_bad_arguments_are_clear_errors(kwargs, message):
    kwargs = dict(kwargs)
    name = kwargs.pop("name")
    with pytest.raises(ValueError, match=message):
        networks.build_model(name, **kwargs)


def test_model_input_shape():
    assert networks.model_input_shape("cnn") == (130, 13, 1)
    assert networks.model_input_shape("cnn_tutorial") == (130, 13, 1)
    assert networks.model_input_shape("rnn_lstm", (13, 13)) == (13, 13)


def _lstm_pair(units: int, input_dim: int, *, return_sequences: bool, seed: int = 0):
    """A FusedLSTM and a plain keras LSTM with the same (random, non-trivial) weights."""
    import keras

    fused = networks.FusedLSTM(units, return_sequences=return_sequences)
    plain = keras.layers.LSTM(units, return_sequences=return_sequences)
    for layer in (fused, plain):
        layer.build((None, 11, input_dim))
    rng = np.random.default_rng(seed)
    weights = [rng.normal(scale=0.3, size=w.shape).astype("float32") for w in plain.get_weights()]
    fused.set_weights(weights)
    plain.set_weights(weights)
    return fused, plain


@pytest.mark.parametrize(("return_sequences", "batch"), [(True, 4), (False, 4), (False, 5), (True, 1)])
def test_fused_lstm_matches_keras_lstm_values_and_gradients(return_sequences, batch):
    """The fused kernel computes Keras' LSTM: same outputs and the same gradients for every weight and the input.

    The batch runs in ``compute.LSTM_BATCH_PARTS`` parts: an odd batch gives parts of different sizes,
    a batch of one an empty part (whose weight gradients must be zero, not whatever the kernel left).
    """
    import tensorflow as tf

    assert compute.LSTM_BATCH_PARTS == 2
    fused, plain = _lstm_pair(8, 5, return_sequences=return_sequences)
    x = tf.constant(np.random.default_rng(1).normal(size=(batch, 11, 5)).astype("float32"))
    results = []
    for layer in (fused, plain):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(tf.sin(y))  # a loss whose gradient differs per output element
        grads = tape.gradient(loss, [x, *layer.trainable_weights])
        results.append((y.numpy(), [g.numpy() for g in grads]))
    (y_fused, g_fused), (y_plain, g_plain) = results
    assert y_fused.shape == y_plain.shape == ((batch, 11, 8) if return_sequences else (batch, 8))
    np.testing.assert_allclose(y_fused, y_plain, rtol=1e-5, atol=1e-6)
    for name, a, b in zip(["input", "kernel", "recurrent_kernel", "bias"], g_fused, g_plain, strict=True):
        assert np.abs(b).max() > 1e-3, name  # the comparison is not between zeros
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=name)


def test_fused_kernel_on_no_segments_gives_zero_weight_gradients():
    """An empty part of a batch (a batch of one cut in two) adds nothing: not the memory the kernel left unset."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for units, features in [(8, 5), (64, 13), (8, 5)]:
        x, h0 = tf.zeros((11, 0, features)), tf.zeros((0, units))
        w = tf.constant(rng.normal(size=(features + units, 4 * units)).astype("float32"))
        b = tf.constant(rng.normal(size=4 * units).astype("float32"))
        with tf.GradientTape() as tape:
            tape.watch([w, b])
            h, c = networks._block_lstm(x, h0, h0, w, b)
            loss = tf.reduce_sum(h) + tf.reduce_sum(c)
        dw, db = tape.gradient(loss, [w, b])
        assert h.shape == (11, 0, units)
        assert not np.any(dw.numpy()) and not np.any(db.numpy()), (units, features)


def test_fused_lstm_falls_back_to_keras_loop_where_the_kernel_cannot_go():
    """A mask or cell dropout in training takes Keras' own loop (still the same layer, same weights)."""
    import keras
    import tensorflow as tf

    fused, plain = _lstm_pair(6, 3, return_sequences=False)
    x = np.random.default_rng(2).normal(size=(3, 11, 3)).astype("float32")
    mask = tf.constant(np.arange(11)[None, :] < np.array([[11], [7], [4]]))
    assert not fused._fusable(mask, training=False) and fused._fusable(None, training=False)
    np.testing.assert_allclose(fused(x, mask=mask).numpy(), plain(x, mask=mask).numpy(), rtol=1e-5, atol=1e-6)
    dropping = networks.FusedLSTM(6, dropout=0.5)
    dropping.build((None, 11, 3))
    assert not dropping._fusable(None, training=True) and dropping._fusable(None, training=False)
    assert not networks.FusedLSTM(6, activation="relu")._fusable(None, training=False)
    assert isinstance(fused, keras.layers.LSTM)


def test_rnn_lstm_uses_the_fused_layer_and_survives_save_and_load(tmp_path):
    import keras

    model = networks.build_rnn_lstm()
    assert [type(layer).__name__ for layer in model.layers[:2]] == ["FusedLSTM", "FusedLSTM"]
    x = np.random.default_rng(3).normal(size=(2, 130, 13)).astype("float32")
    path = tmp_path / "rnn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)  # the layers, not an optimizer never built
    assert type(loaded.layers[0]).__name__ == "FusedLSTM"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
