from __future__ import annotations

import pytest

from mgc_helpers.core.config import GENRES, PAPER_CONFIG, FeatureConfig, label_mapping, n_frames
from mgc_helpers.core.paths import data_dir, project_root, results_dir
from mgc_helpers.core.profiles import get_profile


def test_paper_settings_and_derived_sizes():
    cfg = PAPER_CONFIG
    assert (cfg.sample_rate, cfg.n_fft, cfg.hop_length, cfg.n_mfcc) == (22050, 2048, 512, 13)
    assert cfg.samples_per_track == 661_500
    assert cfg.samples_per_segment == 66_150
    assert cfg.segment_duration == pytest.approx(3.0)
    assert cfg.frames_per_segment == 130
    assert cfg.segment_shape == (130, 13)
    assert cfg.frequency_resolution == pytest.approx(10.7666, abs=1e-3)


def test_config_is_frozen_and_validated():
    with pytest.raises(Exception):
        PAPER_CONFIG.n_mfcc = 20  # type: ignore[misc]
    for bad in ({"n_fft": 0}, {"hop_length": 4096}, {"n_mfcc": 200}, {"track_duration": -1},
                {"n_segments": 2.5}, {"sample_rate": True}):
        with pytest.raises(ValueError):
            FeatureConfig(**bad)


def test_roundtrip_and_fingerprint():
    cfg = FeatureConfig(n_mfcc=20)
    assert FeatureConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.fingerprint() != PAPER_CONFIG.fingerprint()
    assert FeatureConfig().fingerprint() == PAPER_CONFIG.fingerprint()
    with pytest.raises(ValueError, match="unknown"):
        FeatureConfig.from_dict({**cfg.to_dict(), "n_chroma": 12})


def test_labels_come_from_sorted_genre_names():
    assert list(GENRES) == sorted(GENRES) and len(GENRES) == 10
    mapping = label_mapping(["rock", "blues", "jazz"])
    assert mapping == {"blues": 0, "jazz": 1, "rock": 2}
    with pytest.raises(ValueError):
        label_mapping(["rock", "rock"])


def test_n_frames_matches_librosa():
    import librosa
    import numpy as np

    y = np.zeros(66_150, dtype=np.float32)
    frames = librosa.util.frame(np.pad(y, 1024), frame_length=2048, hop_length=512).shape[1]
    assert n_frames(66_150, hop_length=512) == frames == 130
    assert n_frames(66_150, hop_length=512, center=False, n_fft=2048) == 126


def test_profiles(monkeypatch):
    monkeypatch.delenv("MGC_PROFILE", raising=False)
    assert get_profile().name == "default"
    monkeypatch.setenv("MGC_PROFILE", "quick")
    assert get_profile().name == "quick"
    assert get_profile("paper").epochs == 100
    assert get_profile("quick", epochs=7).epochs == 7
    assert get_profile("quick", epochs=None).epochs == get_profile("quick").epochs
    with pytest.raises(ValueError, match="unknown profile"):
        get_profile("fast")
    with pytest.raises(ValueError, match="positive integer"):
        get_profile("quick", epochs="10")


def test_paths(monkeypatch, tmp_path):
    assert project_root() is not None
    monkeypatch.setenv("MGC_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("MGC_RESULTS_DIR", str(tmp_path / "r"))
    assert data_dir() == tmp_path / "d"
    assert results_dir(profile="quick") == tmp_path / "r"
    assert data_dir("x") == __import__("pathlib").Path("x")
    monkeypatch.delenv("MGC_RESULTS_DIR")
    assert results_dir(profile="quick").parts[-2:] == ("results", "quick")
