"""`mgc similar` end to end: a tiny CNN, a folder of sounds made here, the cache, errors and edge cases."""
from __future__ import annotations

import json
import time

import pytest
import soundfile as sf
from _tiny_model import SR, bright_noise, low_tone, train_tiny_model

from mgc_helpers.commands.cli import main


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return train_tiny_model("cnn", tmp_path_factory.mktemp("results"))


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("MGC_CACHE_DIR", str(folder))
    return folder


@pytest.fixture()
def library(tmp_path):
    """Three tones and three noises of 3.5 s (long enough for the paper's 3-s segments too)."""
    music = tmp_path / "music"
    (music / "sub").mkdir(parents=True)
    for i in range(3):
        sf.write(music / f"tone{i}.wav", low_tone(3.5, seed=10 + i), SR)
        sf.write(music / "sub" / f"noise{i}.flac", bright_noise(3.5, seed=10 + i), SR)
    (music / "cover.jpg").write_bytes(b"not audio")
    return music


def _run(capsys, *argv):
    code = main(["similar", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("embedding", ["cnn", "mfcc"])
def test_similar_tracks_and_the_cache(tmp_path, capsys, cache, library, model_path, embedding):
    query = tmp_path / "query.wav"
    sf.write(query, low_tone(3.5, seed=99), SR)
    args = [query, "--library", library, "--k", 3, "--embedding", embedding, "--model", model_path, "--format", "json"]
    code, out, err = _run(capsys, *args)
    assert code == 0, err
    data = json.loads(out)
    assert data["embedding"] == embedding and [h["rank"] for h in data["hits"]] == [1, 2, 3]
    assert all(h["path"].endswith(".wav") and "tone" in h["path"] for h in data["hits"]), data["hits"]
    sims = [h["similarity"] for h in data["hits"]]
    assert sims == sorted(sims, reverse=True) and sims[0] <= 1.0 + 1e-6
    assert "cache miss" in err and "6 embedded" in err
    # the cache lives in MGC_CACHE_DIR, never in the music folder
    assert list((cache / "similar").glob(f"{embedding}-*.npz"))
    assert not any(p.suffix == ".npz" for p in library.rglob("*"))
    # a second query reuses every library embedding
    start = time.perf_counter()
    code, out2, err = _run(capsys, *args)
    assert code == 0 and "cache hit: 6 reused, 0 embedded" in err
    assert json.loads(out2)["hits"] == data["hits"]
    print(f"second {embedding} query: {time.perf_counter() - start:.3f} s in all; {err.strip()}")


def test_query_in_library_and_k_beyond_the_library(capsys, cache, library, model_path):
    code, out, err = _run(capsys, library / "tone0.wav", "--library", library, "--k", 50, "--model", model_path)
    assert code == 0, err
    lines = [line for line in out.splitlines() if line[:4].strip().rstrip(".").isdigit()]
    assert len(lines) == 5 and not any("tone0.wav" in line for line in lines)
    assert "left out of its own results" in out and "showing all of them" in out


def test_errors_are_clear(tmp_path, capsys, cache, library, model_path, monkeypatch):
    good = library / "tone1.wav"
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no music here")
    code, _, err = _run(capsys, good, "--library", empty, "--embedding", "mfcc")
    assert code == 2 and "holds no audio file" in err
    code, _, err = _run(capsys, good, "--library", tmp_path / "nowhere", "--embedding", "mfcc")
    assert code == 2 and "no such folder" in err
    code, _, err = _run(capsys, tmp_path / "missing.wav", "--library", library, "--embedding", "mfcc")
    assert code == 2 and "missing.wav" in err and "no such file" in err
    short = tmp_path / "short.wav"
    sf.write(short, low_tone(0.5), SR)
    code, _, err = _run(capsys, short, "--library", library, "--embedding", "mfcc")
    assert code == 2 and "short.wav" in err and "too short (0.50 s)" in err and "3-s segment" in err
    fake = tmp_path / "fake.mp3"
    fake.write_bytes(b"ID3 not really an mp3" * 50)
    code, _, err = _run(capsys, fake, "--library", library, "--embedding", "mfcc")
    assert code == 2 and "fake.mp3" in err and "cannot decode" in err
    code, _, err = _run(capsys, tmp_path, "--library", library, "--embedding", "mfcc")
    assert code == 2 and "is a folder" in err
    code, _, err = _run(capsys, good, "--library", library, "--k", 0, "--embedding", "mfcc")
    assert code == 2 and "--k" in err
    # only unusable files in the library
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.wav").write_bytes(b"")
    code, _, err = _run(capsys, good, "--library", bad, "--embedding", "mfcc")
    assert code == 2 and "no usable audio file" in err and "x.wav" in err
    # no model anywhere: say so, and point at the model-free embedding
    monkeypatch.setenv("MGC_RESULTS_DIR", str(tmp_path / "results" / "default"))
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, good, "--library", library)
    assert code == 2 and "--embedding mfcc" in err
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    code, _, err = _run(capsys, good, "--library", library, "--model", broken)
    assert code == 2 and "cannot load model" in err


def test_skipped_library_files_are_listed(capsys, cache, library):
    (library / "broken.wav").write_bytes(b"RIFF nonsense")
    code, out, err = _run(capsys, library / "tone0.wav", "--library", library, "--embedding", "mfcc", "--k", 2)
    assert code == 0, err
    assert "skipped" in out and "broken.wav" in out and "1 skipped" in err


def test_a_cached_library_answers_a_query_from_it_without_loading_the_model(tmp_path, library, model_path):
    from mgc_helpers.beyond.embedders import ModelLoadError, SavedModelEmbedder
    from mgc_helpers.beyond.library import build_library, find_similar

    first = SavedModelEmbedder(model_path)
    build_library(library, first, cache_dir=tmp_path / "cache")
    assert first.loaded and first.dim == 64
    lazy = SavedModelEmbedder(model_path)
    lib = build_library(library, lazy, cache_dir=tmp_path / "cache")
    result = find_similar(library / "tone0.wav", lib, lazy, k=2)
    assert lib.info["cache"] == "hit" and len(result.hits) == 2 and not lazy.loaded
    # a damaged archive is reported when the model is needed
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"PK\x03\x04 truncated zip")
    (tmp_path / "bad.json").write_text(model_path.with_suffix(".json").read_text())
    broken = SavedModelEmbedder(bad)
    with pytest.raises(ModelLoadError, match="cannot load model"):
        broken.embed_file(library / "tone0.wav")


