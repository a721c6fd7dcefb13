"""The musicnn port: against the original TensorFlow graph's outputs, pre-processing, zero-shot CLI, cache."""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import importlib
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mgc_helpers.beyond import musicnn, musicnn_dataset, musicnn_input
from mgc_helpers.beyond.zeroshot import GENRE_TAGS, UNNAMED_GENRES, ZeroShotModel, genre_scores
from mgc_helpers.commands.cli import main
from mgc_helpers.core.config import GENRES
from mgc_helpers.predict.report import CSV_HEADER, JSON_KEYS
from mgc_helpers.signal.sounds import chord, drum_and_bass_loop, noise, pure_tone

REFERENCE = Path(__file__).parent / "data" / "musicnn_reference.npz"
TOL = 1e-5


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return json.loads(str(arrays.pop("recipes"))), arrays


def _signal(recipe):
    module = importlib.import_module(recipe["module"])
    return np.asarray(getattr(module, recipe["function"])(**recipe["kwargs"]))


# --------------------------------------------------------------------------------------------
# Weights and the original graph
# --------------------------------------------------------------------------------------------

def test_shipped_weights_match_their_provenance():
    folder = musicnn.weights_path().parent
    prov = json.loads((folder / "provenance.json").read_text())
    assert prov["wheel"]["version"] == "0.1.0" and len(prov["wheel"]["sha256"]) == 64
    assert prov["weights"]["sha256"] == musicnn.weights_sha256()
    assert "ISC" in (folder / "NOTICE").read_text() and "Pons" in (folder / "NOTICE").read_text()
    weights = musicnn.load_weights()
    assert all(w.dtype == np.float32 for w in weights.values())
    assert 2.5e6 < musicnn.weights_path().stat().st_size < 3.5e6


def test_reference_covers_the_recipes(reference):
    recipes, arrays = reference
    assert {"drum_and_bass", "pure_tone", "short_tone", "loud_noise", "rock_clip"} <= set(recipes)
    assert tuple(str(t) for t in arrays["tag_names"]) == musicnn.MSD_TAGS


@pytest.mark.parametrize("name", ["drum_and_bass", "pure_tone", "short_tone", "loud_noise", "rock_clip"])
def test_port_matches_the_original_graph(reference, name):
    """Tags and penultimate layer of every patch within 1e-5 of the original TF1 graph's (made by
    scripts/musicnn_convert.py --reference from the checkpoint's .meta)."""
    recipes, arrays = reference
    recipe = recipes[name]
    y = _signal(recipe)
    assert len(y) == int(arrays[f"{name}.n_samples"])  # the sound regenerates exactly
    out = musicnn.analyse(y, recipe["sr"])
    want_tags, want_emb = arrays[f"{name}.patch_tags"], arrays[f"{name}.patch_embeddings"]
    assert out.patch_tags.shape == want_tags.shape and out.patch_embeddings.shape == want_emb.shape
    assert np.max(np.abs(out.patch_tags - want_tags)) < TOL
    assert np.max(np.abs(out.patch_embeddings - want_emb)) < TOL
    assert np.max(np.abs(out.tags - want_tags.mean(0))) < TOL
    assert np.max(np.abs(out.embedding - want_emb.mean(0))) < TOL


def test_model_layers_are_named():
    model = musicnn.get_model()
    names = {layer.name for layer in model.layers}
    assert {"input_bn", "timbral_74_conv", "temporal_128_conv", "midend_3_conv", "pool_interleave",
            "penultimate", "tags"} <= names
    assert [tuple(o.shape) for o in model.outputs] == [(None, 50), (None, 200)]


# --------------------------------------------------------------------------------------------
# Pre-processing
# --------------------------------------------------------------------------------------------

