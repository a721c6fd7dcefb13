from __future__ import annotations

import numpy as np
import pytest

from mgc_helpers.core.config import GENRES
from mgc_helpers.data.gtzan_lists import gtzan_artists, normalise_gtzan_name, read_gtzan_list
from mgc_helpers.data.segments import SegmentSet
from mgc_helpers.data.splits import PROTOCOLS, Split, make_split


def random_segments(*, genres=GENRES, tracks_per_genre=12, segments_per_track=3, tracks_per_artist=2,
                    dataset="synthetic", seed=0) -> SegmentSet:
    """Random features with realistic bookkeeping: tracks within genres, artists within genres."""
    rng = np.random.default_rng(seed)
    track, group, y, segment = [], [], [], []
    for label, genre in enumerate(genres):
        for i in range(tracks_per_genre):
            for s in range(segments_per_track):
                track.append(f"{genre}.{i:05d}")
                group.append(f"{genre}_a{i // tracks_per_artist}")
                y.append(label)
                segment.append(s)
    n = len(track)
    return SegmentSet(X=rng.standard_normal((n, 4, 3)).astype(np.float32), y=np.array(y), track=np.array(track),
                      group=np.array(group), segment=np.array(segment), genres=tuple(genres), dataset=dataset)


def fake_gtzan() -> SegmentSet:
    """One segment per GTZAN clip; artists as the dataset loader assigns them."""
    artists = gtzan_artists()
    ids = [f"{g}.{i:05d}" for g in GENRES for i in range(100)]
    return SegmentSet(X=np.zeros((len(ids), 2, 2), np.float32), y=np.repeat(np.arange(10), 100),
                      track=np.array(ids), group=np.array([artists.get(t, t) for t in ids]),
                      segment=np.zeros(len(ids), int), genres=GENRES, dataset="gtzan")


def assert_partition(split: Split, n: int, *, complete: bool = True) -> None:
    parts = [split.train, split.valid, split.test]
    for p in parts:
        assert p.dtype == np.int64 and np.all(np.diff(p) > 0)
    union = np.concatenate(parts)
    assert len(np.unique(union)) == len(union)
    if complete:
        assert np.array_equal(np.sort(union), np.arange(n))


def test_segment_split_is_the_papers_random_split():
    segs = random_segments()
    split = make_split(segs, "segment", seed=0)
    assert_partition(split, len(segs))
    n = len(segs)  # 360 segments: 25 % test, then 20 % of the rest for validation
    assert (len(split.test), len(split.valid), len(split.train)) == (90, 54, 216)
    assert split.level is None and split.name == "segment (seed 0)"
    with pytest.raises(ValueError, match="leaks .* track"):  # segments of a clip on both sides
        split.check(segs, level="track")
    split.check(segs)  # nothing promised beyond disjoint segments
    assert n == 360


def test_track_split_keeps_clips_together_and_is_stratified():
    segs = random_segments()
    split = make_split(segs, "track", seed=1)
    assert_partition(split, len(segs))
    split.check(segs)
    split.check(segs, level="track")
    test_genres = np.bincount(segs.y[split.test], minlength=10) // 3  # tracks per genre in test
    assert test_genres.tolist() == [3] * 10  # 25 % of 12 tracks in every genre
    valid_genres = np.bincount(segs.y[split.valid], minlength=10) // 3
    assert valid_genres.min() >= 1 and valid_genres.max() <= 3
    table = split.describe(segs)
    assert table.loc["test", "tracks"] == 30 and table.loc["test", "genres"] == 10
    assert table["segments"].sum() == len(segs) and table["fraction"].sum() == pytest.approx(1, abs=1e-3)


def test_artist_split_keeps_artists_apart():
    segs = random_segments(tracks_per_artist=3)
    split = make_split(segs, "artist", seed=0)
    assert_partition(split, len(segs))
    split.check(segs)  # level "artist"
    split.check(segs, level="track")
    assert split.level == "artist"
    fraction = len(split.test) / len(segs)
    assert 0.15 <= fraction <= 0.35
    assert len(np.unique(segs.y[split.test])) >= 8  # StratifiedGroupKFold spreads the genres


def test_artist_split_on_gtzan_leaves_out_clips_without_an_artist():
    """Sturm's repeats and distortions are missing from the artist lists: they must not become
    one-clip "artists" that can land on the other side of the split from what they repeat."""
    segs = fake_gtzan()
    unknown = [t for t in segs.track if t not in gtzan_artists()]
    assert len(unknown) == 52
    split = make_split(segs, "artist", seed=0)
    split.check(segs)
    used = np.concatenate([split.train, split.valid, split.test])
    assert set(segs.track[split.excluded]) == set(unknown)
    assert not set(segs.track[used]) & set(unknown)
    assert len(used) + len(split.excluded) == len(segs) == 1000
    assert "52 clip(s) without a known artist left out" in split.note
    assert split.describe(segs).loc["excluded", "tracks"] == 52
    # no artist information at all: a clear error, not 1000 one-clip artists
    anonymous = SegmentSet(X=segs.X, y=segs.y, track=segs.track, group=segs.track, segment=segs.segment,
                           genres=GENRES, dataset="gtzan")
    with pytest.raises(ValueError, match="needs artist information"):
        make_split(anonymous, "artist")
    # the synthetic data have an artist for every clip: nothing is excluded
    assert make_split(random_segments(tracks_per_artist=3), "artist").excluded.size == 0