def test_musicnn_embedding_needs_no_model_and_is_cached(tmp_path, capsys, cache, library):
    query = tmp_path / "query.wav"
    sf.write(query, low_tone(3.5, seed=99), SR)
    args = [query, "--library", library, "--k", 10, "--embedding", "musicnn", "--format", "json"]
    code, out, err = _run(capsys, *args)
    assert code == 0, err
    data = json.loads(out)
    assert data["embedding"] == "musicnn" and len(data["hits"]) == 6  # k beyond the library: all of it
    assert any("showing all of them" in n for n in data["notes"])
    assert "cache miss" in err and "6 embedded" in err and list((cache / "similar").glob("musicnn-*.npz"))
    assert all("tone" in h["path"] for h in data["hits"][:3]), data["hits"]  # the tones first
    code, out2, err = _run(capsys, *args)
    assert code == 0 and "cache hit: 6 reused, 0 embedded" in err and json.loads(out2)["hits"] == data["hits"]
    # a query shorter than a 3-s patch is repeated to fill it (as `mgc predict --model musicnn` does), with a note
    short = tmp_path / "short.wav"
    sf.write(short, low_tone(0.5, seed=98), SR)
    code, out, err = _run(capsys, short, "--library", library, "--embedding", "musicnn", "--k", 2)
    assert code == 0, err
    assert "note: shorter than one 3-s patch" in out
    # an unreadable query: the errors of `mgc predict`
    fake = tmp_path / "fake.mp3"
    fake.write_bytes(b"ID3 not really an mp3" * 50)
    code, _, err = _run(capsys, fake, "--library", library, "--embedding", "musicnn")
    assert code == 2 and "fake.mp3" in err and "cannot decode" in err
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    code, _, err = _run(capsys, empty, "--library", library, "--embedding", "musicnn")
    assert code == 2 and "empty.wav" in err and "empty file" in err
