"""Example sounds made by code, so that the signal chapters need no download.

Every function returns a float32 mono signal at ``sr = 22050`` Hz by default, peak-normalised to
``amplitude`` and with 5-ms fades at both ends (no clicks in the audio players). Sounds that use
randomness take a ``seed`` and are identical for the same arguments.

Explained in ``01_waveform.ipynb`` (tones, timbre, noise), ``02_fft.ipynb`` (chord, chirp),
``03_stft.ipynb`` (drum-and-bass loop) and ``05_mfcc.ipynb`` (vowel-like pulse train).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import cast

import numpy as np
import scipy.signal

from ..core.config import PAPER_CONFIG

__all__ = [
    "SR",
    "chirp",
    "chord",
    "drum_and_bass_loop",
    "flute_like",
    "harmonic_tone",
    "noise",
    "note_to_hz",
    "plucked_string",
    "pulse_train",
    "pure_tone",
    "same_pitch_two_timbres",
    "vowel_like",
]

#: Default sample rate of every example sound (the paper's 22050 Hz).
SR: int = PAPER_CONFIG.sample_rate

_FADE_S = 0.005
_NOTE_RE = re.compile(r"^([A-Ga-g])([#b♯♭]*)(-?\d+)$")
_SEMITONE = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def note_to_hz(note: str | float) -> float:
    """Frequency of a note name in equal temperament with A4 = 440 Hz (``"C4"`` -> 261.63).

    Accepts sharps (``#``) and flats (``b``): ``"F#3"``, ``"Bb2"``. A number is returned
    unchanged (as a frequency in Hz).

    Raises
    ------
    ValueError
        If the name cannot be parsed or the number is not positive.

    Examples
    --------
    >>> note_to_hz("A4"), round(note_to_hz("C4"), 2)
    (440.0, 261.63)
    """
    if isinstance(note, (int, float, np.integer, np.floating)) and not isinstance(note, bool):
        if not note > 0:
            raise ValueError(f"frequency must be positive, got {note!r}")
        return float(note)
    match = _NOTE_RE.match(str(note).strip())
    if match is None:
        raise ValueError(f"cannot read note name {note!r}; expected e.g. 'A4', 'C#3' or 'Bb2'")
    letter, accidentals, octave = match.groups()
    semitone = _SEMITONE[letter.upper()] + sum(+1 if a in "#♯" else -1 for a in accidentals)
    midi = 12 * (int(octave) + 1) + semitone
    return float(440.0 * 2.0 ** ((midi - 69) / 12))


def _time(duration: float, sr: int) -> np.ndarray:
    if not duration > 0:
        raise ValueError(f"duration must be positive, got {duration!r}")
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr must be a positive integer, got {sr!r}")
    return np.arange(int(round(duration * sr))) / sr


def _finish(y: np.ndarray, *, sr: int, amplitude: float, fade: bool = True) -> np.ndarray:
    """Fade in/out, normalise the peak to ``amplitude`` and return float32."""
    if not 0 < amplitude <= 1:
        raise ValueError(f"amplitude must be in (0, 1], got {amplitude!r}")
    y = np.asarray(y, dtype=np.float64).copy()
    if fade:
        n = min(int(_FADE_S * sr), y.size // 2)
        if n > 0:
            ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)
            y[:n] *= ramp
            y[-n:] *= ramp[::-1]
    peak = np.max(np.abs(y))
    if peak > 0:
        y *= amplitude / peak
    return y.astype(np.float32)


def pure_tone(freq: float | str, *, duration: float = 2.0, sr: int = SR, amplitude: float = 0.5,
              phase: float = 0.0) -> np.ndarray:
    """A sine wave :math:`A \\sin(2\\pi f t + \\varphi)`; ``freq`` in Hz or a note name.

    Examples
    --------
    >>> pure_tone(440, duration=1.0).shape
    (22050,)
    """
    f = note_to_hz(freq)
    t = _time(duration, sr)
    return _finish(np.sin(2 * np.pi * f * t + phase), sr=sr, amplitude=amplitude)


def harmonic_tone(freq: float | str, *, harmonics: Sequence[float], phases: Sequence[float] | None = None,
                  duration: float = 2.0, sr: int = SR, amplitude: float = 0.5) -> np.ndarray:
    """Sum of harmonics ``k * freq`` with relative amplitudes ``harmonics[k - 1]``.

    Harmonics above the Nyquist frequency ``sr / 2`` are left out (no aliasing). ``phases``
    (radians, one per harmonic) changes the waveform's shape but not its sound.
    """
    f0 = note_to_hz(freq)
    t = _time(duration, sr)
    amplitudes = np.asarray(harmonics, dtype=np.float64)
    angles = np.zeros_like(amplitudes) if phases is None else np.asarray(phases, dtype=np.float64)
    if angles.shape != amplitudes.shape:
        raise ValueError(f"phases has {angles.size} values but harmonics has {amplitudes.size}")
    y = np.zeros_like(t)
    for k, (a, phi) in enumerate(zip(amplitudes, angles, strict=False), start=1):
        if k * f0 < sr / 2 and a != 0:
            y += a * np.sin(2 * np.pi * k * f0 * t + phi)
    return _finish(y, sr=sr, amplitude=amplitude)


def chord(notes: Iterable[float | str], *, duration: float = 2.0, sr: int = SR,
          amplitude: float = 0.5) -> np.ndarray:
    """Several pure tones at once; ``notes`` are frequencies in Hz or names (``["C4", "E4", "G4"]``).

    Explained in ``02_fft.ipynb``: a chord and a chirp can cover the same frequencies, yet one is
    simultaneous and the other sequential.
    """
    freqs = [note_to_hz(n) for n in notes]
    if not freqs:
        raise ValueError("chord needs at least one note")
    t = _time(duration, sr)
    y = cast(np.ndarray, sum(np.sin(2 * np.pi * f * t) for f in freqs))  # at least one note: an array
    return _finish(y, sr=sr, amplitude=amplitude)


def chirp(*, f0: float = 100.0, f1: float = 4000.0, duration: float = 2.0, sr: int = SR,
          amplitude: float = 0.5, method: str = "logarithmic") -> np.ndarray:
    """A sine sweep from ``f0`` to ``f1`` Hz (``method``: ``"linear"`` or ``"logarithmic"``)."""
    if method not in ("linear", "logarithmic"):
        raise ValueError(f"method must be 'linear' or 'logarithmic', got {method!r}")
    if not (0 < f0 < sr / 2 and 0 < f1 < sr / 2):
        raise ValueError(f"f0 and f1 must lie in (0, {sr / 2:g}) Hz, got {f0!r} and {f1!r}")
    t = _time(duration, sr)
    y = scipy.signal.chirp(t, f0=f0, t1=t[-1], f1=f1, method=method, phi=-90)
    return _finish(y, sr=sr, amplitude=amplitude)


def noise(*, duration: float = 2.0, sr: int = SR, amplitude: float = 0.5, seed: int = 0,
          band: tuple[float, float] | None = None) -> np.ndarray:
    """White Gaussian noise, or noise limited to ``band = (low, high)`` Hz (ideal FFT mask)."""
    t = _time(duration, sr)
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(t.size)
    if band is not None:
        low, high = band
        if not 0 <= low < high <= sr / 2:
            raise ValueError(f"band must satisfy 0 <= low < high <= {sr / 2:g}, got {band!r}")
        Y = np.fft.rfft(y)
        f = np.fft.rfftfreq(y.size, d=1.0 / sr)
        Y[(f < low) | (f > high)] = 0
        y = np.fft.irfft(Y, n=y.size)
    return _finish(y, sr=sr, amplitude=amplitude)


def pulse_train(period: int, *, duration: float = 1.0, sr: int = SR, amplitude: float = 0.5) -> np.ndarray:
    """Unit impulses every ``period`` samples (fundamental ``sr / period`` Hz), no fades.

    The simplest periodic sound: its spectrum is a comb of equal harmonics and its cepstrum
    peaks at quefrency ``period`` (``05_mfcc.ipynb``).
    """
    if not isinstance(period, (int, np.integer)) or period <= 0:
        raise ValueError(f"period must be a positive number of samples, got {period!r}")
    y = np.zeros(_time(duration, sr).size)
    y[::period] = 1.0
    return _finish(y, sr=sr, amplitude=amplitude, fade=False)


def vowel_like(freq: float | str = 110.0, *, formants: Sequence[float] = (700.0, 1200.0, 2600.0),
               bandwidths: Sequence[float] = (110.0, 120.0, 160.0), duration: float = 1.0,
               sr: int = SR, amplitude: float = 0.5) -> np.ndarray:
    """A source-filter "vowel": a (band-limited) pulse train at ``freq`` through two-pole
    resonators at the ``formants`` with the given ``bandwidths`` (Hz).

    The pulse train sets the pitch (fine ripple of the spectrum), the resonators set the
    envelope (timbre). The cepstrum separates the two (``05_mfcc.ipynb``).
    """
    f0 = note_to_hz(freq)
    if len(formants) != len(bandwidths):
        raise ValueError("formants and bandwidths must have the same length")
    t = _time(duration, sr)
    # band-limited pulse train: every harmonic of f0 below Nyquist, equal amplitude, in cosine phase
    y = np.zeros_like(t)
    for k in range(1, int((sr / 2) // f0) + 1):
        y += np.cos(2 * np.pi * k * f0 * t)
    for fc, bw in zip(formants, bandwidths, strict=False):
        if not 0 < fc < sr / 2:
            raise ValueError(f"formant {fc!r} Hz outside (0, {sr / 2:g})")
        r = np.exp(-np.pi * bw / sr)
        a = [1.0, -2 * r * np.cos(2 * np.pi * fc / sr), r * r]
        y = scipy.signal.lfilter([1.0 - r], a, y)
    return _finish(y, sr=sr, amplitude=amplitude)


def flute_like(freq: float | str = "A4", *, duration: float = 2.0, sr: int = SR, amplitude: float = 0.5,
               seed: int = 0) -> np.ndarray:
    """A soft, almost sinusoidal tone: strong fundamental, weak 2nd-3rd harmonics, slow vibrato,
    a little breath noise and a gentle attack."""
    f0 = note_to_hz(freq)
    t = _time(duration, sr)
    vibrato = 1 + 0.004 * np.sin(2 * np.pi * 5.0 * t)
    phase = 2 * np.pi * f0 * np.cumsum(vibrato) / sr
    y = np.sin(phase) + 0.12 * np.sin(2 * phase) + 0.04 * np.sin(3 * phase)
    rng = np.random.default_rng(seed)
    breath = scipy.signal.lfilter([0.05], [1, -0.9], rng.standard_normal(t.size))
    envelope = np.minimum(1.0, t / 0.08) * np.minimum(1.0, (t[-1] - t) / 0.15 + 1e-9)
    return _finish(envelope * (y + 0.3 * breath), sr=sr, amplitude=amplitude)


def plucked_string(freq: float | str = "A4", *, duration: float = 2.0, sr: int = SR,
                   amplitude: float = 0.5, decay: float = 1.2) -> np.ndarray:
    """A bright plucked string: sawtooth-like harmonics (amplitude ``1/k``) each decaying
    exponentially, the high ones faster, as in a Karplus-Strong string :cite:`karplus1983strong`.

    ``decay`` is the time (s) the fundamental takes to fall by a factor of e.
    """
    f0 = note_to_hz(freq)
    t = _time(duration, sr)
    y = np.zeros_like(t)
    k = 1
    while k * f0 < sr / 2:
        y += (1.0 / k) * np.exp(-t * k ** 0.7 / decay) * np.sin(2 * np.pi * k * f0 * t)
        k += 1
    return _finish(y, sr=sr, amplitude=amplitude)


def same_pitch_two_timbres(freq: float | str = "A3", *, duration: float = 2.0, sr: int = SR,
                           amplitude: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two notes at the same pitch with different timbre: ``(flute_like, plucked_string)``.

    Explained in ``01_waveform.ipynb``: the pitch is the same (same period in the waveform,
    same fundamental in the spectrum) but the harmonics and the envelope differ.
    """
    return (flute_like(freq, duration=duration, sr=sr, amplitude=amplitude, seed=seed),
            plucked_string(freq, duration=duration, sr=sr, amplitude=amplitude))


def _kick(n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    f = 45.0 + 110.0 * np.exp(-t / 0.03)           # pitch sweeps down from 155 Hz to 45 Hz
    return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.12)


def _snare(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / sr
    body = 0.4 * np.sin(2 * np.pi * 190.0 * t) * np.exp(-t / 0.05)
    rattle = scipy.signal.lfilter([1, -1], [1, -0.3], rng.standard_normal(n)) * np.exp(-t / 0.07)
    return body + 0.5 * rattle


def _hihat(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / sr
    b, a = scipy.signal.butter(4, 7000.0 / (sr / 2), btype="high")
    return scipy.signal.lfilter(b, a, rng.standard_normal(n)) * np.exp(-t / 0.015)


def _bass(freq: float, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    y = sum((1.0 / k) * np.sin(2 * np.pi * k * freq * t) for k in range(1, 6))
    return y * np.exp(-t / 0.25) * np.minimum(1.0, t / 0.005)


def drum_and_bass_loop(*, tempo: float = 100.0, bars: int = 1, sr: int = SR, seed: int = 0,
                       amplitude: float = 0.5, bass_notes: Sequence[str | float] = ("A1", "A1", "C2", "G1"),
                       ) -> np.ndarray:
    """A 4/4 loop: sine-sweep kick on beats 1 and 3, noise snare on 2 and 4, hi-hat on every
    eighth note and a bass line (one note of ``bass_notes`` per beat, cycled).

    Parameters
    ----------
    tempo : float
        Beats per minute; one bar lasts ``4 * 60 / tempo`` seconds (2.4 s at 100 BPM).
    bars : int
        Number of bars.
    seed : int
        Seed of the snare and hi-hat noise.

    Explained in ``03_stft.ipynb``: percussive hits are vertical lines in a spectrogram, the
    bass horizontal ones.
    """
    if not tempo > 0:
        raise ValueError(f"tempo must be positive, got {tempo!r}")
    if not isinstance(bars, (int, np.integer)) or bars <= 0:
        raise ValueError(f"bars must be a positive integer, got {bars!r}")
    rng = np.random.default_rng(seed)
    beat = 60.0 / tempo
    n_total = int(round(bars * 4 * beat * sr))
    y = np.zeros(n_total)
    bass = [note_to_hz(n) for n in bass_notes]

    def add(start_s: float, sound: np.ndarray, gain: float) -> None:
        i = int(round(start_s * sr))
        m = min(sound.size, n_total - i)
        y[i:i + m] += gain * sound[:m]

    for b in range(bars * 4):
        t0 = b * beat
        n_beat = int(round(beat * sr))
        add(t0, _kick(n_beat, sr) if b % 2 == 0 else _snare(n_beat, sr, rng), 1.0 if b % 2 == 0 else 0.6)
        add(t0, _bass(bass[b % len(bass)], n_beat, sr), 0.5)
        for half in (0.0, 0.5):
            add(t0 + half * beat, _hihat(int(0.1 * sr), sr, rng), 0.25)
    return _finish(y, sr=sr, amplitude=amplitude)