@pytest.mark.parametrize("protocol", ["segment", "track", "artist"])
def test_same_seed_same_split_other_seed_other_split(protocol):
    segs = random_segments()
    a, b, c = (make_split(segs, protocol, seed=s) for s in (7, 7, 8))
    for part in ("train", "valid", "test"):
        assert np.array_equal(getattr(a, part), getattr(b, part))
    assert not np.array_equal(a.test, c.test)


def test_valid_size_zero_and_bad_sizes():
    segs = random_segments()
    split = make_split(segs, "track", valid_size=0)
    assert len(split.valid) == 0 and len(split.train) + len(split.test) == len(segs)
    with pytest.raises(ValueError, match="test_size"):
        make_split(segs, "track", test_size=0)
    with pytest.raises(ValueError, match="valid_size"):
        make_split(segs, "track", valid_size=1.0)
    with pytest.raises(ValueError, match="stratified test part"):
        make_split(random_segments(tracks_per_genre=1), "track")


def test_unknown_protocol_lists_the_choices():
    with pytest.raises(ValueError, match=r"unknown split protocol 'album'.*'segment', 'track', 'artist', 'gtzan-filtered'"):
        make_split(random_segments(), "album")


@pytest.mark.parametrize("protocol", ["gtzan-filtered", "gtzan-artist-fold2"])
def test_gtzan_protocols_refuse_synthetic_data(protocol):
    with pytest.raises(ValueError, match=r"needs features of GTZAN.*'synthetic'"):
        make_split(random_segments(), protocol)


def test_gtzan_list_names_and_sizes():
    assert normalise_gtzan_name("./blues_00000.wav") == "blues.00000"
    assert normalise_gtzan_name("hiphop/hiphop.00012.wav") == "hiphop.00012"
    assert normalise_gtzan_name("jazz.00054.au") == "jazz.00054"
    with pytest.raises(ValueError, match="not a GTZAN clip name"):
        normalise_gtzan_name("song.mp3")
    sizes = [len(read_gtzan_list(f"{p}_filtered")) for p in ("train", "valid", "test")]
    assert sizes == [443, 197, 290]
    filtered = [set(read_gtzan_list(f"{p}_filtered")) for p in ("train", "valid", "test")]
    assert not (filtered[0] & filtered[1] or filtered[0] & filtered[2] or filtered[1] & filtered[2])
    assert len(read_gtzan_list("gtzan_labels")) == 1000
    artists = gtzan_artists()
    assert len(artists) == 948 and len(set(artists.values())) == 412
    for k in (1, 2, 3):
        train, test = read_gtzan_list(f"f{k}_train"), read_gtzan_list(f"f{k}_test")
        assert len(train) + len(test) == 948 and not set(train) & set(test)
        assert read_gtzan_list(f"f{k}_evaluate") == test
        assert not {artists[t] for t in train} & {artists[t] for t in test}
    with pytest.raises(ValueError, match="unknown GTZAN list"):
        read_gtzan_list("f4_train")


def test_gtzan_filtered_split():
    segs = fake_gtzan()
    split = make_split(segs, "gtzan-filtered")
    assert_partition(split, len(segs), complete=False)
    assert (len(split.train), len(split.valid), len(split.test)) == (443, 197, 290)
    split.check(segs)
    assert set(segs.track[split.test]) == set(read_gtzan_list("test_filtered"))
    # clips that are missing from the features (e.g. an unreadable one) are simply absent
    keep = segs.track != "jazz.00054"
    fewer = make_split(segs.subset(keep), "gtzan-filtered")
    assert len(fewer.train) + len(fewer.valid) + len(fewer.test) == 929


@pytest.mark.parametrize("fold", [1, 2, 3])
def test_gtzan_artist_folds(fold):
    segs = fake_gtzan()
    split = make_split(segs, f"gtzan-artist-fold{fold}", seed=0)
    assert_partition(split, len(segs), complete=False)
    assert len(split.test) == len(read_gtzan_list(f"f{fold}_test"))
    assert len(split.train) + len(split.valid) == len(read_gtzan_list(f"f{fold}_train"))
    split.check(segs)  # no artist in two parts, validation included
    assert 0.1 < len(split.valid) / (len(split.train) + len(split.valid)) < 0.3


def test_gtzan_protocol_on_data_without_gtzan_names():
    segs = random_segments(genres=("a", "b"), dataset="gtzan")
    segs.track[:] = "x"
    with pytest.raises(ValueError, match="none of the 443 listed GTZAN clips"):
        make_split(segs, "gtzan-filtered")


def test_split_validates_itself():
    with pytest.raises(ValueError, match="1 segment\\(s\\) in both train and test"):
        Split("bad", np.array([0, 1]), np.array([2]), np.array([1, 3]))
    split = Split("ok", [3, 1], [], [5])
    assert split.train.tolist() == [1, 3] and split.valid.dtype == np.int64
    with pytest.raises(ValueError, match="out of range"):
        split.check(random_segments(tracks_per_genre=1, segments_per_track=1, genres=("a", "b")))
    with pytest.raises(ValueError, match="unknown level"):
        split.check(random_segments(), level="album")
    assert set(PROTOCOLS) == {"segment", "track", "artist", "gtzan-filtered", "gtzan-artist-fold1",
                              "gtzan-artist-fold2", "gtzan-artist-fold3"}
