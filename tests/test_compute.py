"""How training uses the machine (mgc_helpers.core.compute): the settings reach training, and change no number."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mgc_helpers.beyond import optimisers
from mgc_helpers.core import compute
from mgc_helpers.core.config import FeatureConfig
from mgc_helpers.data.segments import SegmentSet
from mgc_helpers.data.splits import Split
from mgc_helpers.models import experiments, training


def _toy() -> SegmentSet:
    rng = np.random.default_rng(0)
    n_tracks, per_track = 12, 4
    y = np.repeat(np.arange(n_tracks) % 2, per_track)
    X = rng.standard_normal((n_tracks * per_track, 13, 13)).astype(np.float32)
    X[:, :, 0] += 2 * y[:, None]
    return SegmentSet(X=X, y=y, track=np.repeat([f"t{i:02d}" for i in range(n_tracks)], per_track),
                      group=np.repeat([f"g{i // 2}" for i in range(n_tracks)], per_track),
                      segment=np.tile(np.arange(per_track), n_tracks), genres=("a", "b"),
                      config=FeatureConfig(track_duration=3.0))


def _split(segments, protocol, *, seed=0):
    order = np.random.default_rng(seed).permutation(len(segments))
    n = len(segments)
    return Split(f"{protocol} (seed {seed})", order[: n // 2], order[n // 2: 3 * n // 4], order[3 * n // 4:])


def _weights(trained) -> list[np.ndarray]:
    return [np.asarray(w) for w in trained.model.get_weights()]


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_the_machine_settings_reach_the_compiled_model_and_tensorflow(name):
    import tensorflow as tf
    from tensorflow.python.framework.config import is_op_determinism_enabled

    segs = _toy()
    trained = training.train(segs, _split(segs, "segment"), model=name, epochs=1, batch_size=8, seed=0)
    options = compute.compile_options(name)
    assert options["steps_per_execution"] > 1
    assert int(trained.model.steps_per_execution) == options["steps_per_execution"]
    assert bool(trained.model.jit_compile) is options["jit_compile"] is False
    assert is_op_determinism_enabled()
    from tensorflow.python.util import _pywrap_util_port

    assert compute.ONEDNN is True and compute.onednn_enabled() is True
    assert _pywrap_util_port.IsMklEnabled() is True, "TensorFlow runs without oneDNN's kernels"
    threads = (tf.config.threading.get_intra_op_parallelism_threads()
               or int(compute.os.environ["TF_NUM_INTRAOP_THREADS"]))
    assert threads == compute.TRAIN_THREADS


def test_steps_per_execution_changes_no_weight():
    """Several mini-batches per compiled call: the same steps in the same order, bit for bit."""
    from mgc_helpers.models import networks

    segs = _toy()
    split = _split(segs, "segment")
    X = training.prepare_inputs(segs.X[split.train], model_name="mlp")
    y = np.asarray(segs.y)[split.train]
    weights = []
    for steps in (1, compute.compile_options("mlp")["steps_per_execution"]):
        training.set_seed(0)
        net = networks.build_model("mlp", (13, 13), 2, hidden_units=(16,))
        networks.compile_model(net, learning_rate=1e-3, steps_per_execution=steps)
        batches = training._batches(X, y, batch_size=4, shuffle=True, seed=0)  # shuffles, so fit must not
        net.fit(batches, epochs=2, shuffle=False, verbose=0)
        weights.append(net.get_weights())
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_training_pipeline_prefetches_and_that_changes_no_weight(monkeypatch):
    """Prefetching prepares the same mini-batches in the same order while the model trains."""
    segs = _toy()
    split = _split(segs, "segment")
    X, y = segs.X[split.train], np.asarray(segs.y)[split.train]
    assert compute.PREFETCH is True
    assert "Prefetch" in type(training._batches(X, y, batch_size=4, shuffle=True, seed=0)).__name__
    runs = []
    for prefetch in (True, False):
        monkeypatch.setattr(compute, "PREFETCH", prefetch)
        assert ("Prefetch" in type(training._batches(X, y, batch_size=4, shuffle=True, seed=0)).__name__) is prefetch
        runs.append(training.train(segs, split, model="cnn", epochs=2, batch_size=4, seed=1))
    for a, b in zip(_weights(runs[0]), _weights(runs[1]), strict=True):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(runs[0].history, runs[1].history)


def test_importing_the_models_writes_no_onednn_notice():
    """TensorFlow's C++ notice would land in every chapter that trains; other stderr text still gets through."""
    import subprocess
    import sys

    code = ("import os, sys\nfrom mgc_helpers.models import networks\nimport tensorflow as tf\n"
            "print(bool(tf.constant([1.0]) + 1), file=sys.stderr)")
    env = {k: v for k, v in compute.os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", compute.ONEDNN_ENV)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "oneDNN" not in run.stderr and "InitializeLog" not in run.stderr
    assert run.stderr.strip().endswith("True")


def test_importing_tensorflow_drops_only_the_notice(capfd):
    with compute.importing_tensorflow():
        compute.os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        compute.os.write(2, b"I0000 port.cc:153] oneDNN custom operations are on. You may see slightly different\n")
        compute.os.write(2, b"E0000 a real error\n")
    assert capfd.readouterr().err == "E0000 a real error\n"


def test_a_tiny_training_twice_gives_identical_weights():
    segs = _toy()
    split = _split(segs, "segment")
    runs = [training.train(segs, split, model="rnn_lstm", epochs=2, batch_size=8, seed=3,
                           model_kwargs={"lstm_units": (8, 8), "dense_units": 8}) for _ in range(2)]
    for a, b in zip(_weights(runs[0]), _weights(runs[1]), strict=True):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(runs[0].history, runs[1].history)


def test_a_grid_in_worker_processes_equals_the_grid_run_one_after_the_other(tmp_path):
    segs = _toy()
    kwargs = dict(models=("mlp",), protocols=("segment",), seeds=(0, 1), epochs=2, batch_size=8, split_fn=_split)
    serial = experiments.run_protocols(segs, jobs=1, **kwargs)
    parallel = experiments.run_protocols(segs, jobs=2, out=tmp_path / "grid.csv", **kwargs)
    assert list(parallel["seed"]) == [0, 1]
    pd.testing.assert_frame_equal(serial.drop(columns="seconds"), parallel.drop(columns="seconds"))
    assert len(pd.read_csv(tmp_path / "grid.csv")) == 2  # each finished run was saved


def test_the_optimiser_grid_in_worker_processes_equals_it_run_one_after_the_other(tmp_path):
    segs = _toy()
    kwargs = dict(plan=(("mlp", "activations", 1, 2),), seeds=(0,), batch_size=8, split_fn=_split)
    serial, serial_curves = optimisers.run_optimiser_grid(segs, jobs=1, **kwargs)
    parallel, parallel_curves = optimisers.run_optimiser_grid(segs, jobs=2, out=tmp_path / "opt.csv", **kwargs)
    assert list(parallel["activation"]) == ["relu", "sigmoid", "tanh"]  # the grid's order, whatever finished first
    pd.testing.assert_frame_equal(serial.drop(columns="seconds"), parallel.drop(columns="seconds"))
    pd.testing.assert_frame_equal(serial_curves, parallel_curves)
    assert len(pd.read_csv(tmp_path / "opt.csv")) == 3 and len(pd.read_csv(tmp_path / "opt_histories.csv")) == 6


def test_train_jobs_and_thread_settings_check_their_input(monkeypatch):
    monkeypatch.delenv(compute.TRAIN_JOBS_ENV, raising=False)
    assert compute.train_jobs(18, default=compute.GRID_JOBS) == compute.GRID_JOBS
    monkeypatch.setenv(compute.TRAIN_JOBS_ENV, "1")
    assert compute.train_jobs(18) == 1
    monkeypatch.setenv(compute.TRAIN_JOBS_ENV, "3")
    assert compute.train_jobs(18) == 3 and compute.train_jobs(2) == 2
    monkeypatch.setenv(compute.TRAIN_JOBS_ENV, "many")
    with pytest.raises(ValueError, match=compute.TRAIN_JOBS_ENV):
        compute.train_jobs(4)
    with pytest.raises(ValueError, match="threads"):
        compute.configure_threads(0)
    assert compute.run_parallel(divmod, [(7, 2), (9, 4)], jobs=1) == [(3, 1), (2, 1)]
