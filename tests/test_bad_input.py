"""The bad-input matrix of ``book/bad_input.md``, row by row, through the user-facing entry points.

Each test name carries the row id (``R1`` ... ``R17``); ``test_every_row_has_a_test`` keeps the page
and this file in step. The module tests (test_datasets, test_features, test_predict, ...) check the
same behaviours in more detail; here we check what a user sees: a clear message naming the file and
the reason, or a counted skip, and never a traceback.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mgc_helpers.commands.cli import main
from mgc_helpers.core.config import FeatureConfig
from mgc_helpers.core.profiles import get_profile
from mgc_helpers.data import features
from mgc_helpers.data.datasets import DatasetError, load_dataset, prepare_dataset
from mgc_helpers.data.features import extract_features
from mgc_helpers.data.trackmap import CacheWarning

ROOT = Path(__file__).resolve().parents[1]
SR = 22050
#: 6-s clips in two 3-s segments: the paper's segment shape, a fifth of the work.
SMALL = FeatureConfig(track_duration=6.0, n_segments=2)


def tone(seconds, *, f=220.0, sr=SR, channels=1):
    t = np.arange(int(seconds * sr)) / sr
    y = (0.4 * np.sin(2 * np.pi * f * t) + 0.1 * np.sin(2 * np.pi * 3 * f * t)).astype(np.float32)
    return np.stack([y, y], axis=1) if channels == 2 else y


def write(path, y, sr=SR, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), y, sr, **kw)
    return path


@pytest.fixture
def messy(tmp_path):
    """A GTZAN-style WAV copy with one file for each problem of the matrix."""
    base = tmp_path / "messy" / "genres_original"
    for i, genre in enumerate(("blues", "metal")):
        for k in range(2):
            write(base / genre / f"{genre}.{k:05d}.wav", tone(6.0, f=150.0 * (i + 1) + 20 * k))
    write(base / "blues" / "blues.00002.wav", tone(6.0, f=440.0, sr=48000, channels=2), sr=48000)  # R11
    write(base / "blues" / "blues.00003.wav", np.zeros(6 * SR, dtype=np.float32))                     # R8
    write(base / "blues" / "blues.00004.wav", tone(1.0))                                              # R9
    write(base / "metal" / "metal.00002.wav", tone(4.0))                                              # R10
    nan = tone(6.0)
    nan[123] = np.inf
    write(base / "metal" / "metal.00003.wav", nan, subtype="FLOAT")                                   # R12
    (base / "metal" / "metal.00004.wav").write_bytes(b"RIFF....WAVEfmt garbage" * 20)                  # R6
    good = (base / "blues" / "blues.00000.wav").read_bytes()
    (base / "metal" / "metal.00005.wav").write_bytes(good[: len(good) // 3])                          # R7 cut short
    (base / "metal" / ".DS_Store").write_bytes(b"\0\0")                                               # R5
    (base / "blues" / "._blues.00000.wav").write_bytes(b"\0\0")
    (base / "blues" / "notes.txt").write_text("liner notes")
    (base / "pop").mkdir()                                                                            # R4
    return tmp_path / "messy"


@pytest.fixture
def extracted(messy, tmp_path):
    return extract_features(load_dataset(messy), config=SMALL, cache_dir=tmp_path / "cache", n_jobs=1)


def _reasons(entries):
    return {Path(e.path).name: e.reason for e in entries}


def test_R1_missing_dataset_folder(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no GTZAN copy found"):
        prepare_dataset("gtzan", data_dir=tmp_path / "nowhere")
    assert main(["extract", str(tmp_path / "nowhere"), "--no-progress"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_R2_empty_dataset_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="is empty; expected one of"):
        load_dataset(tmp_path / "empty")
    assert main(["extract", str(tmp_path / "empty")]) == 2
    assert "genres_original" in capsys.readouterr().err


def test_R3_unknown_layout(tmp_path):
    write(tmp_path / "flat" / "song.wav", tone(3.0))
    with pytest.raises(DatasetError, match=r"unknown dataset layout .*found: song.wav.*expected one of"):
        load_dataset(tmp_path / "flat")


def test_R4_empty_genre_folder_keeps_its_label(messy):
    ds = load_dataset(messy)
    assert ds.genres == ("blues", "metal", "pop")
    assert "empty genre folder" in _reasons(ds.skipped)["pop"]


def test_R5_hidden_and_non_audio_files_are_ignored_and_counted(messy):
    ds = load_dataset(messy)
    assert {p.name for p in ds.ignored} >= {".DS_Store", "._blues.00000.wav", "notes.txt"}
    assert all(not t.path.name.startswith(".") for t in ds.tracks)


def test_R6_audio_extension_that_is_not_audio(messy):
    assert "unreadable audio header" in _reasons(load_dataset(messy).skipped)["metal.00004.wav"]


def test_R7_truncated_file_is_reported(messy, extracted):
    reasons = {**_reasons(extracted.skipped), **_reasons(extracted.warnings)}
    assert "metal.00005.wav" in reasons
    assert re.search(r"short clip|too short|cannot decode|unreadable", reasons["metal.00005.wav"])


def test_R8_silent_clip_kept_with_a_warning(extracted):
    assert "silent clip" in _reasons(extracted.warnings)["blues.00003.wav"]
    rows = extracted.track == "blues.00003"
    assert rows.sum() == 2 and np.all(np.isfinite(extracted.X[rows]))


def test_R9_clip_shorter_than_one_segment_is_skipped(extracted):
    assert "too short" in _reasons(extracted.skipped)["blues.00004.wav"]
    assert "blues.00004" not in set(extracted.track)


def test_R10_clip_shorter_than_the_track_keeps_its_full_segments(extracted):
    assert "1 of 2 segments" in _reasons(extracted.warnings)["metal.00002.wav"]
    assert (extracted.track == "metal.00002").sum() == 1


def test_R11_stereo_48k_is_used(extracted):
    rows = extracted.track == "blues.00002"
    assert rows.sum() == 2 and extracted.X.shape[1:] == (130, 13)


def test_R12_non_finite_samples_are_skipped(extracted):
    assert "NaN or infinite" in _reasons(extracted.skipped)["metal.00003.wav"]


def test_R13_interrupted_extraction_resumes(messy, tmp_path, monkeypatch):
    ds = load_dataset(messy)
    real, calls = features.extract_track, []

    def interrupted(path, *, config):
        calls.append(path)
        if len(calls) == 4:  # the first track of the second chunk
            raise KeyboardInterrupt
        return real(path, config=config)

    monkeypatch.setattr(features, "extract_track", interrupted)
    with pytest.raises(KeyboardInterrupt):
        extract_features(ds, config=SMALL, cache_dir=tmp_path / "c", n_jobs=1, chunk_size=3)
    assert not list((tmp_path / "c").glob("*.npz")), "no final cache file from an interrupted run"
    monkeypatch.setattr(features, "extract_track", real)
    resumed = extract_features(ds, config=SMALL, cache_dir=tmp_path / "c", n_jobs=1, chunk_size=3)
    assert resumed.info["cache"] == "resumed" and resumed.info["chunks_reused"] == 1
    fresh = extract_features(ds, config=SMALL, cache=False, n_jobs=1)
    assert np.array_equal(resumed.X, fresh.X)


def test_R14_cache_of_other_parameters_or_changed_files_is_not_reused(messy, tmp_path, extracted):
    cache = tmp_path / "cache"
    ds = load_dataset(messy)
    assert extract_features(ds, config=SMALL, cache_dir=cache, n_jobs=1).info["cache"] == "hit"
    other = FeatureConfig(track_duration=6.0, n_segments=2, n_mfcc=20)
    again = extract_features(ds, config=other, cache_dir=cache, n_jobs=1)
    assert again.info["cache"] == "miss" and again.X.shape[2] == 20
    write(messy / "genres_original" / "metal" / "metal.00000.wav", tone(6.0, f=999.0))
    assert extract_features(load_dataset(messy), config=SMALL, cache_dir=cache, n_jobs=1).info["cache"] == "miss"
    cache_file = Path(extract_features(ds, config=SMALL, cache_dir=cache, n_jobs=1).info["cache_file"])
    cache_file.write_bytes(b"corrupt")
    with pytest.warns(CacheWarning, match="rebuilding"):
        rebuilt = extract_features(load_dataset(messy), config=SMALL, cache_dir=cache, n_jobs=1)
    assert rebuilt.info["cache"] == "rebuilt"


def test_R15_results_folder_not_writable(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    assert main(["reproduce", "--out", str(blocker / "results"), "--notebooks", "01", "--no-book"]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and str(blocker) in err
    write(tmp_path / "a.wav", tone(3.0))
    assert main(["predict", str(tmp_path / "a.wav"), "--model", str(tmp_path / "m.keras")]) == 2


def test_R16_model_of_another_configuration(tmp_path, capsys):
    fake = tmp_path / "model.keras"
    fake.write_bytes(b"definitely not a zip")
    (tmp_path / "model.json").write_text('{"format": "mgc-book model"}')
    assert main(["predict", str(tmp_path), "--model", str(fake)]) == 2
    assert "not a .keras archive" in capsys.readouterr().err
    # the configuration check itself is exercised on a real model in test_predict.py


def test_R17_bad_parameters(tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        get_profile("fast")
    with pytest.raises(ValueError, match="positive integer"):
        get_profile("quick", epochs="ten")
    with pytest.raises(ValueError, match="unknown dataset 'gtzan2'.*synthetic"):
        prepare_dataset("gtzan2", data_dir=tmp_path)
    with pytest.raises(SystemExit):
        main(["reproduce", "--profile", "fast"])
    assert "invalid choice" in capsys.readouterr().err


def test_R18_folder_without_audio_is_not_a_genre(messy, tmp_path):
    base = messy / "genres_original"
    (base / "cache" / "features").mkdir(parents=True)
    (base / "cache" / "features" / "x.npz").write_bytes(b"\0")
    (base / "results").mkdir()
    ds = load_dataset(base)  # the folder that directly holds the genre folders
    assert ds.genres == ("blues", "metal", "pop")
    assert {p.name for p in ds.ignored} >= {"cache", "results"}
    assert "non-genre folder" in ds.summary() and "cache" in ds.summary()
    # the feature cache goes to MGC_CACHE_DIR / data/cache, never into the dataset folder
    from mgc_helpers.core import paths

    assert base not in paths.cache_dir().parents and paths.cache_dir() != base


def test_R19_file_name_that_is_not_valid_text_is_read(tmp_path, capsys):
    import os

    base = tmp_path / "genres_original" / "blues"
    name = os.fsdecode(b"blues.00000 caf\xe9.wav")  # Latin-1 bytes on a UTF-8 file system
    base.mkdir(parents=True)
    with open(base / name, "wb") as handle:
        sf.write(handle, tone(6.0), SR, format="WAV")
    ds = load_dataset(tmp_path)
    assert len(ds.tracks) == 1 and not ds.skipped
    segments = extract_features(ds, config=SMALL, cache_dir=tmp_path / "cache", n_jobs=1)
    assert len(segments) == 2 and not segments.skipped


def test_R20_broken_symbolic_link_is_reported(messy, tmp_path, capsys):
    import os

    link = messy / "genres_original" / "blues" / "blues.00009.wav"
    os.symlink(tmp_path / "gone.wav", link)
    reasons = _reasons(load_dataset(messy).skipped)
    assert "broken symbolic link" in reasons["blues.00009.wav"]
    from mgc_helpers.predict.run import find_audio_files

    _, skipped, _ = find_audio_files([messy / "genres_original" / "blues", link])
    assert [s.reason.startswith("broken symbolic link") for s in skipped] == [True, True]


def test_R21_no_default_model_is_an_error_not_another_model(tmp_path, capsys, monkeypatch):
    other = tmp_path / "results" / "quick" / "models"
    other.mkdir(parents=True)
    (other / "cnn.keras").write_bytes(b"a quick model that must not be picked")
    monkeypatch.setenv("MGC_RESULTS_DIR", str(tmp_path / "results" / "default"))
    write(tmp_path / "a.wav", tone(3.0))
    assert main(["predict", str(tmp_path / "a.wav")]) == 2
    err = capsys.readouterr().err
    assert "default model" in err and "does not exist" in err and "--model" in err


def test_R22_embedding_extraction_reports_bad_files(messy, tmp_path):
    from mgc_helpers.beyond import musicnn, musicnn_dataset

    base = messy / "genres_original"
    write(base / "metal" / "metal.00006.wav", tone(0.01))  # 10 ms: shorter than one 32-ms window
    ds = load_dataset(messy)
    emb = musicnn_dataset.embed_dataset(ds, cache_dir=tmp_path / "cache", n_jobs=1)
    skipped, warned = _reasons(emb.skipped), _reasons(emb.warnings)
    assert "NaN or infinite" in skipped["metal.00003.wav"]                                 # R12
    assert "too short" in skipped["metal.00006.wav"]
    assert "metal.00004.wav" in skipped                                                   # R6, from load_dataset
    assert "silent" in warned["blues.00003.wav"] and "repeated" in warned["blues.00004.wav"]  # R8, R9
    kept = set(emb.track)
    assert {"blues.00003", "blues.00004", "blues.00002"} <= kept and "metal.00003" not in kept
    # nothing lost: every track of the dataset is either embedded or reported
    assert len(emb) + len(emb.skipped) == len(ds.tracks) + len(ds.skipped)
    assert emb.patch_X.shape[0] == int(np.bincount(emb.patch_track).sum()) and emb.patch_X.shape[1] == 200
    # every patch of a kept track is there, in time order, and its mean is the track's embedding
    first = musicnn.analyse_file(base / "blues" / "blues.00000.wav")
    rows = emb.patch_track == list(emb.track).index("blues.00000")
    np.testing.assert_allclose(emb.patch_X[rows], first.patch_embeddings, atol=1e-5)
    assert list(emb.patch_index[rows]) == list(range(first.n_patches))
    np.testing.assert_allclose(emb.X[list(emb.track).index("blues.00000")], first.embedding, atol=1e-5)
    # the same files through `mgc predict --model musicnn`: reported, not lost
    assert main(["predict", "--model", "musicnn", "--no-progress", str(base / "metal" / "metal.00003.wav"),
                 str(base / "metal" / "metal.00006.wav")]) == 1


def test_R23_embedding_cache_of_other_files_is_not_reused(messy, tmp_path):
    import warnings

    from mgc_helpers.beyond import musicnn_dataset

    ds = load_dataset(messy)
    first = musicnn_dataset.embed_dataset(ds, cache_dir=tmp_path / "cache", n_jobs=1)
    assert first.info["cache"] == "miss"
    again = musicnn_dataset.embed_dataset(ds, cache_dir=tmp_path / "cache", n_jobs=1)
    assert again.info["cache"] == "hit" and np.array_equal(again.patch_X, first.patch_X)
    assert _reasons(again.warnings) == _reasons(first.warnings)
    Path(again.info["cache_file"]).write_bytes(b"not an npz")
    with pytest.warns(CacheWarning, match="unusable"):
        rebuilt = musicnn_dataset.embed_dataset(ds, cache_dir=tmp_path / "cache", n_jobs=1)
    assert rebuilt.info["cache"] == "rebuilt" and np.allclose(rebuilt.X, first.X, atol=1e-6)
    write(messy / "genres_original" / "blues" / "blues.00001.wav", tone(6.0, f=500.0))  # a changed file
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        changed = musicnn_dataset.embed_dataset(load_dataset(messy), cache_dir=tmp_path / "cache", n_jobs=1)
    assert changed.info["cache"] == "miss" and changed.info["cache_file"] != first.info["cache_file"]


def test_R24_probe_file_that_is_missing_damaged_or_not_a_probe(tmp_path, capsys):
    write(tmp_path / "a.wav", tone(3.0))
    (tmp_path / "damaged.npz").write_bytes(b"PK\x03\x04 damaged")
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    for name, words in (("absent.npz", "no such probe file"), ("damaged.npz", "not a readable .npz"),
                        ("other.npz", "no probe metadata")):
        assert main(["predict", "--model", str(tmp_path / name), str(tmp_path / "a.wav")]) == 2
        err = capsys.readouterr().err
        assert name in err and words in err and "Traceback" not in err


def test_every_row_has_a_test():
    rows = set(re.findall(r"^\* - (R\d+)$", (ROOT / "book" / "bad_input.md").read_text(), flags=re.M))
    tested = {name.split("_")[1] for name in globals() if name.startswith("test_R")}
    assert rows == {f"R{i}" for i in range(1, 25)}
    assert rows == tested
