"""Scale-out and long files: ``mgc extract`` / ``mgc predict`` on a Dask cluster of worker processes,
local worker processes, reports written file by file and resumed, and block-wise decoding.

The cluster is a real ``distributed.LocalCluster`` with two worker *processes* (one thread each):
the tasks, their arguments and results are pickled between processes, as on a remote cluster.
"""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import soundfile as sf
from _tiny_model import SR, TINY, bright_noise, low_tone, train_tiny_model
from test_features import SMALL, gtzan  # noqa: F401  # the fixture of a tiny GTZAN copy with every kind of bad file

from mgc_helpers.commands.cli import main
from mgc_helpers.data.features import extract_features
from mgc_helpers.models import training
from mgc_helpers.predict import run as predict_run
from mgc_helpers.predict.classifier import file_mfcc
from mgc_helpers.predict.report import StreamingWriter
from mgc_helpers.predict.run import predict_file, predict_paths
from mgc_helpers.signal.audio import AudioError, SegmentStream, load_song
from mgc_helpers.signal.mfcc_fast import mfcc_segments


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as c, distributed.Client(c) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        yield client


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return train_tiny_model("cnn", tmp_path_factory.mktemp("results"), epochs=3)


@pytest.fixture(scope="module")
def trained(model_path):
    return training.load_model(model_path)


@pytest.fixture
def music(tmp_path):
    """Songs of every rate, channel count and length, and bad files, in nested folders."""
    folder = tmp_path / "music"
    (folder / "b").mkdir(parents=True)
    for i in range(4):
        sf.write(folder / f"tone{i}.wav", low_tone(3.0 + i, seed=i), SR)
        sf.write(folder / "b" / f"noise{i}.flac", bright_noise(2.0 + i, seed=i, sr=44100), 44100)
    t = low_tone(9.7, seed=7, sr=48000)
    sf.write(folder / "b" / "stereo48k.wav", np.stack([t, 0.5 * t], axis=1), 48000)
    (folder / "fake.wav").write_bytes(b"not audio" * 100)
    sf.write(folder / "short.wav", low_tone(0.1), SR)
    nan = low_tone(3.0)
    nan[7] = np.nan
    sf.write(folder / "nan.wav", nan, SR, subtype="FLOAT")
    return folder


def _same_reports(a, b):
    assert [p.path for p in a.predictions] == [p.path for p in b.predictions]
    for p, q in zip(a.predictions, b.predictions, strict=True):
        assert np.array_equal(p.segment_probabilities, q.segment_probabilities), p.path  # bit for bit
        assert np.array_equal(p.probabilities, q.probabilities) and p.duration == q.duration and p.notes == q.notes
    assert [(s.path, s.reason) for s in a.skipped] == [(s.path, s.reason) for s in b.skipped]


# --------------------------------------------------------------------------------------------
# Dask cluster of processes
# --------------------------------------------------------------------------------------------

def test_extract_on_a_cluster_of_processes_equals_one_process(gtzan, cluster, tmp_path):  # noqa: F811
    serial = extract_features(gtzan, config=SMALL, cache=False, n_jobs=1, chunk_size=3)
    distributed = extract_features(gtzan, config=SMALL, cache_dir=tmp_path / "cache", backend="dask", chunk_size=3)
    for name in ("X", "y", "track", "group", "segment"):
        assert np.array_equal(getattr(distributed, name), getattr(serial, name)), name
    # bad files found on the workers come back named, with their reasons
    assert [(s.path.name, s.reason) for s in distributed.skipped] == [(s.path.name, s.reason) for s in serial.skipped]
    reasons = {s.path.name: s.reason for s in distributed.skipped}
    assert "NaN" in reasons["rock.00004.wav"] and "too short" in reasons["rock.00003.wav"]
    assert [str(w) for w in distributed.warnings] == [str(w) for w in serial.warnings]
    assert distributed.info["backend"] == "dask"


def test_predict_on_a_cluster_of_processes_equals_one_process(music, trained, cluster):
    serial = predict_paths([music], trained)
    distributed = predict_paths([music], trained, backend="dask")
    _same_reports(distributed, serial)
    assert len(serial.predictions) == 9
    reasons = {s.path.name: s.reason for s in distributed.skipped}
    assert set(reasons) == {"fake.wav", "short.wav", "nan.wav"}
    assert "cannot decode" in reasons["fake.wav"] and "NaN" in reasons["nan.wav"] and "too short" in reasons["short.wav"]


