from __future__ import annotations

import dataclasses
import json
import os
import zipfile

import librosa
import numpy as np
import pytest
import soundfile as sf

from mgc_helpers.core.config import PAPER_CONFIG, FeatureConfig
from mgc_helpers.data import features
from mgc_helpers.data.datasets import load_dataset
from mgc_helpers.data.features import extract_features, extract_track
from mgc_helpers.data.segments import SegmentSet
from mgc_helpers.data.trackmap import CacheWarning
from mgc_helpers.signal.audio import AudioError
from mgc_helpers.signal.mfcc_fast import mfcc_segments, power_spectrogram

SR = 22050
#: Two 3-s segments per clip keeps the tests fast while using the paper's segment shape (130 x 13).
SMALL = FeatureConfig(track_duration=6.0, n_segments=2)


def clip(seconds: float, *, seed: int, sr: int = SR, channels: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * (200 + 30 * seed) * t) + 0.05 * rng.standard_normal(len(t))
    return np.stack([y, 0.5 * y], axis=1) if channels == 2 else y


def write(path, y, sr=SR, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), y, sr, **kw)


@pytest.fixture
def gtzan(tmp_path):
    """Tiny GTZAN WAV copy with every kind of problem file; 6-s clips."""
    base = tmp_path / "gtzan" / "genres_original"
    seed = 0
    for genre in ("blues", "metal", "rock"):
        for i in range(3):
            seed += 1
            write(base / genre / f"{genre}.{i:05d}.wav", clip(6.0, seed=seed))
    write(base / "blues" / "blues.00003.wav", clip(4.0, seed=20))  # short: 1 of 2 segments
    write(base / "rock" / "rock.00003.wav", clip(2.0, seed=21))  # too short for one segment
    write(base / "metal" / "metal.00003.wav", clip(6.0, seed=22, sr=44100, channels=2), sr=44100)  # stereo 44.1 k
    write(base / "metal" / "metal.00004.wav", np.zeros(6 * SR))  # silent
    bad = clip(6.0, seed=23).astype(np.float32)
    bad[1000] = np.nan
    write(base / "rock" / "rock.00004.wav", bad, subtype="FLOAT")  # NaN samples
    (base / "rock" / "rock.00005.wav").write_bytes(b"not audio" * 100)  # unreadable header
    (base / "rock" / ".DS_Store").write_bytes(b"\x00")
    (base / "blues" / "cover.jpg").write_bytes(b"\xff\xd8")
    (base / "pop").mkdir()
    return load_dataset(tmp_path / "gtzan")


def test_mfcc_segments_match_librosa_segment_by_segment():
    y = clip(6.0, seed=5).astype(np.float32)
    y[: SR] *= 0.001  # very different levels: top_db must be applied per segment, as librosa does
    segments = y.reshape(2, -1)
    ours = mfcc_segments(segments)
    assert ours.shape == (2, 130, 13) and ours.dtype == np.float32
    for k, segment in enumerate(segments):
        ref = librosa.feature.mfcc(y=segment, sr=SR, n_mfcc=13, n_fft=2048, hop_length=512).T
        np.testing.assert_allclose(ours[k], ref, rtol=1e-5, atol=1e-3)
    assert mfcc_segments(np.zeros((0, 66150))).shape == (0, 130, 13)
    with pytest.raises(ValueError, match="shape"):
        mfcc_segments(np.zeros(10))


def test_power_spectrogram_matches_librosa_stft_and_ignores_thread_count():
    from threadpoolctl import threadpool_limits

    segments = clip(6.0, seed=6).astype(np.float32).reshape(2, -1)
    ours = power_spectrogram(segments)
    ref = np.abs(librosa.stft(segments, n_fft=2048, hop_length=512)) ** 2
    assert ours.shape == (2, 130, 1025)
    np.testing.assert_allclose(ours, np.swapaxes(ref, 1, 2), rtol=1e-3, atol=1e-6 * ref.max())
    with threadpool_limits(limits=1):
        one = mfcc_segments(segments)
    with threadpool_limits(limits=2):
        two = mfcc_segments(segments)
    assert np.array_equal(one, two)


