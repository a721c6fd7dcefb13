"""Transfer learning (mgc_helpers.beyond.transfer): the probe, the zero-shot model, the grid, probe files, mgc predict."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mgc_helpers.beyond import musicnn, musicnn_dataset, transfer
from mgc_helpers.beyond.zeroshot import UNNAMED_GENRES, ZeroShotModel
from mgc_helpers.commands.cli import main
from mgc_helpers.core.config import GENRES, PAPER_CONFIG
from mgc_helpers.data.segments import SegmentSet
from mgc_helpers.models import experiments

SR = 16000


def fake_segments(*, tracks_per_genre: int = 4, n_segments: int = 3, seed: int = 0,
                  genres: tuple[str, ...] = GENRES) -> tuple[SegmentSet, musicnn_dataset.DatasetEmbeddings]:
    """MFCC-shaped segments and matching musicnn embeddings: one Gaussian cluster per genre."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (len(genres), musicnn.EMBEDDING_SIZE))
    tracks, y, seg, group, px, pt, ptrack, pindex, X, T = [], [], [], [], [], [], [], [], [], []
    for g, genre in enumerate(genres):
        for k in range(tracks_per_genre):
            row = len(X)
            tid = f"{genre}.{k:05d}"
            patches = centres[g] + 0.8 * rng.normal(0, 1, (n_segments, musicnn.EMBEDDING_SIZE))
            tags = rng.random((n_segments, len(musicnn.MSD_TAGS))) * 0.1
            X.append(patches.mean(0))
            T.append(tags.mean(0))
            for s in range(n_segments):
                tracks.append(tid)
                y.append(g)
                seg.append(s)
                group.append(f"{genre}-artist{k}")
                px.append(patches[s])
                pt.append(tags[s])
                ptrack.append(row)
                pindex.append(s)
    n = len(y)
    segments = SegmentSet(np.zeros((n, 2, 13), np.float32), np.array(y), np.array(tracks), np.array(group),
                          np.array(seg), genres, PAPER_CONFIG, dataset="synthetic")
    names = np.array(sorted(set(tracks)))
    emb = musicnn_dataset.DatasetEmbeddings(np.array(X, np.float32), np.array(T, np.float32),
                                          np.repeat(np.arange(len(genres)), tracks_per_genre), names,
                                          np.array([f"a{i}" for i in range(len(names))]), genres,
                                          patch_X=np.array(px, np.float32), patch_tags=np.array(pt, np.float32),
                                          patch_track=np.array(ptrack), patch_index=np.array(pindex))
    return segments, emb


def test_segments_take_the_patch_of_the_same_three_seconds():
    segments, emb = fake_segments(tracks_per_genre=2, n_segments=3)
    values, substituted = transfer.segment_embeddings(segments, emb)
    assert values.shape == (len(segments.y), 200) and substituted == 0
    assert np.array_equal(values, emb.patch_X)  # same order here: track by track, segment by segment
    # a track with one patch fewer than its segments: its last segment takes the last patch, counted
    keep = ~((emb.patch_track == 0) & (emb.patch_index == 2))
    short = musicnn_dataset.DatasetEmbeddings(emb.X, emb.tags, emb.y, emb.track, emb.group, emb.genres,
                                            patch_X=emb.patch_X[keep], patch_tags=emb.patch_tags[keep],
                                            patch_track=emb.patch_track[keep], patch_index=emb.patch_index[keep])
    values, substituted = transfer.segment_embeddings(segments, short)
    assert substituted == 1 and np.array_equal(values[2], emb.patch_X[1])
    tags = transfer.embedded_segments(segments, emb, what="tags")
    assert tags.X.shape == (len(segments.y), 1, 50) and tags.genres == segments.genres
    # a track with segments but no embedding is named
    missing = musicnn_dataset.DatasetEmbeddings(emb.X[1:], emb.tags[1:], emb.y[1:], emb.track[1:], emb.group[1:], emb.genres,
                                              patch_X=emb.patch_X[3:], patch_tags=emb.patch_tags[3:],
                                              patch_track=emb.patch_track[3:] - 1, patch_index=emb.patch_index[3:])
    with pytest.raises(ValueError, match=r"blues\.00000"):
        transfer.segment_embeddings(segments, missing)


