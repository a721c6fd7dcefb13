"""Tests of mgc_helpers.signal.sounds: lengths, dtype, pitch, determinism, errors."""
import numpy as np
import pytest

from mgc_helpers.signal import sounds
from mgc_helpers.signal.spectral import power_spectrum

SR = 22050


def _peak_hz(y, sr=SR):
    f, P = power_spectrum(y, sr=sr, window="hann")
    return f[np.argmax(P)]


def _check(y, n, amplitude=0.5):
    assert y.dtype == np.float32 and y.ndim == 1 and y.size == n
    assert np.all(np.isfinite(y))
    assert np.abs(y).max() == pytest.approx(amplitude, rel=1e-6)


def test_note_to_hz():
    assert sounds.note_to_hz("A4") == 440.0
    assert sounds.note_to_hz("A3") == 220.0
    assert sounds.note_to_hz("C4") == pytest.approx(261.6256, abs=1e-4)
    assert sounds.note_to_hz("C#4") == pytest.approx(sounds.note_to_hz("Db4"))
    assert sounds.note_to_hz(123.0) == 123.0
    with pytest.raises(ValueError, match="cannot read note"):
        sounds.note_to_hz("H2")
    with pytest.raises(ValueError, match="positive"):
        sounds.note_to_hz(-5.0)


def test_pure_tone():
    y = sounds.pure_tone(440, duration=1.0, amplitude=0.8)
    _check(y, SR, 0.8)
    assert _peak_hz(y) == pytest.approx(440, abs=1.5)
    assert y[0] == 0 and abs(y[-1]) < 1e-3          # faded ends


def test_pure_tone_custom_rate_and_errors():
    _check(sounds.pure_tone("A4", duration=0.5, sr=8000), 4000)
    with pytest.raises(ValueError, match="duration"):
        sounds.pure_tone(440, duration=0)
    with pytest.raises(ValueError, match="amplitude"):
        sounds.pure_tone(440, amplitude=2)
    with pytest.raises(ValueError, match="sr"):
        sounds.pure_tone(440, sr=22050.5)


def test_harmonic_tone_phase_changes_shape_not_spectrum():
    a = sounds.harmonic_tone(220, harmonics=[1, 0.5, 0.3], duration=1.0)
    b = sounds.harmonic_tone(220, harmonics=[1, 0.5, 0.3], phases=[0, np.pi / 2, np.pi], duration=1.0)
    assert np.abs(a - b).max() > 0.1
    Pa, Pb = power_spectrum(a).power, power_spectrum(b).power
    i = np.array([220, 440, 660])                     # 1-Hz bins for a 1-s signal
    # the peaks are normalised, so compare the shares of the three harmonics
    np.testing.assert_allclose(Pa[i] / Pa[i].sum(), Pb[i] / Pb[i].sum(), rtol=1e-3)
    np.testing.assert_allclose(Pa[i] / Pa[i].sum(), np.array([1, 0.25, 0.09]) / 1.34, rtol=1e-3)
    with pytest.raises(ValueError, match="phases"):
        sounds.harmonic_tone(220, harmonics=[1, 1], phases=[0])


def test_chord_contains_its_notes():
    y = sounds.chord(["C4", "E4", "G4"], duration=1.0)
    _check(y, SR)
    f, P = power_spectrum(y)
    top3 = np.sort(f[np.argsort(P)[-3:]])
    np.testing.assert_allclose(top3, [261.63, 329.63, 392.0], atol=1.0)
    with pytest.raises(ValueError, match="at least one"):
        sounds.chord([])


def test_chirp_sweeps_up():
    y = sounds.chirp(f0=200, f1=4000, duration=2.0, method="linear")
    _check(y, 2 * SR)
    assert _peak_hz(y[:2048]) < 400 and _peak_hz(y[-4096:-2048]) > 3500
    with pytest.raises(ValueError, match="method"):
        sounds.chirp(method="cubic")
    with pytest.raises(ValueError, match="f0 and f1"):
        sounds.chirp(f1=20000)


def test_noise_is_seeded_and_band_limited():
    a, b = sounds.noise(duration=1.0, seed=1), sounds.noise(duration=1.0, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, sounds.noise(duration=1.0, seed=2))
    y = sounds.noise(duration=1.0, band=(1000, 2000))
    f, P = power_spectrum(y)
    inside = P[(f >= 1000) & (f <= 2000)].sum()
    assert inside / P.sum() > 0.99
    with pytest.raises(ValueError, match="band"):
        sounds.noise(band=(3000, 1000))


def test_pulse_train_and_vowel():
    y = sounds.pulse_train(100, duration=0.5)
    assert y.size == SR // 2 and np.count_nonzero(y) == int(np.ceil(y.size / 100))
    v = sounds.vowel_like(110, duration=1.0)
    _check(v, SR)
    f, P = power_spectrum(v)
    # strongest harmonic near the first formant (700 Hz), a harmonic of 110 Hz
    assert 500 < f[np.argmax(P)] < 900
    with pytest.raises(ValueError, match="period"):
        sounds.pulse_train(0)


def test_same_pitch_two_timbres():
    flute, pluck = sounds.same_pitch_two_timbres("A3", duration=1.0)
    _check(flute, SR)
    _check(pluck, SR)
    # same pitch: both spectra have their fundamental at 220 Hz
    for y in (flute, pluck):
        f, P = power_spectrum(y)
        assert abs(f[np.argmax(P[:300])] - 220) <= 2
    # different timbre: the plucked string has far more energy above the 3rd harmonic
    def high_share(y):
        f, P = power_spectrum(y)
        return P[f > 700].sum() / P.sum()
    assert high_share(pluck) > 10 * high_share(flute)


def test_drum_and_bass_loop():
    y = sounds.drum_and_bass_loop(tempo=120, bars=2, seed=0)
    _check(y, int(round(2 * 4 * 0.5 * SR)))
    np.testing.assert_array_equal(y, sounds.drum_and_bass_loop(tempo=120, bars=2, seed=0))
    assert not np.array_equal(y, sounds.drum_and_bass_loop(tempo=120, bars=2, seed=1))
    # the kick/snare onsets make the loudness rise sharply at each beat
    beat = SR // 2
    frames = np.abs(y[: 4 * beat]).reshape(4, beat)
    assert np.all(frames[:, :2000].max(axis=1) > 0.2)
    with pytest.raises(ValueError, match="bars"):
        sounds.drum_and_bass_loop(bars=0)
    with pytest.raises(ValueError, match="tempo"):
        sounds.drum_and_bass_loop(tempo=-1)
