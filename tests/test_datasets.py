from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mgc_helpers.core.profiles import get_profile
from mgc_helpers.core.records import Skipped
from mgc_helpers.data import datasets
from mgc_helpers.data.datasets import Dataset, DatasetError, Track, fetch_gtzan, load_dataset, prepare_dataset
from mgc_helpers.data.gtzan_lists import gtzan_artists

SR = 22050


def tone(seconds: float, *, sr: int = SR, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * freq * t)
    return np.stack([y] * channels, axis=1) if channels > 1 else y


def write(path, y, sr=SR, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), y, sr, **kw)
    return path


def make_gtzan(root, *, layout="genres_original", genres=("rock", "blues", "jazz"), n=2, seconds=1.0):
    """A tiny GTZAN-like tree; returns the folder holding the genre folders."""
    ext = ".wav" if layout != "genres" else ".au"
    base = root / layout if layout else root
    for g in genres:
        for i in range(n):
            kw = {"format": "AU", "subtype": "PCM_16"} if ext == ".au" else {}
            write(base / g / f"{g}.{i:05d}{ext}", tone(seconds, freq=200 + 50 * i), **kw)
    return base


def test_wav_copy_layout_labels_and_order(tmp_path):
    make_gtzan(tmp_path)
    ds = load_dataset(tmp_path)
    assert (ds.name, ds.layout) == ("gtzan", "genres_original")
    assert ds.genres == ("blues", "jazz", "rock")
    assert [t.track_id for t in ds.tracks] == ["blues.00000", "blues.00001", "jazz.00000", "jazz.00001",
                                               "rock.00000", "rock.00001"]
    assert ds.label_of("rock") == 2 and ds.mapping == {"blues": 0, "jazz": 1, "rock": 2}
    assert ds.audio_root == tmp_path / "genres_original" and len(ds) == 6
    assert ds.skipped == [] and ds.ignored == []
    with pytest.raises(ValueError, match="unknown genre 'pop'"):
        ds.label_of("pop")


def test_original_au_layout(tmp_path):
    make_gtzan(tmp_path, layout="genres")
    ds = load_dataset(tmp_path)
    assert ds.layout == "genres" and len(ds.tracks) == 6
    assert all(t.path.suffix == ".au" for t in ds.tracks)


@pytest.mark.parametrize("where", ["direct", "Data", "named"])
def test_other_entry_points(tmp_path, where):
    if where == "direct":
        make_gtzan(tmp_path, layout=None, genres=("blues", "rock"))
        ds = load_dataset(tmp_path)
        assert ds.audio_root == tmp_path and ds.layout == "genres_original"
    elif where == "Data":  # the Kaggle archive: Data/genres_original
        make_gtzan(tmp_path / "Data", genres=("blues", "rock"))
        (tmp_path / "Data" / "features_3_sec.csv").write_text("x\n")
        ds = load_dataset(tmp_path)
        assert ds.audio_root == tmp_path / "Data" / "genres_original"
    else:  # pointing at genres/ itself, .au files -> original layout
        base = make_gtzan(tmp_path, layout="genres", genres=("blues", "rock"))
        ds = load_dataset(base)
        assert ds.audio_root == base and ds.layout == "genres"
    assert ds.genres == ("blues", "rock") and len(ds.tracks) == 4


def test_problem_files_are_reported_not_fatal(tmp_path):
    base = make_gtzan(tmp_path, genres=("blues", "jazz"))
    (base / "jazz" / "jazz.00054.wav").write_bytes(b"RIFF\x00\x00garbage" * 50)  # like the WAV copy's broken clip
    (base / "jazz" / "jazz.00055.wav").write_bytes(b"")
    (base / "blues" / ".DS_Store").write_bytes(b"\x00")
    (base / "blues" / "._blues.00000.wav").write_bytes(b"\x00" * 10)
    (base / "blues" / "notes.txt").write_text("liner notes")
    (base / "README").write_text("stray file next to the genre folders")
    write(base / "blues" / "blues.00002.wav", tone(1.0, sr=44100, channels=2), sr=44100)  # stereo 44.1 kHz
    (base / "pop").mkdir()  # empty genre folder
    ds = load_dataset(tmp_path)
    assert ds.genres == ("blues", "jazz", "pop")  # the empty genre keeps its label
    assert [t.track_id for t in ds.tracks] == ["blues.00000", "blues.00001", "blues.00002", "jazz.00000", "jazz.00001"]
    reasons = {s.path.name: s.reason for s in ds.skipped}
    assert set(reasons) == {"jazz.00054.wav", "jazz.00055.wav", "pop"}
    assert "unreadable audio header" in reasons["jazz.00054.wav"]
    assert "empty genre folder" in reasons["pop"]
    assert sorted(p.name for p in ds.ignored) == [".DS_Store", "._blues.00000.wav", "README", "notes.txt"]
    text = ds.summary()
    assert "skipped 3 file(s)" in text and "jazz/jazz.00054.wav: unreadable audio header" in text
    assert "ignored 4 hidden or non-audio file(s)" in text


