"""Similar songs: embeddings, cosine neighbours, genre precision@k, library cache, maps, thumbnails."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from test_baseline import TINY, genre_segments

from mgc_helpers.beyond import embedders, library, retrieval, thumbnails
from mgc_helpers.data.splits import make_split
from mgc_helpers.models import training
from mgc_helpers.signal.audio import AudioError


@pytest.fixture(scope="module")
def segs():
    return genre_segments()


@pytest.fixture(scope="module")
def split(segs):
    # half the tracks in the test part: 4 test tracks per genre, so precision@5 can be measured
    return make_split(segs, "track", seed=0, test_size=0.5, valid_size=0.25)


@pytest.fixture(scope="module")
def cnn(segs, split):
    return training.train(segs, split, model="cnn", epochs=2, batch_size=16, seed=0, learning_rate=1e-3,
                          standardize=True)


def test_embedders_follow_the_protocol_and_give_the_documented_shapes(segs, cnn):
    mfcc, model = embedders.MfccStatsEmbedder(config=TINY), embedders.ModelEmbedder(cnn)
    assert isinstance(mfcc, embedders.Embedder) and isinstance(model, embedders.Embedder)
    assert (mfcc.name, mfcc.dim, mfcc.standardize) == ("mfcc", 26, True)
    assert (model.name, model.dim, model.standardize) == ("cnn", 64, False)  # the 64-unit 'dense' layer
    assert embedders.MfccStatsEmbedder(config=TINY, deltas=True).dim == 52
    X = segs.X[:12]
    a, b = model.embed_segments(X), model.embed_segments(X)
    assert a.shape == (12, 64) and np.all(a >= 0)  # after ReLU
    np.testing.assert_array_equal(a, b)  # deterministic
    # the penultimate layer is what the softmax sees: softmax(dense(a)) equals the model's output
    dense = cnn.model.get_layer("softmax")
    logits = a @ dense.get_weights()[0] + dense.get_weights()[1]
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(proba / proba.sum(axis=1, keepdims=True), cnn.predict_proba(X), atol=1e-4)
    assert model.fingerprint == embedders.ModelEmbedder(cnn).fingerprint != mfcc.fingerprint
    tracks, vectors = retrieval.track_embeddings(mfcc, segs)
    assert tracks.shape == (80,) and vectors.shape == (80, 26)
    first = segs.track == tracks[0]
    np.testing.assert_allclose(vectors[0], mfcc.embed_segments(segs.X[first]).mean(axis=0))


@pytest.mark.parametrize("which", ["mfcc", "cnn"])
def test_a_track_is_its_own_nearest_neighbour(segs, cnn, which):
    embedder = embedders.MfccStatsEmbedder(config=TINY) if which == "mfcc" else embedders.ModelEmbedder(cnn)
    _, raw = retrieval.track_embeddings(embedder, segs)
    vectors = retrieval.VectorSpace.fit(raw, standardize=embedder.standardize).transform(raw)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0)
    index, sims = retrieval.nearest_neighbors(vectors, vectors, 3)
    np.testing.assert_array_equal(index[:, 0], np.arange(len(vectors)))
    np.testing.assert_allclose(sims[:, 0], 1.0)
    assert np.all(np.diff(sims, axis=1) <= 1e-12)  # most similar first


def test_neighbours_exclusion_and_short_candidate_lists():
    v = retrieval.l2_normalize(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]))
    index, sims = retrieval.nearest_neighbors(v[:1], v, 5, exclude=np.array([[True, False, False]]))
    assert index.tolist() == [[1, 2, -1]] and np.isnan(sims[0, 2])
    with pytest.raises(ValueError, match="k must be"):
        retrieval.nearest_neighbors(v, v, 0)


def test_precision_at_k_known_answer_and_same_artist_exclusion():
    # two genres on a line; track 1 is by the same artist as track 0 and a near copy of it
    vectors = retrieval.l2_normalize(np.array([[1.0, 0.0], [1.0, 0.01], [0.8, 0.6], [0.6, 0.8], [0.0, 1.0]]))
    genre = np.array([0, 0, 1, 0, 1])
    artist = np.array(["a", "a", "b", "c", "d"])
    included = retrieval.precision_at_k(vectors, genre, artist, ks=(1, 2), queries=[0])
    excluded = retrieval.precision_at_k(vectors, genre, artist, ks=(1, 2), queries=[0], exclude_same_artist=True)
    # query 0: ranking 1 (genre 0, same artist), 2 (genre 1), 3 (genre 0), 4
    assert included["precision"].tolist() == [1.0, 0.5]
    assert excluded["precision"].tolist() == [0.0, 0.5]  # without its artist, the first hit is wrong
    assert included.loc[0, "chance"] == pytest.approx(2 / 4) and excluded.loc[0, "chance"] == pytest.approx(1 / 3)
    assert excluded.loc[1, "best"] == pytest.approx(0.5)  # one allowed track of genre 0 for 2 hits
    with pytest.raises(ValueError, match="artist"):
        retrieval.precision_at_k(vectors, genre, ks=(1,), exclude_same_artist=True)


def test_retrieval_precision_is_well_above_chance(segs, split):
    table = retrieval.retrieval_precision(embedders.MfccStatsEmbedder(config=TINY), segs, split, ks=(1, 5))
    assert set(table["same_artist"]) == {"included", "excluded"} and (table["n_queries"] == 40).all()
    p = table.set_index(["same_artist", "k"])["precision"]
    chance = table["chance"].max()
    # measured on 3 split seeds (mean, lowest): P@1 0.78, 0.73 excluded, 0.90, 0.88 included;
    # P@5 0.44, 0.43 excluded (best possible 0.52), 0.51, 0.50 included; chance 0.07-0.08
    assert chance < 0.1
    assert p["excluded", 1] > 0.45 and p["excluded", 5] > 0.25
    assert p["included", 1] >= p["excluded", 1] and p["included", 5] >= p["excluded", 5]
    everything = retrieval.retrieval_precision(embedders.MfccStatsEmbedder(config=TINY), segs, split, ks=(5,),
                                               candidates="all")
    assert (everything["best"] == 1.0).all() and (everything["precision"] > 0.5).all()
    with pytest.raises(ValueError, match="candidates"):
        retrieval.retrieval_precision(embedders.MfccStatsEmbedder(config=TINY), segs, split, candidates="train")


def test_map_2d_and_its_plot(segs):
    import matplotlib

    matplotlib.use("Agg")
    from mgc_helpers.plotting.retrieval import plot_embedding_map

    _, raw = retrieval.track_embeddings(embedders.MfccStatsEmbedder(config=TINY), segs)
    vectors = retrieval.VectorSpace.fit(raw, standardize=True).transform(raw)
    pca = retrieval.map_2d(vectors)
    assert pca.shape == (80, 2)
    np.testing.assert_array_equal(pca, retrieval.map_2d(vectors))
    tsne = retrieval.map_2d(vectors[:20], method="tsne", seed=0)
    assert tsne.shape == (20, 2) and np.all(np.isfinite(tsne))
    with pytest.raises(ValueError, match="unknown map method"):
        retrieval.map_2d(vectors, method="umap")
    labels = np.repeat(np.arange(10), 8)
    fig, ax, scatter = plot_embedding_map(pca, labels, segs.genres, highlight=[0, 1])
    assert scatter.get_offsets().shape == (80, 2) and len(ax.get_legend().get_texts()) == 10
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_thumbnail_rules():
    genres = ("jazz", "rock")
    proba = np.array([[0.95, 0.05],   # a very "jazz" intro
                      [0.30, 0.70],
                      [0.20, 0.80],   # the most "rock" segment
                      [0.20, 0.80]])
    t = thumbnails.thumbnail(proba, genres, segment_seconds=3.0)
    assert (t.index, t.start, t.end, t.genre, t.probability) == (2, 6.0, 9.0, "rock", 0.8)  # earliest of the tie
    m = thumbnails.thumbnail(proba, genres, by="max")
    assert (m.index, m.genre) == (0, "jazz")
    with pytest.raises(ValueError, match="shape"):
        thumbnails.thumbnail(proba[:, :1], genres)
    with pytest.raises(ValueError, match="unknown thumbnail rule"):
        thumbnails.thumbnail(proba, genres, by="min")


class _Fake:
    """A stand-in for an embedder that works on raw audio (a pretrained tagger, say)."""

    name, dim, fingerprint, standardize = "fake", 2, "v1", False

    def __init__(self):
        self.calls = 0

    def embed_file(self, path):
        import soundfile as sf

        self.calls += 1
        try:
            y, sr = sf.read(str(path))
        except Exception as exc:
            raise AudioError(path, f"cannot decode audio ({exc})") from None
        return embedders.FileEmbedding(path, np.array([float(np.mean(y)), float(np.std(y))]), 1, len(y) / sr)


def test_any_embedder_plugs_into_the_cached_library(tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    for i, level in enumerate((0.1, 0.5, 0.9)):
        sf.write(music / f"t{i}.wav", np.full(800, level, dtype=np.float32) + 0.01 * i, 8000)
    (music / "broken.wav").write_bytes(b"RIFF nonsense")
    fake = _Fake()
    assert isinstance(fake, embedders.Embedder)
    lib = library.build_library(music, fake, cache_dir=tmp_path / "cache")
    assert len(lib) == 3 and lib.info["cache"] == "miss" and [s.path.name for s in lib.skipped] == ["broken.wav"]
    assert fake.calls == 4 and not any(p.suffix == ".npz" for p in music.iterdir())  # nothing in the music folder
    again = library.build_library(music, fake, cache_dir=tmp_path / "cache")
    assert again.info["cache"] == "hit" and fake.calls == 4  # not even the broken file is decoded again
    np.testing.assert_array_equal(again.vectors, lib.vectors)
    result = library.find_similar(music / "t0.wav", again, fake, k=5)
    assert [h.path.name for h in result.hits] == ["t1.wav", "t2.wav"]
    assert any("in the library" in n for n in result.notes) and any("showing all" in n for n in result.notes)
    # a changed file is embedded again, the others are reused
    sf.write(music / "t2.wav", np.full(800, 0.2, dtype=np.float32), 8000)
    import os

    os.utime(music / "t2.wav", ns=(1, 1))
    updated = library.build_library(music, fake, cache_dir=tmp_path / "cache")
    assert updated.info["cache"] == "updated" and updated.info["computed"] == 1 and fake.calls == 5
    # a damaged cache file is rebuilt with a warning
    library.library_cache_path(music, fake, cache_dir=tmp_path / "cache").write_bytes(b"junk")
    with pytest.warns(library.LibraryCacheWarning, match="rebuilding"):
        assert library.build_library(music, fake, cache_dir=tmp_path / "cache").info["cache"] == "miss"


# ----------------------------------------------------------------------------------------------
# musicnn embeddings, track vectors computed elsewhere
# ----------------------------------------------------------------------------------------------

def test_musicnn_embedder_shapes_determinism_and_own_nearest_neighbour(tmp_path):
    from _tiny_model import SR, bright_noise, low_tone

    music = tmp_path / "music"
    music.mkdir()
    for i in range(2):
        sf.write(music / f"tone{i}.wav", low_tone(3.5, seed=20 + i), SR)
        sf.write(music / f"noise{i}.wav", bright_noise(3.5, seed=20 + i), SR)
    embedder = embedders.MusicnnEmbedder()
    assert isinstance(embedder, embedders.Embedder)
    assert (embedder.name, embedder.dim, embedder.standardize) == ("musicnn", 200, False)
    assert embedder.fingerprint == embedders.MusicnnEmbedder().fingerprint != embedders.MfccStatsEmbedder().fingerprint
    one = embedder.embed_file(music / "tone0.wav")
    assert one.vector.shape == (200,) and one.n_segments == 1 and one.duration == pytest.approx(3.5)
    np.testing.assert_array_equal(one.vector, embedder.embed_file(music / "tone0.wav").vector)  # deterministic
    lib = library.build_library(music, embedder, cache_dir=tmp_path / "cache")
    assert lib.vectors.shape == (4, 200)
    vectors = retrieval.VectorSpace.fit(lib.vectors, standardize=False).transform(lib.vectors)
    index, sims = retrieval.nearest_neighbors(vectors, vectors, 2)
    np.testing.assert_array_equal(index[:, 0], np.arange(4))  # every track is its own nearest neighbour
    np.testing.assert_allclose(sims[:, 0], 1.0)
    # the next nearest is of the same kind (tone with tone, noise with noise)
    kinds = ["noise" if "noise" in p.name else "tone" for p in lib.paths]
    assert [kinds[j] for j in index[:, 1]] == kinds
    # a clip shorter than a patch is repeated to fill it, with a note; not audio is an AudioError
    sf.write(tmp_path / "short.wav", low_tone(0.5, seed=3), SR)
    short = embedder.embed_file(tmp_path / "short.wav")
    assert short.vector.shape == (200,) and any("repeated" in n for n in short.notes)
    (tmp_path / "fake.wav").write_bytes(b"RIFF nonsense")
    with pytest.raises(AudioError):
        embedder.embed_file(tmp_path / "fake.wav")


def test_track_vectors_from_elsewhere_match_and_neighbours_leave_out_the_artist(segs, split):
    mfcc = embedders.MfccStatsEmbedder(config=TINY)
    tracks, raw = retrieval.track_embeddings(mfcc, segs)
    direct = retrieval.track_vectors(mfcc, segs, split)
    shuffled = np.random.default_rng(0).permutation(len(tracks))
    given = retrieval.track_vectors(mfcc, segs, split, vectors=(tracks[shuffled], raw[shuffled]))
    np.testing.assert_array_equal(given.tracks, direct.tracks)
    np.testing.assert_allclose(given.vectors, direct.vectors)
    assert given.test.sum() == 40 and given.train.sum() + given.test.sum() <= 80
    a = retrieval.retrieval_precision(mfcc, segs, split, ks=(5,))
    b = retrieval.retrieval_precision(mfcc, segs, split, ks=(5,), vectors=(tracks[shuffled], raw[shuffled]))
    c = retrieval.retrieval_precision(mfcc, segs, split, ks=(5,), vectors=given)
    np.testing.assert_allclose(a["precision"], b["precision"])
    np.testing.assert_allclose(a["precision"], c["precision"])
    # a track missing from the vectors is no query; an unknown one is an error
    fewer = retrieval.track_vectors(mfcc, segs, split, vectors=(tracks[1:], raw[1:]))
    assert len(fewer) == 79
    with pytest.raises(ValueError, match="not in the segments"):
        retrieval.track_vectors(mfcc, segs, split, vectors=(np.array(["nope.00001"]), raw[:1]))
    with pytest.raises(TypeError, match="vectors="):
        retrieval.track_vectors(embedders.MusicnnEmbedder(), segs, split)
    query = int(np.flatnonzero(direct.test)[0])
    hits, sims = direct.neighbours(query, 10)
    assert query not in hits and direct.test[hits].all() and np.all(np.diff(sims) <= 1e-12)
    hits, _ = direct.neighbours(query, 10, exclude_same_artist=True)
    assert not (direct.artist[hits] == direct.artist[query]).any()
    everything, _ = direct.neighbours(query, 100, pool=np.ones(len(direct), dtype=bool))
    assert len(everything) == 79