def test_predict_in_local_processes_equals_one_process(music, trained):
    _same_reports(predict_paths([music], trained, n_jobs=2), predict_paths([music], trained))


def test_files_are_handed_out_at_most_a_window_ahead_of_the_model():
    """Results that run ahead of a slow model wait in memory: over a library that was gigabytes."""
    from concurrent.futures import ThreadPoolExecutor

    from mgc_helpers.predict.run import _in_order

    submitted, ahead = [], []
    with ThreadPoolExecutor(2) as pool:
        def submit(item):
            submitted.append(item)
            return pool.submit(lambda: item * item)

        for consumed, result in enumerate(_in_order(submit, range(50), window=6), start=1):
            ahead.append(len(submitted) - consumed)
            assert result == (consumed - 1) ** 2  # in order
    assert submitted == list(range(50)) and max(ahead) == 6 and ahead[-1] == 0  # never more than the window


def test_an_interrupted_parallel_run_stops_quietly_and_leaves_joblib_working(music, trained, recwarn, monkeypatch):
    """Ctrl-C while the model works: no warning, no traceback of a pool thread, and the process goes on."""
    import threading

    from joblib import Parallel, delayed, parallel_config

    from mgc_helpers.core.compute import run_parallel

    thread_errors = []
    monkeypatch.setattr(threading, "excepthook", thread_errors.append)
    seen = []

    def stop_at_the_third(item):
        seen.append(item)
        if len(seen) == 3:
            raise KeyboardInterrupt

    closed = []
    features = predict_run._features

    def watched(*args, **kwargs):
        try:
            yield from features(*args, **kwargs)
        finally:
            closed.append(True)

    monkeypatch.setattr(predict_run, "_features", watched)
    with pytest.raises(KeyboardInterrupt) as interrupted:
        predict_paths([music], trained, n_jobs=2, on_result=stop_at_the_third)
    # the files not started were cancelled at once, not when the traceback (kept here) is dropped
    assert closed == [True] and interrupted.traceback
    assert len(seen) == 3 and len(predict_paths([music], trained, n_jobs=2).predictions) == 9
    # joblib's own pools after ours: the grids' (compute) and the feature extraction's (one thread a worker)
    assert run_parallel(pow, [(2, 3), (3, 2)], jobs=2) == [8, 9]
    with parallel_config(backend="loky", inner_max_num_threads=1):
        assert Parallel(n_jobs=2)(delayed(pow)(2, k) for k in range(3)) == [1, 2, 4]
    assert [str(w.message) for w in recwarn] == [] and thread_errors == []


def test_bad_arguments(music, trained):
    with pytest.raises(ValueError, match="unknown backend"):
        predict_paths([music], trained, backend="spark")
    with pytest.raises(ValueError, match="n_jobs"):
        predict_paths([music], trained, n_jobs=0)


def test_cli_extract_and_predict_on_a_local_cluster(gtzan, music, model_path, tmp_path, capsys):  # noqa: F811
    args = ["predict", str(music), "--model", str(model_path), "--format", "json", "--no-progress"]
    assert main(args) == 0
    serial = json.loads(capsys.readouterr().out)
    assert main([*args, "--scheduler", "local", "--jobs", "2"]) == 0
    assert json.loads(capsys.readouterr().out) == serial
    assert main([*args, "--jobs", "2"]) == 0
    assert json.loads(capsys.readouterr().out) == serial
    data = gtzan.root
    assert main(["extract", str(data), "--no-cache", "--no-progress", "--jobs", "1", "--out",
                 str(tmp_path / "serial.npz")]) == 0
    capsys.readouterr()
    assert main(["extract", str(data), "--no-cache", "--no-progress", "--backend", "dask", "--scheduler", "local",
                 "--jobs", "2", "--out", str(tmp_path / "dask.npz")]) == 0
    out = capsys.readouterr().out
    assert "rock.00004.wav: contains NaN" in out and "dask backend" in out
    a, b = np.load(tmp_path / "serial.npz"), np.load(tmp_path / "dask.npz")
    assert np.array_equal(a["X"], b["X"]) and np.array_equal(a["track"], b["track"])


