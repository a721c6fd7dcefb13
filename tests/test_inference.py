"""The NumPy forward pass (mgc_helpers.models.inference): the same outputs as Keras for every model, no TensorFlow."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import soundfile as sf
from _tiny_model import SR, bright_noise, train_tiny_model

from mgc_helpers.models import inference, networks, training
from mgc_helpers.models.inference import NumpyNetwork, UnsupportedModelError


def _saved(model: networks.keras.Model, path) -> NumpyNetwork:
    model.save(path)
    return NumpyNetwork.load(path)


@pytest.mark.parametrize("name", networks.MODEL_NAMES)
def test_every_model_gives_kerass_probabilities(name, tmp_path):
    networks.keras.utils.set_random_seed(0)
    network = networks.build_model(name)
    rng = np.random.default_rng(1)
    for v in network.weights:  # away from the initial values; batch norm gets statistics of its own
        shift = 0.5 if "variance" in v.path else 0.0
        v.assign(v.numpy() + shift + rng.normal(scale=0.05, size=v.shape).astype(np.float32))
    X = 3 * rng.normal(size=(24, *networks.model_input_shape(name))).astype(np.float32)
    expected = np.asarray(network.predict_on_batch(X))
    got = _saved(network, tmp_path / f"{name}.keras").predict_on_batch(X)
    assert got.dtype == np.float32 and got.shape == expected.shape == (24, 10)
    np.testing.assert_allclose(got, expected, atol=2e-5)
    assert (got.argmax(1) == expected.argmax(1)).all()
    # a real comparison: the outputs depend on the input, and the softmax is not saturated
    assert expected.std(axis=0).max() > 0.01 and np.median(expected.max(1)) < 0.99


def test_layers_against_their_definitions():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 7, 5, 3)).astype(np.float32)
    K = rng.normal(size=(3, 2, 3, 4)).astype(np.float32)
    y = inference.conv2d(x, K, padding="same")
    assert y.shape == (2, 7, 5, 4)
    # same padding of a 3x2 kernel: one row above and below, the extra column after
    xp = np.pad(x, [(0, 0), (1, 1), (0, 1), (0, 0)])
    naive = np.array([[[[np.sum(xp[n, i:i + 3, j:j + 2] * K[..., f]) for f in range(4)] for j in range(5)]
                       for i in range(7)] for n in range(2)])
    np.testing.assert_allclose(y, naive, rtol=1e-5, atol=1e-5)
    # the paper's pooling: 3x3 windows, strides 3, same padding: 130x13 -> 44x5; tutorial strides 2 -> 65x7
    z = rng.normal(size=(1, 130, 13, 1)).astype(np.float32)
    assert inference.max_pool2d(z, pool_size=(3, 3), padding="same").shape == (1, 44, 5, 1)
    assert inference.max_pool2d(z, pool_size=(3, 3), strides=(2, 2), padding="same").shape == (1, 65, 7, 1)
    v = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    assert inference.max_pool2d(v, pool_size=(3, 3), padding="same")[0, :, :, 0].tolist() == [[5, 7], [13, 15]]
    # an LSTM whose gates are all open holds every input: c_t = c_{t-1} + tanh(x_t), h_t = tanh(c_t) * sigma(big)
    big = 30.0
    W = np.zeros((1, 4), np.float32)
    W[0, 2] = 1.0
    b = np.array([big, big, 0.0, big], np.float32)
    seq = np.array([[[0.5], [0.25], [-1.0]]], np.float32)
    h = inference.lstm(seq, W, np.zeros((1, 4), np.float32), b, return_sequences=True)
    np.testing.assert_allclose(h[0, :, 0], np.tanh(np.cumsum(np.tanh(seq[0, :, 0]))), atol=1e-6)


def test_unsupported_models_are_refused_by_name(tmp_path):
    keras = networks.keras
    gru = keras.Sequential([keras.Input((130, 13)), keras.layers.GRU(4, name="my_gru"), keras.layers.Dense(2)])
    with pytest.raises(UnsupportedModelError, match="'my_gru' of class GRU.*--engine keras"):
        _saved(gru, tmp_path / "gru.keras")
    sig = keras.Sequential([keras.Input((130, 13)), keras.layers.Flatten(),
                            keras.layers.Dense(2, activation="softplus", name="odd")])
    with pytest.raises(UnsupportedModelError, match="softplus"):
        _saved(sig, tmp_path / "softplus.keras")
    inputs = keras.Input((3,))
    functional = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(UnsupportedModelError, match="Functional"):
        _saved(functional, tmp_path / "functional.keras")
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.keras: not a .keras archive"):
        NumpyNetwork.load(tmp_path / "junk.keras")
    with pytest.raises(FileNotFoundError, match="missing.keras"):
        NumpyNetwork.load(tmp_path / "missing.keras")


def test_weights_that_do_not_fit_are_an_error_not_a_wrong_answer(tmp_path):
    network = networks.build_model("mlp")
    path = tmp_path / "mlp.keras"
    network.save(path)
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"].pop(1)  # the Flatten: 2-d segments reach a Dense layer
    files["config.json"] = json.dumps(config).encode()
    broken = tmp_path / "broken.keras"
    with zipfile.ZipFile(broken, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    net = NumpyNetwork.load(broken)
    with pytest.raises(ValueError):
        net.predict_on_batch(np.zeros((2, 13, 130), np.float32))  # the wrong input shape is named, not run


@pytest.fixture(scope="module")
def cnn_path(tmp_path_factory):
    return train_tiny_model("cnn", tmp_path_factory.mktemp("results"), epochs=3)


def test_load_model_engines_agree(cnn_path):
    keras_model = training.load_model(cnn_path)
    numpy_model = training.load_model(cnn_path, engine="numpy")
    assert isinstance(numpy_model.model, NumpyNetwork) and numpy_model.describe() == keras_model.describe()
    X = np.random.default_rng(0).normal(size=(33, *keras_model.config.segment_shape)).astype(np.float32)
    np.testing.assert_allclose(numpy_model.predict_proba(X, batch_size=8), keras_model.predict_proba(X), atol=2e-5)
    with pytest.raises(ValueError, match="engine must be one of keras, numpy"):
        training.load_model(cnn_path, engine="torch")


def test_mgc_predict_runs_without_tensorflow(tmp_path, cnn_path):
    sf.write(tmp_path / "a.wav", bright_noise(3.0), SR)
    code = ("import sys, json\n"
            "from mgc_helpers.commands.cli import main\n"
            f"rc = main(['predict', {str(tmp_path / 'a.wav')!r}, '--model', {str(cnn_path)!r}, '--format', 'json'])\n"
            "print(json.dumps({'rc': rc, 'tf': 'tensorflow' in sys.modules, 'keras': 'keras' in sys.modules}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    report, flags = json.loads("\n".join(lines[:-1])), json.loads(lines[-1])
    assert flags == {"rc": 0, "tf": False, "keras": False}
    assert report["predictions"][0]["top"][0]["genre"] == "metal"
    assert "run by NumPy" in out.stderr