def test_log_mel_matches_librosa_with_reflect_padding():
    import librosa

    y = drum_and_bass_loop(bars=2, sr=16000)
    S = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=256, n_mels=96, pad_mode="reflect").T
    want = np.log10(10000 * S.astype(np.float32) + 1)
    got = musicnn_input.log_mel(y, 16000)
    assert got.dtype == np.float32 and got.shape == want.shape == (1 + len(y) // 256, 96)
    assert np.max(np.abs(got - want)) < 1e-4


def test_blockwise_spectrogram_equals_the_whole_one():
    y = noise(duration=5.0, sr=16000, seed=1)
    whole = musicnn_input.log_mel(y, 16000)
    stream = musicnn_input.LogMelStream()
    parts = [stream.push(y[i: i + 777]) for i in range(0, len(y), 777)] + [stream.finish()]
    assert np.array_equal(np.concatenate(parts), whole)


def test_loud_input_does_not_overflow_float16_style():
    """The original casts the mel spectrogram to float16: 10000 * S overflows to inf for S > 6.55
    and every loud input then gets the same tags. Here: finite, and different for different sounds."""
    loud_a = chord(["C3", "E3", "G3"], duration=4.0, sr=16000, amplitude=1.0)
    loud_b = drum_and_bass_loop(bars=2, sr=16000, amplitude=1.0)
    S = musicnn_input.log_mel(loud_a, 16000)
    assert np.all(np.isfinite(S)) and S.max() > np.log10(65504.0)  # float16 could not have held it
    mel = 10 ** S.astype(np.float64) - 1
    with np.errstate(over="ignore"):
        assert np.isinf(np.float16(10000) * mel.astype(np.float16)).any()  # the original would have overflowed
    tags_a, tags_b = musicnn.tag(loud_a, 16000)[1], musicnn.tag(loud_b, 16000)[1]
    assert np.all(np.isfinite(tags_a)) and np.all(np.isfinite(tags_b))
    assert np.max(np.abs(tags_a - tags_b)) > 0.05
    louder = musicnn.tag(np.clip(4 * loud_b, -1, 1), 16000)[1]
    assert np.max(np.abs(louder - tags_b)) > 1e-3  # level changes the answer: nothing saturates


def test_float16_input_is_widened_not_computed_in():
    y = drum_and_bass_loop(bars=2, sr=16000, amplitude=0.9)
    y16 = y.astype(np.float16)
    S = musicnn_input.log_mel(y16, 16000)
    assert S.dtype == np.float32 and np.all(np.isfinite(S))
    np.testing.assert_allclose(musicnn.embed(y16, 16000), musicnn.embed(y16.astype(np.float32), 16000), atol=1e-6)


def test_short_clips_are_repeated_to_one_patch():
    y = pure_tone(330.0, duration=1.0, sr=16000)
    out = musicnn.analyse(y, 16000)
    assert out.n_patches == 1 and out.patch_tags.shape == (1, 50)
    assert any("repeated" in n for n in out.notes)
    S = musicnn_input.log_mel(y, 16000)
    P = musicnn_input.patches(S)
    assert P.shape == (1, 187, 96) and np.array_equal(P[0, : len(S)], S) and np.array_equal(P[0, len(S): 2 * len(S)], S)


@pytest.mark.parametrize("bad, match", [
    (np.zeros(0, dtype=np.float32), "empty"),
    (np.array([0.1, np.nan] * 8000, dtype=np.float32), "NaN"),
    (np.array([0.1, np.inf] * 8000, dtype=np.float32), "NaN or infinite"),
    (np.zeros((2, 16000), dtype=np.float32), "mono"),
    (np.zeros(100, dtype=np.float32), "too short"),
])
def test_bad_signals_raise_clear_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        musicnn.tag(bad, 16000)


def test_bad_sample_rate():
    with pytest.raises(ValueError, match="sample rate"):
        musicnn.tag(np.zeros(16000, dtype=np.float32), 0)


def test_shapes_and_determinism():
    y = drum_and_bass_loop(bars=5, sr=22050)  # 12 s: 4 patches
    per_patch, mean = musicnn.tag(y, 22050)
    assert per_patch.shape == (4, 50) and mean.shape == (50,)
    assert np.all((per_patch > 0) & (per_patch < 1))
    again = musicnn.tag(y, 22050, batch_size=3)  # batching does not change the answer
    np.testing.assert_allclose(again[0], per_patch, atol=1e-6)
    e1, e2 = musicnn.embed(y, 22050), musicnn.embed(y, 22050)
    assert e1.shape == (200,) and np.array_equal(e1, e2)


def test_file_analysis_in_blocks_equals_the_array(tmp_path):
    y = drum_and_bass_loop(bars=6, sr=44100)
    path = tmp_path / "loop.wav"
    sf.write(path, np.stack([y, 0.5 * y], axis=1), 44100, subtype="FLOAT")
    mono = ((y + 0.5 * y) / 2).astype(np.float32)
    from_array = musicnn.analyse(mono, 44100)
    from_file = musicnn.analyse_file(path, block_seconds=1.3)
    assert from_file.n_patches == from_array.n_patches
    np.testing.assert_allclose(from_file.patch_tags, from_array.patch_tags, atol=1e-5)
    np.testing.assert_allclose(from_file.patch_embeddings, from_array.patch_embeddings, atol=1e-4)


# --------------------------------------------------------------------------------------------
# Zero-shot genres and `mgc predict --model musicnn`
# --------------------------------------------------------------------------------------------

def test_zero_shot_mapping_is_complete_and_honest():
    assert set(GENRE_TAGS) | set(UNNAMED_GENRES) == set(GENRES)
    assert not set(GENRE_TAGS) & set(UNNAMED_GENRES)
    assert UNNAMED_GENRES == ("classical", "disco", "reggae")
    assert all(t in musicnn.MSD_TAGS for tags in GENRE_TAGS.values() for t in tags)
    lowered = {t.lower() for t in musicnn.MSD_TAGS}
    assert not {"classical", "disco", "reggae"} & lowered  # really no tag of their own
    tags = np.zeros(50)
    tags[musicnn.MSD_TAGS.index("Hip-Hop")] = 0.9
    assert dict(zip(sorted(GENRE_TAGS), genre_scores(tags)))["hiphop"] == pytest.approx(0.9)


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("songs")
    from mgc_helpers.data.synth.render import render_clip

    sf.write(folder / "rock.wav", render_clip("rock", artist="rock_a1", seed=1, duration=7.0), 22050)
    sf.write(folder / "short.flac", pure_tone(220.0, duration=1.5), 22050)
    sf.write(folder / "silent.wav", np.zeros(22050 * 4, dtype=np.float32), 22050)
    sf.write(folder / "blip.wav", pure_tone(220.0, duration=0.3), 22050)
    (folder / "fake.wav").write_bytes(b"not audio at all")
    (folder / "notes.txt").write_text("ignored")
    return folder


def test_cli_musicnn_text(songs, capsys):
    assert main(["predict", str(songs / "rock.wav"), str(songs / "short.flac"), "--model", "musicnn"]) == 0
    out = capsys.readouterr().out
    assert "Million Song Dataset" in out and "classical, disco, reggae" in out and "zero-shot" in out
    assert "rock.wav" in out and "top tags:" in out and "2 file(s) classified" in out
    assert "repeated to fill it" in out  # the 1.5-s file is padded, not refused


def test_cli_musicnn_bad_input_reasons_and_the_schema_of_every_model(songs, capsys):
    assert main(["predict", str(songs), "--model", "musicnn", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == "musicnn_zeroshot" and "classical, disco, reggae" in data["caveat"]
    reasons = {Path(s["path"]).name: s["reason"] for s in data["skipped"]}
    assert "too short" in reasons["blip.wav"]
    assert "unreadable" in reasons["fake.wav"] or "cannot decode" in reasons["fake.wav"]
    done = {Path(p["path"]).name: p for p in data["predictions"]}
    assert set(done) == {"rock.wav", "short.flac", "silent.wav"}
    assert all(tuple(p) == JSON_KEYS for p in done.values())  # the keys of the book's models too
    assert any("silent" in n for n in done["silent.wav"]["notes"])
    assert done["rock.wav"]["top"][0]["genre"] in GENRE_TAGS and len(done["rock.wav"]["tags"]) == 5
    assert [Path(p).name for p in data["ignored"]] == ["notes.txt"]


def test_cli_zero_shot_is_chapter_13s_zero_shot(songs, capsys):
    """One definition: each patch's tags mapped and normalised (ZeroShotModel), then the mean over patches."""
    assert main(["predict", str(songs / "rock.wav"), "--model", "musicnn", "--format", "json", "--top", "10"]) == 0
    top = json.loads(capsys.readouterr().out)["predictions"][0]["top"]
    model = ZeroShotModel()
    per_patch = model.predict_proba(musicnn.analyse_file(songs / "rock.wav").patch_tags)
    mean = per_patch.mean(axis=0)
    expected = dict(zip(model.genres, mean / mean.sum()))
    assert {t["genre"]: t["probability"] for t in top} == {g: round(float(q), 4) for g, q in expected.items()}
    assert all(expected[g] == 0 for g in UNNAMED_GENRES)
    # not the mean tags mapped once: that is another answer
    once = genre_scores(musicnn.analyse_file(songs / "rock.wav").tags)
    assert not np.allclose(once / once.sum(), [expected[g] for g in sorted(GENRE_TAGS)])


def test_cli_musicnn_csv_segments_and_missing(songs, tmp_path, capsys):
    out = tmp_path / "out" / "p.csv"
    code = main(["predict", str(songs / "rock.wav"), str(tmp_path / "nope.wav"), "--model", "musicnn",
                 "--format", "csv", "--segments", "-o", str(out)])
    assert code == 0
    rows = list(csv.reader(out.read_text().splitlines()))
    assert tuple(rows[0]) == CSV_HEADER
    kinds = [r[1] for r in rows[1:]]
    assert {"track", "tag", "0", "1", "thumbnail", "skipped"} <= set(kinds)
    assert any(r[1] == "1" and r[2] == "3.0" for r in rows)  # the second 3-s patch
    assert any(r[0].endswith("nope.wav") and r[1] == "skipped" and "no such file" in r[5] for r in rows)
    assert main(["predict", str(tmp_path / "nope.wav"), "--model", "musicnn"]) == 1
    assert main(["predict", str(songs / "rock.wav"), "--model", "musicnn", "--top", "0"]) == 2
    assert main(["predict", str(songs / "rock.wav"), "--model", "musicnn", "--engine", "keras"]) == 2
    assert "--engine applies to a trained .keras model" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_musicnn_in_worker_processes_streams_and_resumes(songs, tmp_path, capsys):
    """Every option works for every model: --jobs and jsonl with resume, as for the CNN."""
    one = tmp_path / "one.jsonl"
    two = tmp_path / "two.jsonl"
    files = [str(songs / "rock.wav"), str(songs / "short.flac")]
    assert main(["predict", *files, "--model", "musicnn", "--format", "jsonl", "-o", str(one), "--no-progress"]) == 0
    assert main(["predict", files[0], "--model", "musicnn", "--format", "jsonl", "-o", str(two), "--jobs", "2",
                 "--no-progress"]) == 0
    assert main(["predict", *files, "--model", "musicnn", "--format", "jsonl", "-o", str(two), "--jobs", "2",
                 "--no-progress"]) == 0
    assert "1 file(s) already in" in capsys.readouterr().err
    assert one.read_text() == two.read_text()


# --------------------------------------------------------------------------------------------
# Embeddings of a dataset, cached
# --------------------------------------------------------------------------------------------

def test_embed_dataset_cache(tmp_path):
    from mgc_helpers.data.datasets import load_dataset

    root = tmp_path / "ds"
    for g in ("jazz", "rock"):
        (root / g).mkdir(parents=True)
        for i in range(2):
            y = drum_and_bass_loop(bars=2, tempo=90.0 + 20 * i + (g == "rock") * 7, sr=22050)
            sf.write(root / g / f"{g}.{i:05d}.wav", y, 22050)
    sf.write(root / "rock" / "rock.00002.wav", np.zeros(100, dtype=np.float32), 22050)  # too short to tag
    ds = load_dataset(root)
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="has no usable tracks"):
        musicnn_dataset.embed_dataset(dataclasses.replace(ds, tracks=[]), cache_dir=cache)
    first = musicnn_dataset.embed_dataset(ds, cache_dir=cache)
    assert first.info["cache"] == "miss" and first.X.shape == (4, 200) and first.tags.shape == (4, 50)
    assert list(first.y) == [0, 0, 1, 1] and first.genres == ("jazz", "rock")
    assert any("rock.00002" in str(s.path) and "short" in s.reason for s in first.skipped)
    second = musicnn_dataset.embed_dataset(ds, cache_dir=cache)
    assert second.info["cache"] == "hit" and np.array_equal(second.X, first.X)
    assert [str(s.path) for s in second.skipped] == [str(s.path) for s in first.skipped]
    np.testing.assert_allclose(first.X[0], musicnn.embed(sf.read(ds.tracks[0].path, dtype="float32")[0], 22050),
                               atol=1e-4)
    # a changed file gives a new key: recomputed, never served stale
    key = musicnn_dataset.embedding_cache_key(ds)
    sf.write(ds.tracks[0].path, pure_tone(440.0, duration=4.0), 22050)
    ds2 = load_dataset(root)
    assert musicnn_dataset.embedding_cache_key(ds2) != key
    third = musicnn_dataset.embed_dataset(ds2, cache_dir=cache)
    assert third.info["cache"] == "miss" and not np.allclose(third.X[0], first.X[0])
    np.testing.assert_allclose(third.X[1:], first.X[1:], atol=1e-6)
    # a corrupt cache file is rebuilt with a warning
    from mgc_helpers.data.trackmap import CacheWarning

    Path(third.info["cache_file"]).write_bytes(b"garbage")
    with pytest.warns(CacheWarning):
        fourth = musicnn_dataset.embed_dataset(ds2, cache_dir=cache)
    assert fourth.info["cache"] == "rebuilt" and np.array_equal(fourth.X, third.X)
    assert hashlib.sha256(musicnn.weights_path().read_bytes()).hexdigest() == musicnn.weights_sha256()