def test_probe_is_deterministic_shaped_and_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    segments, emb = fake_segments()
    data = transfer.embedded_segments(segments, emb)
    train = np.arange(0, len(data.y), 2)
    a = transfer.train_probe(data, train, seed=0)
    b = transfer.train_probe(data, train, seed=0)
    assert np.array_equal(a.coef, b.coef) and np.array_equal(a.intercept, b.intercept)
    assert a.coef.shape == (10, 200) and a.mean.shape == (200,) and a.genres == GENRES
    p = a.predict_proba(data.X)
    assert p.shape == (len(data.y), 10) and np.allclose(p.sum(axis=1), 1)
    assert np.array_equal(a.predict_proba(data.X[:, 0, :]), p)  # (n, 200) or (n, 1, 200)
    ref = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=0))
    X64 = data.X[:, 0, :].astype(np.float64)  # the probe computes in float64
    ref.fit(X64[train], data.y[train])
    assert np.allclose(p, ref.predict_proba(X64), atol=1e-9)
    assert np.mean(a.predict(data.X) == data.y) > 0.9  # well-separated clusters
    assert a.meta["kind"] == transfer.PROBE_KIND and a.meta["n_train"] == len(train)
    with pytest.raises(ValueError, match="single genre"):
        transfer.train_probe(data, np.flatnonzero(data.y == 0))
    with pytest.raises(ValueError, match="200 values"):
        a.predict_proba(np.zeros((2, 13)))


def test_probe_with_genres_missing_from_training_gives_them_zero():
    segments, emb = fake_segments()
    data = transfer.embedded_segments(segments, emb)
    train = np.flatnonzero(np.isin(data.y, [1, 4]))  # two genres: scikit-learn's binary form
    probe = transfer.train_probe(data, train)
    p = probe.predict_proba(data.X)
    assert probe.coef.shape == (1, 200) and np.allclose(p.sum(axis=1), 1)
    assert np.all(p[:, [0, 2, 3, 5, 6, 7, 8, 9]] == 0)
    assert np.mean(p[data.y == 4].argmax(1) == 4) > 0.9


def test_zero_shot_table():
    zs = ZeroShotModel(GENRES)
    tags = np.zeros((3, 50))
    tags[0, musicnn.MSD_TAGS.index("heavy metal")] = 0.9
    tags[0, musicnn.MSD_TAGS.index("rock")] = 0.3
    tags[1, musicnn.MSD_TAGS.index("Hip-Hop")] = 0.5
    p = zs.predict_proba(tags)
    assert p.shape == (3, 10) and np.allclose(p.sum(axis=1), 1)
    assert GENRES[p[0].argmax()] == "metal" and p[0, GENRES.index("rock")] == pytest.approx(0.25)
    assert GENRES[p[1].argmax()] == "hiphop"
    assert np.allclose(p[2][p[2] > 0], 1 / 7) and (p[2] > 0).sum() == 7  # no tag at all: uniform, not NaN
    for g in UNNAMED_GENRES:  # classical, disco, reggae: never named
        assert np.all(p[:, GENRES.index(g)] == 0)


def test_protocol_grid_rows_fit_the_deep_models_and_resume(tmp_path):
    segments, emb = fake_segments(tracks_per_genre=8, n_segments=3)
    out = tmp_path / "transfer.csv"
    grid = transfer.run_transfer_protocols(segments, emb, protocols=("segment", "track"), seeds=(0, 1), out=out)
    assert len(grid) == 8 and set(grid["model"]) == set(transfer.MODEL_NAMES)
    assert set(experiments.GRID_KEYS) <= set(grid.columns) and set(experiments.GRID_METRICS) <= set(grid.columns)
    probe = grid[grid["model"] == "musicnn_probe"]
    zero = grid[grid["model"] == "musicnn_zeroshot"]
    assert (probe["accuracy"] > 0.8).all()
    assert (zero["accuracy"] < 0.5).all()  # random tags: not the genres
    again = transfer.run_transfer_protocols(segments, emb, protocols=("segment", "track"), seeds=(0, 1), out=out)
    pd.testing.assert_frame_equal(grid[list(experiments.GRID_METRICS)], again[list(experiments.GRID_METRICS)])
    assert len(pd.read_csv(out)) == 8
    summary = experiments.summarize_protocols(grid)
    assert summary.loc[("musicnn_probe", "track"), "n_seeds"] == 2