def test_duplicate_track_ids_are_skipped(tmp_path):
    base = make_gtzan(tmp_path, genres=("blues",), n=1)
    write(base / "blues" / "blues.00000.flac", tone(1.0))
    ds = load_dataset(tmp_path)
    assert len(ds.tracks) == 1 and "duplicate" in ds.skipped[0].reason


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="is empty"):
        load_dataset(tmp_path / "empty")
    (tmp_path / "odd" / "stuff").mkdir(parents=True)
    (tmp_path / "odd" / "stuff" / "a.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"unknown dataset layout.*found: stuff/.*genres_original/<genre>"):
        load_dataset(tmp_path / "odd")
    for g in ("blues", "rock"):
        (tmp_path / "silent" / "genres" / g).mkdir(parents=True)
    with pytest.raises(DatasetError, match="hold no audio files"):
        load_dataset(tmp_path / "silent")
    file = tmp_path / "file.wav"
    file.write_bytes(b"x")
    with pytest.raises(DatasetError, match="not a folder"):
        load_dataset(file)
    with pytest.raises(ValueError, match="unknown dataset name 'fma'"):
        load_dataset(tmp_path, name="fma")


def test_gtzan_artists_from_the_published_lists(tmp_path):
    artists = gtzan_artists()
    unlisted = sorted({f"{g}.{i:05d}" for g in ("blues", "jazz") for i in range(100)} - set(artists))[0]
    base = make_gtzan(tmp_path, genres=("blues", "jazz"), n=1)
    genre, number = unlisted.split(".")
    write(base / genre / f"{unlisted}.wav", tone(1.0))
    ds = load_dataset(tmp_path)
    found = {t.track_id: t.artist for t in ds.tracks}
    assert found["blues.00000"] == artists["blues.00000"] and found["blues.00000"].startswith("gtzan_a")
    assert found[unlisted] is None
    frame = ds.to_frame()
    assert list(frame.columns) == ["track_id", "genre", "label", "artist", "path"]
    assert frame["label"].tolist() == [ds.label_of(g) for g in frame["genre"]]


def make_synthetic(root, *, genres=("blues", "rock"), n=2, seconds=1.0):
    rows = []
    for g in genres:
        for i in range(n):
            rel = f"genres_original/{g}/{g}.{i:05d}.wav"
            write(root / rel, tone(seconds, freq=300 + 40 * i))
            rows.append({"track_id": f"{g}.{i:05d}", "genre": g, "artist": f"{g}_a{i % 2}", "tempo": 100,
                         "key": "C", "seed": i, "path": rel})
    pd.DataFrame(rows).to_csv(root / "metadata.csv", index=False)
    (root / "synth.json").write_text(json.dumps({"clips_per_genre": n}))
    return root


def test_synthetic_layout_reads_artists_and_reports_missing(tmp_path):
    make_synthetic(tmp_path)
    (tmp_path / "genres_original" / "rock" / "rock.00001.wav").unlink()
    ds = load_dataset(tmp_path)
    assert (ds.name, ds.layout) == ("synthetic", "synthetic")
    assert [(t.track_id, t.artist) for t in ds.tracks] == [
        ("blues.00000", "blues_a0"), ("blues.00001", "blues_a1"), ("rock.00000", "rock_a0")]
    assert [s.reason for s in ds.skipped] == ["listed in metadata.csv but the file is missing"]
    assert "skipped 1 file(s):" in ds.summary()
    with pytest.raises(DatasetError, match="synthetic dataset.*name='synthetic'"):
        load_dataset(tmp_path, name="gtzan")
    with pytest.raises(DatasetError, match="not a synthetic dataset"):
        load_dataset(make_gtzan(tmp_path / "g").parent, name="synthetic")


def test_prepare_dataset_gtzan_and_errors(tmp_path):
    make_gtzan(tmp_path / "gtzan", genres=("blues", "rock"))
    ds = prepare_dataset("gtzan", data_dir=tmp_path)
    assert ds.name == "gtzan" and len(ds.tracks) == 4 and ds.root == tmp_path / "gtzan"
    with pytest.raises(ValueError, match=r"unknown dataset 'fma'.*'synthetic', 'gtzan'"):
        prepare_dataset("fma", data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="no GTZAN copy"):
        prepare_dataset("gtzan", data_dir=tmp_path / "missing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("x")
    with pytest.raises(DatasetError, match="no usable GTZAN copy"):
        prepare_dataset("gtzan", data_dir=tmp_path / "other")


def test_prepare_dataset_synthetic(tmp_path):
    profile = get_profile("quick", clips_per_genre=1)
    ds = prepare_dataset("synthetic", data_dir=tmp_path, profile=profile, seed=3)
    assert ds.name == "synthetic" and len(ds.genres) == 10 and len(ds.tracks) == 10
    assert ds.root.name == "synthetic-1x30s-seed3" and all(t.artist for t in ds.tracks)
    again = prepare_dataset("synthetic", data_dir=tmp_path, profile=profile, seed=3)  # reused, not re-rendered
    assert [t.path.stat().st_mtime_ns for t in again.tracks] == [t.path.stat().st_mtime_ns for t in ds.tracks]


def test_fetch_gtzan_without_mirdata(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mirdata", None)
    with pytest.raises(ImportError, match=r"mgc-helpers\[gtzan\]"):
        fetch_gtzan(tmp_path)


def test_dataclasses_are_plain_values(tmp_path):
    t = Track("blues.00000", "blues", tmp_path / "a.wav")
    assert t.artist is None and t == Track("blues.00000", "blues", tmp_path / "a.wav")
    assert str(Skipped(tmp_path / "a.wav", "broken")).endswith("a.wav: broken")
    ds = Dataset("gtzan", tmp_path, "genres", ("blues",), [t])
    assert ds.skipped == [] and "1 tracks in 1 genres" in ds.summary()
    assert datasets.DATASET_NAMES == ("synthetic", "gtzan")