def test_extract_track_policy(gtzan):
    paths = {t.track_id: t.path for t in gtzan.tracks}
    mfcc, notes = extract_track(paths["blues.00000"], config=SMALL)
    assert mfcc.shape == (2, 130, 13) and notes == []
    mfcc, notes = extract_track(paths["blues.00003"], config=SMALL)
    assert mfcc.shape == (1, 130, 13) and notes == ["short clip (4.00 s): 1 of 2 segments"]
    mfcc, notes = extract_track(paths["metal.00004"], config=SMALL)
    assert np.all(np.isfinite(mfcc)) and "silent clip" in notes[0]
    with pytest.raises(AudioError, match="too short"):
        extract_track(paths["rock.00003"], config=SMALL)
    with pytest.raises(AudioError, match="NaN"):
        extract_track(paths["rock.00004"], config=SMALL)


def test_extraction_reports_every_problem(gtzan, tmp_path):
    segs = extract_features(gtzan, config=SMALL, cache_dir=tmp_path / "cache", n_jobs=1)
    assert gtzan.genres == ("blues", "metal", "pop", "rock") and segs.genres == gtzan.genres
    assert segs.X.shape == (2 * 9 + 1 + 2 + 2, 130, 13) and segs.X.dtype == np.float32
    assert np.all(np.isfinite(segs.X))
    assert segs.n_classes == 4 and segs.n_tracks == 12 and segs.dataset == "gtzan"
    assert segs.y.dtype == np.int64 and sorted(set(segs.y.tolist())) == [0, 1, 3]
    first = segs.track == "blues.00000"
    assert segs.segment[first].tolist() == [0, 1] and segs.segment[segs.track == "blues.00003"].tolist() == [0]
    assert np.all(segs.y[segs.track == "rock.00000"] == gtzan.label_of("rock"))
    assert segs.group[first][0] != "blues.00000"  # GTZAN artist from the published lists
    skipped = {s.path.name: s.reason for s in segs.skipped}
    assert set(skipped) == {"rock.00003.wav", "rock.00004.wav", "rock.00005.wav", "pop"}
    assert "too short" in skipped["rock.00003.wav"] and "NaN" in skipped["rock.00004.wav"]
    assert "unreadable audio header" in skipped["rock.00005.wav"]
    notes = {s.path.name: s.reason for s in segs.warnings}
    assert set(notes) == {"blues.00003.wav", "metal.00004.wav"}
    text = segs.summary()
    assert "23 segments of 130 x 13 MFCCs from 12 tracks" in text and "skipped 4 file(s)" in text
    assert "warnings for 2 file(s)" in text
    assert segs.info["cache"] == "miss"


def test_stereo_44k_file_is_resampled_and_mixed(gtzan, tmp_path):
    segs = extract_features(gtzan, config=SMALL, cache=False, n_jobs=1)
    stereo = segs.X[segs.track == "metal.00003"]
    y, _ = librosa.load(str(gtzan.audio_root / "metal" / "metal.00003.wav"), sr=SR, mono=True)
    ref = librosa.feature.mfcc(y=y[:66150], sr=SR, n_mfcc=13, n_fft=2048, hop_length=512).T
    np.testing.assert_allclose(stereo[0], ref, rtol=1e-5, atol=1e-3)
    assert segs.info["cache"] == "off"


def test_cache_hit_miss_and_stale(gtzan, tmp_path):
    cache = tmp_path / "cache"
    first = extract_features(gtzan, config=SMALL, cache_dir=cache, n_jobs=1)
    files = sorted(cache.glob("*.npz"))
    assert len(files) == 1 and files[0].name.startswith("gtzan-gtzan-")
    assert not list(cache.glob("*.work-*"))  # work folder removed after the merge
    again = extract_features(gtzan, config=SMALL, cache_dir=cache, n_jobs=1)
    assert again.info["cache"] == "hit" and np.array_equal(again.X, first.X)
    assert [str(s) for s in again.skipped] == [str(s) for s in first.skipped]
    assert [str(s) for s in again.warnings] == [str(s) for s in first.warnings]
    # a changed setting never reuses the cache
    other = extract_features(gtzan, config=FeatureConfig(track_duration=6.0, n_segments=2, n_mfcc=20),
                             cache_dir=cache, n_jobs=1)
    assert other.info["cache"] == "miss" and other.X.shape[1:] == (130, 20)
    # a changed file (new content, size and mtime) invalidates the cache
    path = gtzan.audio_root / "blues" / "blues.00001.wav"
    write(path, clip(6.0, seed=99))
    os.utime(path, ns=(1, 1))
    changed = extract_features(load_dataset(gtzan.root), config=SMALL, cache_dir=cache, n_jobs=1)
    assert changed.info["cache"] == "miss"
    rows = changed.track == "blues.00001"
    assert not np.allclose(changed.X[rows], first.X[first.track == "blues.00001"])
    assert len(list(cache.glob("*.npz"))) == 3


