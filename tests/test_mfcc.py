"""Tests of mgc_helpers.signal.mfcc: each step, and agreement with librosa.feature.mfcc."""
import librosa
import numpy as np
import pytest
import scipy.fft

from mgc_helpers.core.config import PAPER_CONFIG, FeatureConfig
from mgc_helpers.signal import mfcc as mf
from mgc_helpers.signal import sounds
from mgc_helpers.signal.mfcc_fast import mfcc_segments

SR = 22050


def _signals():
    return {
        "tone": sounds.pure_tone(440, duration=3.0),
        "chord": sounds.chord(["C4", "E4", "G4"], duration=3.0),
        "noise": sounds.noise(duration=3.0, seed=3),
        "chirp": sounds.chirp(duration=3.0),
        "drum_loop": sounds.drum_and_bass_loop(tempo=100, bars=1, seed=1),
        "pluck_1s": sounds.plucked_string("E2", duration=1.0),
    }


SIGNALS = _signals()


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_mfcc_matches_librosa(name):
    y = SIGNALS[name]
    M = mf.mfcc(y, sr=SR)
    ref = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13, n_fft=2048, hop_length=512)
    assert M.shape == ref.shape == (13, 1 + y.size // 512)
    assert mf.max_relative_difference(M, ref) < mf.LIBROSA_TOLERANCE
    assert np.abs(M - ref).max() < 1e-3


def test_mfcc_matches_librosa_with_other_settings():
    y = SIGNALS["drum_loop"]
    kw = dict(n_mfcc=20, n_fft=1024, hop_length=256, n_mels=40, fmin=30.0, fmax=8000.0, htk=True)
    M = mf.mfcc(y, sr=SR, **kw)
    ref = librosa.feature.mfcc(y=y, sr=SR, **kw)
    assert M.shape == ref.shape
    assert mf.max_relative_difference(M, ref) < mf.LIBROSA_TOLERANCE


@pytest.mark.parametrize("changed", [{"htk": True}, {"norm": None}, {"pad_mode": "reflect"}, {"top_db": None}])
def test_mismatched_settings_are_detected(changed):
    """The tolerance is tight enough to notice any one setting that differs from librosa's."""
    y = SIGNALS["drum_loop"]
    ref = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13)
    assert mf.max_relative_difference(mf.mfcc(y, **changed), ref) > 100 * mf.LIBROSA_TOLERANCE


def test_steps_shapes_for_a_paper_segment():
    y = SIGNALS["chord"][: PAPER_CONFIG.samples_per_segment]
    steps = mf.mfcc_steps(y)
    assert steps.shapes() == {"frames": (2048, 130), "windowed": (2048, 130), "power": (1025, 130),
                              "mel": (128, 130), "log_mel": (128, 130), "mfcc": (13, 130)}
    assert steps.log_mel.max() - steps.log_mel.min() <= 80.0 + 1e-9
    np.testing.assert_array_equal(steps.mfcc, mf.mfcc(y))


def test_each_step_against_its_definition():
    y = SIGNALS["noise"][:8000].astype(np.float64)
    frames = mf.frame(y, n_fft=512, hop_length=128)
    assert frames.shape == (512, 1 + 8000 // 128)
    windowed = mf.apply_window(frames)
    np.testing.assert_allclose(windowed[:, 5], frames[:, 5] * np.hanning(513)[:-1])
    P = mf.power_frames(windowed)
    np.testing.assert_allclose(P, np.abs(librosa.stft(y, n_fft=512, hop_length=128)) ** 2, rtol=1e-9)
    mel = mf.mel_energies(P, sr=SR, n_mels=40)
    np.testing.assert_allclose(mel, librosa.filters.mel(sr=SR, n_fft=512, n_mels=40, dtype=np.float64) @ P)
    log_mel = mf.log_energies(mel)
    np.testing.assert_allclose(log_mel, librosa.power_to_db(mel), atol=1e-9)
    C = mf.dct(log_mel, n_mfcc=13)
    np.testing.assert_allclose(C, scipy.fft.dct(log_mel, type=2, norm="ortho", axis=0)[:13], atol=1e-9)


def test_dct_matrix_is_orthonormal():
    D = mf.dct_matrix(128, 128)
    np.testing.assert_allclose(D @ D.T, np.eye(128), atol=1e-12)
    assert mf.dct_matrix(13, 128).shape == (13, 128)
    # row 0 is a constant: the mean level (overall loudness) of the frame
    np.testing.assert_allclose(mf.dct_matrix(13, 128)[0], 1 / np.sqrt(128))
    with pytest.raises(ValueError, match="n_mfcc"):
        mf.dct_matrix(20, 10)


def test_mfcc_rejects_bad_input():
    with pytest.raises(ValueError, match="n_mfcc"):
        mf.mfcc(SIGNALS["tone"], n_mfcc=200, n_mels=128)
    with pytest.raises(ValueError, match="one-dimensional"):
        mf.mfcc(np.zeros((2, 1000)))
    with pytest.raises(ValueError, match="frames must have shape"):
        mf.apply_window(np.zeros(10))


@pytest.mark.parametrize("name", ["chord", "drum_loop", "noise"])
def test_teaching_mfcc_matches_the_fast_one(name):
    """The from-scratch MFCC (for reading) against the batched one the pipeline stores."""
    y = np.resize(SIGNALS[name], PAPER_CONFIG.samples_per_segment).astype(np.float32)
    S = mfcc_segments(y[None, :])[0]
    assert S.shape == PAPER_CONFIG.segment_shape == (130, 13)
    assert S.dtype == np.float32
    assert mf.max_relative_difference(S.T, mf.mfcc(y)) < mf.LIBROSA_TOLERANCE


def test_fast_mfcc_follows_config():
    cfg = FeatureConfig(n_mfcc=20, hop_length=256, n_mels=64)
    y = np.resize(SIGNALS["chirp"], cfg.samples_per_segment).astype(np.float32)
    S = mfcc_segments(y[None, :], config=cfg)[0]
    assert S.shape == cfg.segment_shape == (1 + 66150 // 256, 20)
    assert mf.max_relative_difference(S.T, mf.mfcc(y, n_mfcc=20, hop_length=256, n_mels=64)) < mf.LIBROSA_TOLERANCE


def test_max_relative_difference():
    B = np.array([[0.0, 10.0]])
    assert mf.max_relative_difference(B + 0.1, B) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="shapes differ"):
        mf.max_relative_difference(np.zeros(3), np.zeros(4))
