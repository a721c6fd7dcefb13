"""Tests of mgc_helpers.signal.spectral: known answers and agreement with librosa."""
import librosa
import numpy as np
import pytest
import scipy.signal

from mgc_helpers.core.config import PAPER_CONFIG
from mgc_helpers.signal import spectral as sp

SR = 22050


@pytest.fixture(scope="module")
def noise():
    return np.random.default_rng(0).standard_normal(20000).astype(np.float32)


# --- framing -----------------------------------------------------------------------------------

def test_frame_signal_centered_count_and_content():
    y = np.arange(10_000, dtype=np.float64)
    F = sp.frame_signal(y, frame_length=2048, hop_length=512)
    assert F.shape == (2048, 1 + 10_000 // 512)
    # frame t is centred on sample t * hop: its middle sample is y[t * hop]
    assert F[1024, 3] == y[3 * 512]
    assert np.all(F[:1024, 0] == 0)  # zero padding before the signal


def test_frame_signal_uncentered_matches_librosa_util_frame():
    y = np.random.default_rng(1).standard_normal(5000)
    F = sp.frame_signal(y, frame_length=1024, hop_length=256, center=False)
    np.testing.assert_array_equal(F, librosa.util.frame(y, frame_length=1024, hop_length=256))


def test_paper_segment_gives_130_frames():
    F = sp.frame_signal(np.zeros(PAPER_CONFIG.samples_per_segment))
    assert F.shape == (2048, 130) == (PAPER_CONFIG.n_fft, PAPER_CONFIG.frames_per_segment)


def test_frame_signal_rejects_bad_input():
    with pytest.raises(ValueError, match="shorter than frame_length"):
        sp.frame_signal(np.zeros(100), frame_length=2048, center=False)
    with pytest.raises(ValueError, match="one-dimensional"):
        sp.frame_signal(np.zeros((2, 4000)))
    with pytest.raises(ValueError, match="NaN"):
        sp.frame_signal(np.array([0.0, np.nan] * 3000))
    with pytest.raises(ValueError, match="hop_length"):
        sp.frame_signal(np.zeros(5000), hop_length=0)


def test_window_is_periodic_hann():
    w = sp.get_window("hann", 8)
    np.testing.assert_allclose(w, 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(8) / 8))
    with pytest.raises(ValueError, match="expected"):
        sp.get_window(np.ones(5), 8)


