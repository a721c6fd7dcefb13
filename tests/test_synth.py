"""Tests of the synthetic GTZAN-shaped dataset (mgc_helpers.data.synth) and ``mgc synth``."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from scipy import signal

from mgc_helpers.commands.cli import main as mgc_main
from mgc_helpers.core.config import GENRES
from mgc_helpers.data.synth.arrangement import plan_clip
from mgc_helpers.data.synth.artists import N_ARTISTS, artist_ids, artist_palette, artists_table
from mgc_helpers.data.synth.dataset import artist_for_clip, clip_seed, generate_dataset, synthetic_dir
from mgc_helpers.data.synth.drums import drum_hit
from mgc_helpers.data.synth.effects import distortion
from mgc_helpers.data.synth.harmony import SCALES, parse_chord, progression_mode, voicing
from mgc_helpers.data.synth.instruments import INSTRUMENTS, adsr
from mgc_helpers.data.synth.oscillators import fm_tone, karplus_strong, oscillator
from mgc_helpers.data.synth.render import render_clip
from mgc_helpers.data.synth.rhythm import fit_pattern
from mgc_helpers.data.synth.styles import GENRE_STYLES, styles_table

CLIPS, SECONDS, SR = 2, 4.0, 22050


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth") / "tiny"
    meta = generate_dataset(root, clips_per_genre=CLIPS, duration=SECONDS, seed=0, n_jobs=1)
    return root, meta


def _wavs(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.wav"))


def _file_bytes(root):
    return {p: (root / p).read_bytes() for p in [*_wavs(root), "metadata.csv", "synth.json"]}


# --- layout, files and metadata ------------------------------------------------------------------

def test_layout_and_names(tiny):
    root, meta = tiny
    expected = sorted(f"genres_original/{g}/{g}.{i:05d}.wav" for g in GENRES for i in range(CLIPS))
    assert _wavs(root) == expected
    assert (root / "metadata.csv").is_file() and (root / "synth.json").is_file()
    assert synthetic_dir("data", clips_per_genre=CLIPS, seed=3, duration=SECONDS).as_posix() \
        == "data/synthetic-2x4s-seed3"


def test_wav_format(tiny):
    root, _ = tiny
    for rel in _wavs(root)[:5]:
        info = sf.info(str(root / rel))
        assert (info.samplerate, info.channels, info.subtype, info.frames) == (SR, 1, "PCM_16", SECONDS * SR)


def test_metadata_columns_and_artists(tiny):
    root, meta = tiny
    for col in ("track_id", "genre", "artist", "tempo", "key", "seed", "path"):
        assert col in meta.columns
    assert len(meta) == CLIPS * len(GENRES)
    assert list(meta["track_id"]) == sorted(meta["track_id"])
    assert all((root / p).is_file() for p in meta["path"])
    assert (meta["track_id"] + ".wav" == meta["path"].str.split("/").str[-1]).all()
    assert all(re.fullmatch(rf"{g}_a[1-{N_ARTISTS}]", a) for g, a in zip(meta["genre"], meta["artist"]))
    # one artist per clip; several artists per genre; an artist belongs to one genre only
    per_genre = meta.groupby("genre")["artist"].nunique()
    assert (per_genre >= 2).all()
    assert meta.groupby("artist")["genre"].nunique().max() == 1
    assert meta["seed"].nunique() == len(meta)
    assert meta["key"].str.fullmatch(r"[A-G][b#]? (major|minor)").all()
    for genre, tempo in zip(meta["genre"], meta["tempo"]):
        lo, hi = GENRE_STYLES[genre].tempo
        assert lo - 0.05 <= tempo <= hi + 0.05
    manifest = json.loads((root / "synth.json").read_text())
    assert manifest["complete"] and manifest["clips_per_genre"] == CLIPS and manifest["duration"] == SECONDS
    assert set(manifest["files"]) == set(meta["path"])


def test_artists_of_bigger_datasets():
    ids = [artist_for_clip("rock", i, seed=0) for i in range(60)]
    assert sorted(set(ids[:N_ARTISTS])) == sorted(artist_ids("rock"))  # every artist early on
    counts = pd.Series(ids).value_counts()
    assert len(counts) == N_ARTISTS and counts.max() > counts.min()  # uneven, as in GTZAN
    assert clip_seed(0, "rock", 1) != clip_seed(0, "pop", 1) != clip_seed(1, "pop", 1)
    assert len({a for g in GENRES for a in artist_ids(g)}) == N_ARTISTS * len(GENRES)


def test_clips_are_music_not_silence_or_clipping(tiny):
    root, _ = tiny
    for rel in _wavs(root):
        pcm, _ = sf.read(str(root / rel), dtype="int16")
        y = pcm / 32768.0
        assert np.all(np.isfinite(y))
        assert 0.85 < np.abs(y).max() < 0.9, rel  # peak at -1 dBFS
        assert np.abs(pcm).max() < 32767
        assert np.sqrt(np.mean(y**2)) > 0.02, rel
        # sound all the way through: no 1-s window is silent
        frames = y[: len(y) // SR * SR].reshape(-1, SR)
        assert (np.sqrt(np.mean(frames**2, axis=1)) > 1e-3).all(), rel


# --- determinism and reuse ----------------------------------------------------------------------

def test_byte_identical_across_runs_and_jobs(tiny, tmp_path):
    root, meta = tiny
    other = tmp_path / "again"
    meta2 = generate_dataset(other, clips_per_genre=CLIPS, duration=SECONDS, seed=0, n_jobs=2)
    assert _file_bytes(root) == _file_bytes(other)
    pd.testing.assert_frame_equal(meta, meta2)
    third = generate_dataset(tmp_path / "seed1", clips_per_genre=1, duration=SECONDS, seed=1, n_jobs=1)
    assert (tmp_path / "seed1" / third["path"][0]).read_bytes() != (root / meta["path"][0]).read_bytes()


def test_render_clip_matches_the_written_file(tiny):
    root, meta = tiny
    row = meta.iloc[3]
    y = render_clip(row["genre"], artist=row["artist"], seed=int(row["seed"]), duration=SECONDS)
    pcm, _ = sf.read(str(root / row["path"]), dtype="int16")
    assert np.array_equal(np.round(y * 32767).astype(np.int16), pcm)


def test_reuse_and_rerender(tmp_path):
    root = tmp_path / "d"
    kw = dict(clips_per_genre=1, duration=1.0, seed=0, n_jobs=1)
    first = generate_dataset(root, **kw)
    assert first.attrs["synth"]["written"] == 10
    mtimes = {p: (root / p).stat().st_mtime_ns for p in _wavs(root)}
    again = generate_dataset(root, **kw)
    assert again.attrs["synth"] == {**again.attrs["synth"], "written": 0, "reused": 10}
    assert mtimes == {p: (root / p).stat().st_mtime_ns for p in _wavs(root)}
    # a missing or truncated file is rendered again, the others are kept
    before = _file_bytes(root)
    (root / first["path"][4]).unlink()
    (root / first["path"][5]).write_bytes(b"RIFF")
    repaired = generate_dataset(root, **kw)
    assert repaired.attrs["synth"]["written"] == 2 and repaired.attrs["synth"]["reused"] == 8
    assert _file_bytes(root) == before
    pd.testing.assert_frame_equal(first, repaired)
    # an interrupted run (manifest not complete) is completed, reusing finished files
    manifest = json.loads((root / "synth.json").read_text())
    (root / "synth.json").write_text(json.dumps({**manifest, "complete": False}))
    (root / first["path"][0]).unlink()
    resumed = generate_dataset(root, **kw)
    assert resumed.attrs["synth"]["written"] == 1
    # other parameters: everything re-rendered and stale clips removed
    changed = generate_dataset(root, clips_per_genre=1, duration=1.5, seed=0, n_jobs=1)
    assert changed.attrs["synth"]["written"] == 10
    assert sf.info(str(root / changed["path"][0])).frames == int(1.5 * SR)
    generate_dataset(root, clips_per_genre=2, duration=1.0, seed=0, n_jobs=1)
    generate_dataset(root, clips_per_genre=1, duration=1.0, seed=0, n_jobs=1)
    assert len(_wavs(root)) == 10


# --- musical content ----------------------------------------------------------------------------

def _features(y):
    import librosa

    S = np.abs(librosa.stft(y, n_fft=1024))
    f = librosa.fft_frequencies(sr=SR, n_fft=1024)
    high = (S[f > 4000] ** 2).sum() / (S**2).sum()
    H, P = librosa.decompose.hpss(S)
    percussive = (P**2).sum() / ((H**2).sum() + (P**2).sum())
    return high, percussive


def test_genres_differ_measurably():
    feats = {g: np.mean([_features(render_clip(g, artist=a, seed=i, duration=6.0))
                         for i, a in enumerate(artist_ids(g)[:3])], axis=0)
             for g in ("classical", "metal")}
    assert feats["classical"][0] < 0.5 * feats["metal"][0]  # far less high-frequency energy
    assert feats["classical"][1] < 0.5 * feats["metal"][1]  # and far less percussive energy
    plan = plan_clip("classical", artist="classical_a1", seed=5, duration=10)
    assert not plan.hits and plan.instruments["pad"] in GENRE_STYLES["classical"].pad.instruments
    metal = plan_clip("metal", artist="metal_a1", seed=5, duration=10)
    assert len(metal.hits) > 40


def test_other_sample_rates():
    for sr in (8000, 44100):
        y = render_clip("country", artist="country_a2", seed=4, duration=1.0, sr=sr)
        assert y.shape == (sr,) and y.dtype == np.float32 and np.isfinite(y).all()
        assert np.abs(y).max() == pytest.approx(10 ** (-1 / 20), abs=1e-3)
    with pytest.raises(ValueError, match="sr must be an integer"):
        render_clip("country", artist="country_a2", seed=4, duration=1.0, sr=100)


def test_plan_describes_the_clip():
    plan = plan_clip("jazz", artist="jazz_a2", seed=11, duration=8.0)
    info = plan.info()
    assert info["key"] == plan.key_name and info["meter"] == "4/4"
    assert GENRE_STYLES["jazz"].tempo[0] <= plan.tempo <= GENRE_STYLES["jazz"].tempo[1]
    assert plan.notes["bass"] and all(20 < n[2] < 60 for n in plan.notes["bass"])
    assert plan_clip("jazz", artist="jazz_a2", seed=11, duration=8.0).info() == info


# --- style data and building blocks -------------------------------------------------------------

def test_style_data_is_consistent():
    assert tuple(sorted(GENRE_STYLES)) == GENRES
    for genre, style in GENRE_STYLES.items():
        assert style.tempo[0] < style.tempo[1]
        for groove in style.grooves:
            for voice, pattern in groove.items():
                assert set(pattern) <= set("Xxo."), (genre, voice)
                assert len(pattern) in (style.steps_per_beat * m for m in style.meters)
                drum_hit(voice, sr=SR)  # a known voice
        for name in ("bass", "chords", "pad", "arp", "lead"):
            part = getattr(style, name)
            if part is not None:
                assert set(part.instruments) <= set(INSTRUMENTS), (genre, name)
        for progression in style.progressions:
            [parse_chord(c) for bar in progression.split() for c in bar.split(",")]
        assert {style.scales["major"], style.scales["minor"]} <= set(SCALES)
    assert not GENRE_STYLES["classical"].grooves
    assert GENRE_STYLES["metal"].grooves[0]["kick"] == "x" * 16  # double kick
    assert GENRE_STYLES["disco"].grooves[0]["kick"] == "x...x...x...x..."  # four on the floor


def test_tables():
    table = styles_table()
    assert list(table.index) == list(GENRES)
    assert {"tempo", "meter", "drums", "bass", "harmony", "instruments"} <= set(table.columns)
    artists = artists_table()
    assert len(artists) == N_ARTISTS * len(GENRES) and artists.index.is_unique
    palette = artist_palette("reggae_a4")
    lo, hi = GENRE_STYLES["reggae"].tempo
    assert lo <= palette.tempo[0] < palette.tempo[1] <= hi


def test_harmony_helpers():
    assert parse_chord("I") == (0, (0, 4, 7))
    assert parse_chord("vi") == (9, (0, 3, 7))
    assert parse_chord("V7") == (7, (0, 4, 7, 10))
    assert parse_chord("bVII") == (10, (0, 4, 7))
    assert parse_chord("Imaj7") == (0, (0, 4, 7, 11))
    with pytest.raises(ValueError, match="cannot read chord 'H7'"):
        parse_chord("H7")
    assert progression_mode("i bVI bVII") == "minor" and progression_mode("I V vi IV") == "major"
    assert voicing((0, 7, 12), "triad") == (0, 7, 12)
    assert voicing((0, 4, 7, 10), "shell") == (0, 4, 10)
    assert fit_pattern("x..x..x..x..", 16) == "x...x...x...x..."


def test_synthesis_primitives():
    rng = np.random.default_rng(0)
    env = adsr(2205, sr=SR, attack=0.01, decay=0.01, sustain=0.5, release=0.1)
    assert len(env) == 2205 + 2205 and env.max() <= 1.0 and env[-1] == 0.0
    assert env[220] == pytest.approx(1.0, abs=0.01) and env[2204] == pytest.approx(0.5, abs=0.01)
    for f0 in (110.0, 440.0, 1000.0):
        y = karplus_strong(f0, SR, sr=SR, t60=2.0, brightness=0.3, pick=0.0, rng=rng)
        spectrum = np.abs(np.fft.rfft(y))  # 1-Hz bins
        lo, hi = int(0.8 * f0), int(1.2 * f0)
        assert lo + np.argmax(spectrum[lo:hi]) == pytest.approx(f0, abs=1.5)  # in tune
        top = np.argmax(spectrum)
        assert top / f0 == pytest.approx(round(top / f0), abs=0.02)  # harmonic partials
        assert np.abs(y[-2000:]).max() < np.abs(y[:2000]).max()  # decays
    fm = fm_tone(200.0, SR, sr=SR, ratio=1.0, index=2.0, index_decay=10.0, index_floor=1.0)
    peaks = np.abs(np.fft.rfft(fm))
    assert peaks[200] > 0.1 * peaks.max() and peaks[400] > 0.1 * peaks.max()  # FM sidebands
    saw = oscillator("saw", 441.0, SR, sr=SR)
    spec = np.abs(np.fft.rfft(saw))
    assert spec[882] == pytest.approx(spec[441] / 2, rel=0.05)  # 1/k harmonics
    assert spec[int(0.48 * SR)] < 1e-3 * spec[441]  # band-limited
    sine = 0.1 * np.sin(2 * np.pi * 200 * np.arange(SR) / SR)
    clean, dirty = np.abs(np.fft.rfft(distortion(sine, 0.0, sr=SR))), \
        np.abs(np.fft.rfft(distortion(sine, 1.0, sr=SR)))
    assert clean[600] < 1e-6 * clean[200] and dirty[600] > 0.1 * dirty[200]  # odd harmonics
    assert 0.08 < distortion(sine, 1.0, sr=SR).max() < 0.13  # level kept


def test_ks_matches_the_recursion():
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    f0, n = 587.3, 9000
    y = karplus_strong(f0, n, sr=SR, t60=1.0, brightness=0.5, pick=0.0, rng=rng_a)
    period = SR / f0
    N = int(period - 0.5)
    a = period - 0.5 - N
    burst = signal.lfilter([0.5], [1.0, -0.5], rng_b.uniform(-1, 1, N))
    burst -= burst.mean()
    g = 10 ** (-3 / f0)
    den = np.zeros(N + 3)
    den[0] = 1.0
    den[N:] = -g * np.array([(1 - a) / 2, 0.5, a / 2])
    x = np.zeros(n)
    x[:N] = burst
    ref = signal.lfilter([1.0], den, x)
    np.testing.assert_allclose(y, ref / np.abs(ref).max(), atol=1e-9)


# --- errors and the command line ----------------------------------------------------------------

def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown genre 'polka'"):
        render_clip("polka", artist="rock_a1", seed=0)
    with pytest.raises(ValueError, match="does not belong to genre 'pop'"):
        render_clip("pop", artist="rock_a1", seed=0)
    with pytest.raises(ValueError, match="unknown artist 'rock_a9'"):
        render_clip("rock", artist="rock_a9", seed=0)
    with pytest.raises(ValueError, match="duration must be positive"):
        render_clip("rock", artist="rock_a1", seed=0, duration=0)
    for kwargs, message in [({"clips_per_genre": 0}, "clips_per_genre"),
                            ({"clips_per_genre": 1.5}, "clips_per_genre"),
                            ({"clips_per_genre": True}, "clips_per_genre"),
                            ({"duration": float("nan")}, "duration"), ({"duration": -1}, "duration"),
                            ({"seed": -1}, "seed"), ({"n_jobs": 0}, "n_jobs")]:
        with pytest.raises(ValueError, match=message):
            generate_dataset(tmp_path / "x", **{"clips_per_genre": 1, "duration": 1.0, **kwargs})
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError, match="cannot create dataset folder"):
        generate_dataset(blocker / "sub", clips_per_genre=1, duration=1.0, n_jobs=1)
    # never overwrite someone's audio (a GTZAN copy has the very same file names)
    gtzan = tmp_path / "gtzan" / "genres_original" / "blues"
    gtzan.mkdir(parents=True)
    (gtzan / "blues.00000.wav").write_bytes(b"precious")
    with pytest.raises(OSError, match="already holds audio not written by mgc_helpers.data.synth"):
        generate_dataset(tmp_path / "gtzan", clips_per_genre=1, duration=1.0, n_jobs=1)
    assert (gtzan / "blues.00000.wav").read_bytes() == b"precious"


def test_cli(tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["synth", str(out), "--clips-per-genre", "1", "--duration", "0.5", "--jobs", "1", "--no-progress"]
    assert mgc_main(argv) == 0
    text = capsys.readouterr().out
    assert "10 clips" in text and "written 10, reused 0" in text and "real-time factor" in text
    assert mgc_main(argv) == 0
    assert "written 0, reused 10" in capsys.readouterr().out
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert mgc_main(["synth", str(blocker)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert mgc_main(["synth", str(blocker / "sub"), "--duration", "0.5"]) == 2
    assert "cannot create dataset folder" in capsys.readouterr().err
    for bad in (["--clips-per-genre", "0"], ["--clips-per-genre", "many"], ["--duration", "-2"],
                ["--seed", "-1"], ["--jobs", "0"]):
        with pytest.raises(SystemExit) as exc:
            mgc_main(["synth", str(out), *bad])
        assert exc.value.code == 2
        assert "mgc synth: error: argument" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        mgc_main(["synth", "--help"])
    assert exc.value.code == 0 and "GTZAN" in capsys.readouterr().out