# --------------------------------------------------------------------------------------------
# Reports written as results come, and resumed
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_report_is_written_file_by_file_and_a_rerun_resumes(music, model_path, tmp_path, capsys, fmt):
    out = tmp_path / "out" / f"report.{fmt}"
    args = ["predict", str(music), "--model", str(model_path), "--format", fmt, "-o", str(out), "--no-progress"]
    assert main(args) == 0
    full = out.read_text()
    err = capsys.readouterr().err
    assert "9 file(s) classified, 3 skipped" in err and "resuming" not in err

    # an interrupted run: the first 4 files written, the 5th cut off in the middle of a line
    lines = full.splitlines(keepends=True)
    head = 1 if fmt == "csv" else 0
    paths = [next(csv.reader([line]))[0] if fmt == "csv" else json.loads(line)["path"] for line in lines[head:]]
    first = list(dict.fromkeys(paths))[:4]
    cut = head + sum(p in first for p in paths)  # the rows of the first 4 files (csv: one per genre)
    assert paths[cut - head] not in first
    out.write_text("".join(lines[:cut]) + lines[cut][:10])
    assert main(args) == 0
    err = capsys.readouterr().err
    assert f"resuming: 4 file(s) already in {out} are not redone" in err
    assert "already in the output (not redone)" in err
    assert out.read_text() == full  # the same report as one uninterrupted run

    assert main(args) == 0  # everything done: nothing redone, still a success
    assert "0 file(s) classified, 0 skipped" in capsys.readouterr().err and out.read_text() == full


def test_streamed_rows_match_the_whole_report(music, trained, tmp_path):
    from mgc_helpers.predict.report import format_report

    with StreamingWriter(tmp_path / "r.csv", fmt="csv", model=trained.describe()) as writer:
        report = predict_paths([music], trained, on_result=writer.write)
    streamed = sorted(map(tuple, csv.reader((tmp_path / "r.csv").open())))
    whole = sorted(map(tuple, csv.reader(format_report(report, fmt="csv").splitlines())))
    assert streamed == whole
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a report of mgc predict"):
        StreamingWriter(tmp_path / "x.csv", fmt="csv")
    with pytest.raises(ValueError, match="csv or jsonl"):
        StreamingWriter(tmp_path / "x.json", fmt="json")


# --------------------------------------------------------------------------------------------
# Long files in blocks
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("sr", "channels", "seconds"), [(SR, 1, 31.2), (44100, 2, 29.95), (48000, 1, 12.1)])
def test_block_wise_equals_whole_file(tmp_path, trained, sr, channels, seconds):
    rng = np.random.default_rng(sr)
    y = (0.2 * rng.standard_normal((int(seconds * sr), channels))).astype(np.float32)
    path = tmp_path / "long.wav"
    sf.write(path, y, sr, subtype="FLOAT")
    whole, duration, notes = load_song(path, config=TINY, silent_note="silent audio: the prediction means nothing")
    stream = SegmentStream(path, config=TINY, block_segments=7)
    blocks = list(stream)
    assert max(len(b) for b in blocks) == 7 and len(blocks) >= 5  # really in pieces
    assert np.array_equal(np.concatenate(blocks), whole)  # the same samples, resampled or not
    X, d, n = file_mfcc(path, config=TINY, block_segments=7)
    assert np.array_equal(X, mfcc_segments(whole, config=TINY)) and d == duration and n == notes
    pred = predict_file(path, trained)
    assert np.array_equal(pred.segment_probabilities,
                          trained.predict_proba(mfcc_segments(whole, config=TINY), batch_size=64).astype(np.float64))


def test_block_wise_errors_name_the_file(tmp_path):
    y = low_tone(40.0)
    y[30 * SR] = np.inf  # in a later block
    sf.write(tmp_path / "inf.wav", y, SR, subtype="FLOAT")
    with pytest.raises(AudioError, match="inf.wav: contains NaN or infinite"):
        list(SegmentStream(tmp_path / "inf.wav", config=TINY, block_segments=4))
    sf.write(tmp_path / "short.wav", low_tone(0.1), SR)
    with pytest.raises(AudioError, match="short.wav: too short"):
        list(SegmentStream(tmp_path / "short.wav", config=TINY))
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty file"):
        list(SegmentStream(tmp_path / "empty.wav", config=TINY))
    with pytest.raises(ValueError, match="block_segments"):
        SegmentStream(tmp_path / "empty.wav", block_segments=0)