# --- FFT ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("freq", [440.0, 1000.0, 3000.0])
def test_pure_tone_peaks_at_its_bin(freq):
    n_fft = 2048
    t = np.arange(SR) / SR
    f, P = sp.power_spectrum(np.sin(2 * np.pi * freq * t), sr=SR, n_fft=n_fft, window="hann")
    assert f.shape == P.shape == (1 + n_fft // 2,)
    k = int(np.argmax(P))
    assert k == int(round(freq * n_fft / SR))
    assert abs(f[k] - freq) <= SR / n_fft / 2


def test_power_spectrum_parseval_and_resolution():
    y = np.random.default_rng(2).standard_normal(1000)
    f, P = sp.power_spectrum(y, sr=SR)
    assert f[1] == pytest.approx(SR / 1000)
    # Parseval for a real FFT of even length: count interior bins twice
    energy = (P[0] + 2 * P[1:-1].sum() + P[-1]) / 1000
    assert energy == pytest.approx(np.sum(y ** 2), rel=1e-10)


def test_fft_frequencies_match_librosa():
    np.testing.assert_allclose(sp.fft_frequencies(sr=SR, n_fft=2048), librosa.fft_frequencies(sr=SR, n_fft=2048))


def test_frame_times_match_librosa():
    np.testing.assert_allclose(sp.frame_times(130), librosa.frames_to_time(np.arange(130), sr=SR, hop_length=512))


# --- STFT --------------------------------------------------------------------------------------

@pytest.mark.parametrize("center,pad_mode", [(True, "constant"), (True, "reflect"), (False, "constant")])
@pytest.mark.parametrize("n_fft,hop", [(2048, 512), (512, 128)])
def test_stft_equals_librosa(noise, center, pad_mode, n_fft, hop):
    X = sp.stft(noise, n_fft=n_fft, hop_length=hop, center=center, pad_mode=pad_mode)
    ref = librosa.stft(noise, n_fft=n_fft, hop_length=hop, center=center, pad_mode=pad_mode)
    assert X.shape == ref.shape
    np.testing.assert_allclose(X, ref, atol=1e-4 * np.abs(ref).max())


def test_stft_other_windows_equal_librosa(noise):
    for window in ("hamming", ("kaiser", 8.0)):
        X = sp.stft(noise, n_fft=1024, hop_length=256, window=window)
        ref = librosa.stft(noise, n_fft=1024, hop_length=256, window=window)
        np.testing.assert_allclose(X, ref, atol=1e-4 * np.abs(ref).max())


def test_spectrogram_power_and_magnitude(noise):
    S2 = sp.spectrogram(noise, n_fft=1024, hop_length=256)
    S1 = sp.spectrogram(noise, n_fft=1024, hop_length=256, power=1.0)
    np.testing.assert_allclose(S2, S1 ** 2, rtol=1e-10)
    ref = np.abs(librosa.stft(noise, n_fft=1024, hop_length=256)) ** 2
    np.testing.assert_allclose(S2, ref, rtol=1e-3, atol=1e-6 * ref.max())
    with pytest.raises(ValueError, match="power"):
        sp.spectrogram(noise, power=0)


# --- dB ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("ref", [1.0, np.max, 0.5])
@pytest.mark.parametrize("top_db", [80.0, None, 30.0])
def test_to_db_matches_librosa(noise, ref, top_db):
    S = np.abs(librosa.stft(noise, n_fft=512)) ** 2
    np.testing.assert_allclose(sp.to_db(S, ref=ref, top_db=top_db),
                               librosa.power_to_db(S, ref=ref, top_db=top_db), atol=1e-4)


def test_to_db_known_values():
    np.testing.assert_allclose(sp.to_db(np.array([1.0, 10.0, 100.0, 0.0]), top_db=None),
                               [0.0, 10.0, 20.0, -100.0])
    assert sp.to_db(np.array([1.0, 1e-12]), top_db=80).min() == pytest.approx(-80.0)
    with pytest.raises(ValueError, match="power values"):
        sp.to_db(np.ones(3, dtype=complex))
    with pytest.raises(ValueError, match="top_db"):
        sp.to_db(np.ones(3), top_db=-1)


# --- mel scale ---------------------------------------------------------------------------------

def test_mel_of_700_hz_is_2595_log10_2():
    assert sp.hz_to_mel(700.0) == pytest.approx(2595 * np.log10(2))
    assert sp.hz_to_mel(700.0, htk=True) == pytest.approx(781.1728, abs=1e-4)
    assert sp.hz_to_mel(0.0) == 0.0


@pytest.mark.parametrize("htk", [True, False])
def test_mel_round_trip(htk):
    f = np.array([0.0, 20.0, 440.0, 999.9, 1000.0, 1000.1, 4000.0, 11025.0])
    np.testing.assert_allclose(sp.mel_to_hz(sp.hz_to_mel(f, htk=htk), htk=htk), f, atol=1e-9)
    m = np.linspace(0, sp.hz_to_mel(11025.0, htk=htk), 50)
    np.testing.assert_allclose(sp.hz_to_mel(sp.mel_to_hz(m, htk=htk), htk=htk), m, atol=1e-9)


@pytest.mark.parametrize("htk", [True, False])
def test_mel_scale_matches_librosa(htk):
    f = np.linspace(0, 11025, 301)
    np.testing.assert_allclose(sp.hz_to_mel(f, htk=htk), librosa.hz_to_mel(f, htk=htk), rtol=1e-12)
    m = np.linspace(0, 40, 41) if not htk else np.linspace(0, 3000, 41)
    np.testing.assert_allclose(sp.mel_to_hz(m, htk=htk), librosa.mel_to_hz(m, htk=htk), rtol=1e-12)


def test_slaney_scale_is_linear_below_1khz():
    assert sp.hz_to_mel(1000.0, htk=False) == pytest.approx(15.0)
    assert sp.hz_to_mel(500.0, htk=False) == pytest.approx(7.5)
    assert isinstance(sp.hz_to_mel(500.0), float)


def test_mel_frequencies_match_librosa():
    np.testing.assert_allclose(sp.mel_frequencies(40, fmin=20, fmax=8000),
                               librosa.mel_frequencies(40, fmin=20, fmax=8000), rtol=1e-12)


# --- filter bank -------------------------------------------------------------------------------

@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("norm", ["slaney", None])
@pytest.mark.parametrize("n_mels,fmin,fmax", [(128, 0.0, None), (40, 50.0, 8000.0)])
def test_filterbank_equals_librosa(htk, norm, n_mels, fmin, fmax):
    fb = sp.mel_filterbank(sr=SR, n_fft=2048, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
    ref = librosa.filters.mel(sr=SR, n_fft=2048, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm,
                              dtype=np.float64)
    assert fb.shape == (n_mels, 1025)
    np.testing.assert_allclose(fb, ref, rtol=1e-10, atol=1e-14)


def test_filters_are_triangles_peaking_at_their_centres():
    n_fft, n_mels = 8192, 20           # fine bins so the triangles are well resolved
    fb = sp.mel_filterbank(sr=SR, n_fft=n_fft, n_mels=n_mels, norm=None)
    f = sp.fft_frequencies(sr=SR, n_fft=n_fft)
    edges = sp.mel_frequencies(n_mels + 2, fmax=SR / 2, htk=False)
    for m, w in enumerate(fb):
        lo, centre, hi = edges[m], edges[m + 1], edges[m + 2]
        assert abs(f[np.argmax(w)] - centre) <= SR / n_fft        # peak at the centre bin
        assert w.max() <= 1.0 and w.max() > 0.95                  # unnormalised peak ~1
        support = f[w > 0]
        assert support.min() >= lo and support.max() <= hi       # zero outside [lo, hi]
        rising = w[(f > lo) & (f < centre)]
        falling = w[(f > centre) & (f < hi)]
        assert np.all(np.diff(rising) > 0) and np.all(np.diff(falling) < 0)
        # linear sides: weight equals the distance to the edge over the half-width
        inside = (f > lo) & (f < centre)
        np.testing.assert_allclose(w[inside], (f[inside] - lo) / (centre - lo), atol=1e-12)


def test_adjacent_filters_overlap_and_slaney_area_is_constant():
    fb = sp.mel_filterbank(n_mels=40)
    overlap = np.minimum(fb[:-1], fb[1:]).sum(axis=1)
    assert np.all(overlap > 0)
    assert np.all(np.minimum(fb[:-2], fb[2:]).max(axis=1) == 0)   # only neighbours overlap
    # Slaney normalisation: 2/(hi - lo) scaling gives every triangle unit area (in Hz)
    edges = sp.mel_frequencies(42, fmax=SR / 2, htk=False)
    fine = sp.mel_filterbank(n_mels=40, n_fft=32768)
    area = fine.sum(axis=1) * SR / 32768
    np.testing.assert_allclose(area, 1.0, rtol=0.02)
    assert fb.shape == (40, 1025) and edges.shape == (42,)


def test_filterbank_rejects_bad_arguments():
    with pytest.raises(ValueError, match="fmin < fmax"):
        sp.mel_filterbank(fmin=5000, fmax=1000)
    with pytest.raises(ValueError, match="norm"):
        sp.mel_filterbank(norm="area")


def test_mel_spectrogram_matches_librosa(noise):
    M = sp.mel_spectrogram(noise, sr=SR)
    ref = librosa.feature.melspectrogram(y=noise, sr=SR)
    assert M.shape == ref.shape == (128, 1 + noise.size // 512)
    np.testing.assert_allclose(M, ref, rtol=1e-3, atol=1e-6 * ref.max())


# --- cepstrum ----------------------------------------------------------------------------------

@pytest.mark.parametrize("period", [50, 100, 147])
def test_cepstrum_of_pulse_train_peaks_at_period(period):
    y = np.zeros(4096)
    y[::period] = 1.0
    y = scipy.signal.lfilter([1.0], [1.0, -0.6], y)     # a smooth envelope, as for a real sound
    c = sp.cepstrum(y * np.hanning(y.size))
    assert c.shape == (4096,)
    q = 20 + int(np.argmax(c[20:2048]))                 # skip the low-quefrency envelope part
    assert q == period


def test_cepstrum_of_impulse_is_zero():
    y = np.zeros(64)
    y[0] = 1.0                                          # flat spectrum: log|X| = 0 everywhere
    np.testing.assert_allclose(sp.cepstrum(y), 0.0, atol=1e-12)
