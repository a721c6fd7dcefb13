from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from mgc_helpers.core.config import PAPER_CONFIG, FeatureConfig
from mgc_helpers.signal.audio import AudioError, audio_info, load_audio, segment_signal


def _write(path, y, sr, subtype="PCM_16"):
    sf.write(str(path), y, sr, subtype=subtype)
    return path


def test_load_resamples_and_mixes_to_mono(tmp_path):
    t = np.arange(44100 * 2) / 44100
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    stereo = np.stack([left, -left * 0 + left], axis=1)
    p = _write(tmp_path / "a.wav", stereo, 44100)
    info = audio_info(p)
    assert (info.sample_rate, info.channels, info.frames) == (44100, 2, 88200)
    y, sr = load_audio(p)
    assert sr == 22050 and y.dtype == np.float32 and y.shape == (44100,)
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) * sr / len(y) == pytest.approx(440, abs=1)


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(AudioError, match="file not found"):
        load_audio(tmp_path / "missing.wav")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty file"):
        load_audio(empty)
    fake = tmp_path / "fake.wav"
    fake.write_bytes(b"this is not audio at all" * 100)
    with pytest.raises(AudioError, match="fake.wav: cannot decode"):
        load_audio(fake)
    with pytest.raises(AudioError, match="unreadable audio header"):
        audio_info(fake)


def test_load_rejects_non_finite_samples(tmp_path):
    y = np.zeros(22050, dtype=np.float32)
    y[100] = np.nan
    p = _write(tmp_path / "nan.wav", y, 22050, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN or infinite"):
        load_audio(p)


def test_segment_policy():
    cfg = PAPER_CONFIG
    n = cfg.samples_per_segment
    assert segment_signal(np.zeros(cfg.samples_per_track + 300)).shape == (10, n)
    padded = segment_signal(np.ones(cfg.samples_per_track - 1000))
    assert padded.shape == (10, n) and padded[-1, -1000:].sum() == 0 and padded[-1, :-1000].all()
    assert segment_signal(np.ones(22050 * 25)).shape == (8, n)
    assert segment_signal(np.ones(100)).shape == (0, n)
    assert segment_signal(np.ones(cfg.samples_per_track * 2), n_segments=None).shape == (20, n)
    small = FeatureConfig(track_duration=6.0, n_segments=2)
    assert segment_signal(np.arange(6 * 22050), config=small).shape == (2, 66150)
    with pytest.raises(ValueError):
        segment_signal(np.zeros((2, 100)))