def test_probe_file_round_trip_and_errors(tmp_path):
    segments, emb = fake_segments()
    data = transfer.embedded_segments(segments, emb)
    probe = transfer.train_probe(data, seed=3)
    path = transfer.save_probe(probe, tmp_path / "probe.npz", accuracy={"track": 0.5})
    back = transfer.load_probe(path)
    assert back.genres == probe.genres and np.array_equal(back.coef, probe.coef)
    assert np.array_equal(back.predict_proba(data.X), probe.predict_proba(data.X))
    assert back.meta["accuracy"] == {"track": 0.5} and back.meta["musicnn_weights_sha256"] == musicnn.weights_sha256()
    with np.load(path, allow_pickle=False) as f:  # no pickle inside
        assert set(f.files) == {"mean", "scale", "coef", "intercept", "classes", "genres", "meta"}
    with pytest.raises(ValueError, match=r"\.npz"):
        transfer.save_probe(probe, tmp_path / "probe.joblib")
    with pytest.raises(FileNotFoundError, match="no such probe"):
        transfer.load_probe(tmp_path / "absent.npz")
    bad = tmp_path / "damaged.npz"
    bad.write_bytes(path.read_bytes()[:200])
    with pytest.raises(transfer.ProbeFileError, match="not a readable"):
        transfer.load_probe(bad)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(transfer.ProbeFileError, match="no probe metadata"):
        transfer.load_probe(other)

    def rewrite(name, **changes):
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        meta = json.loads(str(arrays["meta"]))
        for k, v in changes.items():
            if k in meta:
                meta[k] = v
            else:
                arrays[k] = v
        arrays["meta"] = np.array(json.dumps(meta))
        np.savez(tmp_path / name, **arrays)
        return tmp_path / name

    with pytest.raises(transfer.ProbeFileError, match="kind"):
        transfer.load_probe(rewrite("kind.npz", kind="something-else"))
    with pytest.raises(transfer.ProbeFileError, match="weights"):
        transfer.load_probe(rewrite("sha.npz", musicnn_weights_sha256="0" * 64))
    with pytest.raises(transfer.ProbeFileError, match="newer"):
        transfer.load_probe(rewrite("format.npz", format=99))
    with pytest.raises(transfer.ProbeFileError, match="inconsistent"):
        transfer.load_probe(rewrite("shape.npz", coef=np.zeros((10, 13))))


def _tone(seconds, f, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return (0.4 * np.sin(2 * np.pi * f * t) + 0.2 * np.sin(2 * np.pi * 2 * f * t)).astype(np.float32)


def _noise(seconds, seed, sr=SR):
    rng = np.random.default_rng(seed)
    return (0.3 * np.diff(rng.normal(size=int(seconds * sr) + 1))).astype(np.float32)


@pytest.fixture(scope="module")
def real_probe(tmp_path_factory):
    """A probe trained on real musicnn embeddings of tones ("classical") and noise ("metal")."""
    rows, labels = [], []
    for k in range(3):
        for label, y in ((0, _tone(6.0, 180.0 + 40 * k)), (1, _noise(6.0, k))):
            out = musicnn.analyse(y, SR)
            rows.append(out.patch_embeddings)
            labels += [label] * out.n_patches
    X = np.concatenate(rows)
    n = len(X)
    data = SegmentSet(np.zeros((n, 2, 13), np.float32), np.array(labels), np.array([f"t{i}" for i in range(n)]),
                      np.array([f"t{i}" for i in range(n)]), np.zeros(n, int), ("classical", "metal"), PAPER_CONFIG)
    from dataclasses import replace

    probe = transfer.train_probe(replace(data, X=X[:, None, :]), dataset="test sounds")
    return transfer.save_probe(probe, tmp_path_factory.mktemp("models") / "musicnn_probe.npz")


def test_mgc_predict_accepts_a_probe(tmp_path, real_probe, capsys):
    sf.write(tmp_path / "tone.wav", np.stack([_tone(7.0, 210.0, 44100)] * 2, axis=1), 44100)
    sf.write(tmp_path / "noise.flac", _noise(4.0, 9, 22050), 22050)
    (tmp_path / "broken.wav").write_bytes(b"RIFF....WAVE" + bytes(30))
    assert main(["predict", "--model", str(real_probe), "--format", "json", "--segments", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["model"] == "musicnn_probe" and "linear probe" in report["trained_on"]
    genres = {p["path"].rsplit("/", 1)[1]: p for p in report["predictions"]}
    assert genres["tone.wav"]["top"][0]["genre"] == "classical"
    assert genres["noise.flac"]["top"][0]["genre"] == "metal"
    assert genres["tone.wav"]["n_segments"] == 2 and len(genres["tone.wav"]["segments"]) == 2
    assert sum(t["probability"] for t in genres["tone.wav"]["top"]) == pytest.approx(1.0, abs=1e-3)
    assert [s["path"].rsplit("/", 1)[1] for s in report["skipped"]] == ["broken.wav"]
    assert "linear probe" in captured.err


def test_mgc_predict_refuses_a_wrong_or_damaged_probe(tmp_path, real_probe, capsys):
    sf.write(tmp_path / "a.wav", _tone(2.0, 200.0), SR)
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(real_probe.read_bytes()[:100])
    not_probe = tmp_path / "arrays.npz"
    np.savez(not_probe, coef=np.zeros(3))
    for model, words in ((damaged, "not a readable"), (not_probe, "no probe metadata"),
                         (tmp_path / "absent.npz", "no such probe")):
        assert main(["predict", "--model", str(model), str(tmp_path / "a.wav")]) == 2
        err = capsys.readouterr().err
        assert str(model) in err and words in err and "Traceback" not in err
    assert zipfile.is_zipfile(real_probe)  # an .npz is a zip: the dispatch is by suffix, not by zip test