def test_corrupt_cache_is_rebuilt_with_a_warning(gtzan, tmp_path):
    cache = tmp_path / "cache"
    first = extract_features(gtzan, config=SMALL, cache_dir=cache, n_jobs=1)
    path = features.feature_cache_path(gtzan, config=SMALL, cache_dir=cache)
    assert path.is_file() and first.info["cache_file"] == str(path)
    path.write_bytes(path.read_bytes()[:500])  # truncated, as by a full disk
    with pytest.warns(CacheWarning, match="unusable.*rebuilding"):
        rebuilt = extract_features(gtzan, config=SMALL, cache_dir=cache, n_jobs=1)
    assert rebuilt.info["cache"] == "rebuilt" and np.array_equal(rebuilt.X, first.X)
    assert extract_features(gtzan, config=SMALL, cache_dir=cache, n_jobs=1).info["cache"] == "hit"
    first.save(path)  # a valid SegmentSet, but without this dataset's cache key
    with pytest.warns(CacheWarning, match="cache key does not match"):
        extract_features(gtzan, config=SMALL, cache_dir=cache, n_jobs=1)


def test_interrupted_run_resumes(gtzan, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    fresh = extract_features(gtzan, config=SMALL, cache=False, n_jobs=1)
    real = features.extract_track
    calls = []

    def flaky(path, *, config):
        calls.append(path)
        if len(calls) == 5:  # the first track of the third chunk
            raise KeyboardInterrupt
        return real(path, config=config)

    monkeypatch.setattr(features, "extract_track", flaky)
    with pytest.raises(KeyboardInterrupt):
        extract_features(gtzan, config=SMALL, cache_dir=cache, n_jobs=1, chunk_size=2)
    work = list(cache.glob("*.work-2"))
    assert len(work) == 1 and len(list(work[0].glob("chunk-*.npz"))) == 2
    (work[0] / "chunk-00001.npz").write_bytes(b"half written")  # a damaged chunk is recomputed
    monkeypatch.setattr(features, "extract_track", real)
    resumed = extract_features(gtzan, config=SMALL, cache_dir=cache, n_jobs=1, chunk_size=2)
    assert resumed.info["cache"] == "resumed" and resumed.info["chunks_reused"] == 1
    assert np.array_equal(resumed.X, fresh.X) and np.array_equal(resumed.track, fresh.track)
    assert not work[0].exists()


def test_parallel_equals_serial(gtzan):
    serial = extract_features(gtzan, config=SMALL, cache=False, n_jobs=1, chunk_size=3)
    parallel = extract_features(gtzan, config=SMALL, cache=False, n_jobs=2, chunk_size=3, progress=False)
    for name in ("X", "y", "track", "group", "segment"):
        assert np.array_equal(getattr(serial, name), getattr(parallel, name)), name
    assert [str(s) for s in parallel.skipped] == [str(s) for s in serial.skipped]
    assert parallel.info["n_jobs"] == 2


def test_dask_backend_on_a_local_cluster(gtzan, tmp_path):
    from dask.distributed import Client, LocalCluster

    with pytest.raises(RuntimeError, match="needs a running dask.distributed Client"):
        extract_features(gtzan, config=SMALL, cache=False, backend="dask")
    serial = extract_features(gtzan, config=SMALL, cache=False, n_jobs=1, chunk_size=3)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
            Client(cluster):
        distributed = extract_features(gtzan, config=SMALL, cache_dir=tmp_path / "cache", backend="dask",
                                       chunk_size=3)
    assert np.array_equal(distributed.X, serial.X) and np.array_equal(distributed.track, serial.track)
    assert distributed.info["backend"] == "dask"


def test_a_file_removed_after_loading_is_a_clear_error(gtzan, tmp_path):
    gtzan.tracks[0].path.unlink()
    with pytest.raises(FileNotFoundError, match="blues.00000.wav: listed when the dataset was loaded"):
        extract_features(gtzan, config=SMALL, cache_dir=tmp_path / "cache", n_jobs=1)


def test_bad_arguments(gtzan):
    with pytest.raises(ValueError, match="unknown backend 'spark'"):
        extract_features(gtzan, config=SMALL, backend="spark")
    with pytest.raises(ValueError, match="n_jobs"):
        extract_features(gtzan, config=SMALL, n_jobs=0)
    with pytest.raises(ValueError, match="chunk_size"):
        extract_features(gtzan, config=SMALL, chunk_size=0)
    empty = dataclasses.replace(gtzan, tracks=[])
    with pytest.raises(ValueError, match=rf"dataset in .*{gtzan.root.name} has no usable tracks; {len(gtzan.skipped)} skipped"):
        extract_features(empty, config=SMALL, cache=False)


def test_save_load_round_trip_without_pickle(gtzan, tmp_path):
    segs = extract_features(gtzan, config=SMALL, cache=False, n_jobs=1)
    path = segs.save(tmp_path / "out" / "features.npz")
    with np.load(path, allow_pickle=False) as raw:  # strings are fixed-width unicode, not objects
        assert raw["track"].dtype.kind == "U" and raw["X"].dtype == np.float32
    with zipfile.ZipFile(path) as zf:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
    back = SegmentSet.load(path)
    for name in ("X", "y", "track", "group", "segment"):
        assert np.array_equal(getattr(back, name), getattr(segs, name))
    assert back.genres == segs.genres and back.config == SMALL and back.dataset == "gtzan"
    assert [str(s) for s in back.skipped] == [str(s) for s in segs.skipped]
    assert [str(s) for s in back.warnings] == [str(s) for s in segs.warnings]
    assert not list(path.parent.glob(".*tmp*"))  # no temporary file left behind
    with pytest.raises(ValueError, match="end in .npz"):
        segs.save(tmp_path / "features.json")
    with pytest.raises(FileNotFoundError):
        SegmentSet.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a SegmentSet file"):
        SegmentSet.load(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="unreadable"):
        SegmentSet.load(tmp_path / "junk.npz")


def test_paper_json_export(gtzan, tmp_path):
    segs = extract_features(gtzan, config=SMALL, cache=False, n_jobs=1)
    path = segs.to_paper_json(tmp_path / "data.json")
    data = json.loads(path.read_text())
    assert list(data) == ["mapping", "labels", "mfcc"]
    assert data["mapping"] == list(segs.genres) and data["labels"] == segs.y.tolist()
    mfcc = np.array(data["mfcc"], dtype=np.float32)
    assert mfcc.shape == (len(segs), 130, 13) and np.array_equal(mfcc, segs.X)
    indented = json.loads(segs.subset([0, 1]).to_paper_json(tmp_path / "small.json", indent=4).read_text())
    assert np.array_equal(np.array(indented["mfcc"], dtype=np.float32), segs.X[:2])


def test_segment_set_validation_and_subset():
    X = np.zeros((4, 130, 13))
    kw = dict(y=[0, 0, 1, 1], track=["a", "a", "b", "b"], group=["g", "g", "b", "b"], segment=[0, 1, 0, 1],
              genres=("blues", "rock"))
    segs = SegmentSet(X, **kw)
    assert segs.X.dtype == np.float32 and segs.config == PAPER_CONFIG and segs.skipped == []
    assert len(segs) == 4 and segs.n_classes == 2 and segs.n_tracks == 2
    part = segs.subset(segs.y == 1)
    assert part.track.tolist() == ["b", "b"] and part.genres == segs.genres
    assert segs.subset([3]).segment.tolist() == [1]
    assert segs.to_frame()["genre"].tolist() == ["blues", "blues", "rock", "rock"]
    assert "4 segments" in repr(segs)
    with pytest.raises(ValueError, match="shape"):
        SegmentSet(np.zeros((4, 13)), **kw)
    with pytest.raises(ValueError, match="SegmentSet.y must have shape"):
        SegmentSet(X, **{**kw, "y": [0, 1]})
    with pytest.raises(ValueError, match="sorted"):
        SegmentSet(X, **{**kw, "genres": ("rock", "blues")})
    with pytest.raises(ValueError, match="labels must lie"):
        SegmentSet(X, **{**kw, "y": [0, 0, 1, 2]})
    with pytest.raises(ValueError, match="boolean mask"):
        segs.subset(np.array([True, False]))
