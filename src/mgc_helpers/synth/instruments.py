"""Synthesis primitives: envelopes, oscillators, plucked strings, drums and effects.

Each function turns a few parameters into a numpy array; nothing loops over samples in Python.
Tones are made three ways:

* additive synthesis, read from a band-limited wavetable whose harmonic amplitudes come from a
  *recipe* (saw, square, organ drawbars, vowel formants ...), with a bright-to-dark crossfade that
  imitates a closing filter;
* frequency modulation {cite}`chowning1973fm` for electric piano, bells and vibraphone;
* the Karplus-Strong plucked string {cite}`karplus1983strong` for guitars, harp and upright bass.

Drums are shaped noise and pitch-swept sines. The effects are a biquad filter bank, waveshaping
distortion and a convolution reverb with a decaying noise impulse response.
Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import signal

#: Samples in one wavetable period (a power of two).
TABLE_SIZE = 4096
#: Highest harmonic any wavetable holds.
MAX_HARMONICS = 60


def midi_to_hz(midi: float | np.ndarray) -> float | np.ndarray:
    """Frequency of a MIDI note number (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69.0) / 12.0)


# --- envelopes ----------------------------------------------------------------------------------

def adsr(n_on: int, *, sr: int, attack: float = 0.005, decay: float = 0.2, sustain: float = 0.7,
         release: float = 0.05) -> np.ndarray:
    """Attack-decay-sustain-release envelope of a note held for ``n_on`` samples.

    The attack rises linearly over ``attack`` seconds, the decay falls exponentially (time constant
    ``decay``) towards the ``sustain`` level, and after the note ends the level falls linearly to
    zero over ``release`` seconds. ``sustain=0`` gives a percussive (piano, pluck) envelope.
    Envelopes are cached (notes on a rhythmic grid repeat the same lengths); the returned array
    is read-only.

    Returns
    -------
    np.ndarray, shape (n_on + round(release * sr),)

    Examples
    --------
    >>> env = adsr(100, sr=1000, attack=0.01, decay=0.02, sustain=0.5, release=0.05)
    >>> env.shape, float(env.max()) <= 1.0, float(env[-1])
    ((150,), True, 0.0)
    """
    return _adsr(int(n_on), int(sr), float(attack), float(decay), float(sustain), float(release))


@lru_cache(maxsize=128)
def _adsr(n_on: int, sr: int, attack: float, decay: float, sustain: float, release: float) -> np.ndarray:
    n_rel = max(1, int(round(release * sr)))
    t = _time(n_on + n_rel, sr)
    a = max(attack, 1.0 / sr)
    env = np.where(t < a, t / a, sustain + (1.0 - sustain) * np.exp(-(t - a) / max(decay, 1e-4)))
    level = env[n_on - 1] if n_on > 0 else 0.0
    env[n_on:] = level * (1.0 - np.arange(1, n_rel + 1) / n_rel)
    env.flags.writeable = False
    return env


_CLOCK: dict[int, np.ndarray] = {}


def _time(n: int, sr: int) -> np.ndarray:
    """``np.arange(n) / sr`` as a read-only view of one shared array per sample rate."""
    clock = _CLOCK.get(sr)
    if clock is None or len(clock) < n:
        clock = np.arange(max(n, 12 * sr)) / sr
        clock.flags.writeable = False
        _CLOCK[sr] = clock
    return clock[:n]


# --- wavetables ---------------------------------------------------------------------------------

_VOWELS = {  # formant frequencies (Hz) and relative gains, adult voice
    "a": ((730, 1090, 2440), (1.0, 0.5, 0.25)),
    "e": ((530, 1840, 2480), (1.0, 0.4, 0.25)),
    "i": ((300, 2200, 3000), (1.0, 0.25, 0.2)),
    "o": ((570, 840, 2410), (1.0, 0.6, 0.15)),
    "u": ((300, 870, 2240), (1.0, 0.35, 0.1)),
}


def _formants(freqs: np.ndarray, centres, gains, width: float) -> np.ndarray:
    out = np.full_like(freqs, 0.03)
    for fc, g in zip(centres, gains):
        out += g / (1.0 + ((freqs - fc) / (width + 0.06 * fc)) ** 2)
    return out


def harmonic_recipe(name: str, k: np.ndarray, f0: float) -> np.ndarray:
    """Amplitudes of harmonics ``k`` (1, 2, ...) of a tone with fundamental ``f0``.

    Recipes: ``sine``, ``saw``, ``square``, ``triangle``, ``organ`` (drawbars 1, 2, 3, 4, 6, 8),
    ``reed`` (weak even harmonics), ``nasal`` (a peak near the 4th harmonic), ``flute``,
    ``string`` (saw through body resonances), ``brass`` and ``vox_a`` ... ``vox_u`` (a glottal
    saw through vowel formants, which depend on ``f0``).
    """
    k = np.asarray(k, dtype=float)
    if name == "sine":
        return (k == 1).astype(float)
    if name == "saw":
        return 1.0 / k
    if name == "square":
        return np.where(k % 2 == 1, 1.0 / k, 0.0)
    if name == "triangle":
        return np.where(k % 2 == 1, 1.0 / k**2, 0.0)
    if name == "organ":
        bars = {1: 1.0, 2: 0.75, 3: 0.55, 4: 0.4, 6: 0.3, 8: 0.25, 10: 0.08}
        return np.array([bars.get(int(i), 0.0) for i in k])
    if name == "reed":
        return np.where(k % 2 == 1, 1.0, 0.35) / k
    if name == "nasal":
        return (1.0 + 2.5 * np.exp(-0.5 * ((k - 4.0) / 1.5) ** 2)) / k
    if name == "flute":
        return np.where(k == 1, 1.0, 0.2 / k**2)
    if name == "string":
        return _formants(k * f0, (280, 1100, 2800), (1.0, 0.8, 0.5), 150.0) / k**0.8
    if name == "brass":
        return 1.0 / k**0.75
    if name.startswith("vox_"):
        centres, gains = _VOWELS[name[4:]]
        return _formants(k * f0, centres, gains, 60.0) / k**0.5
    raise ValueError(f"unknown harmonic recipe {name!r}")


@lru_cache(maxsize=512)
def wavetable(recipe: str, rolloff: float, n_harmonics: int, f0_key: int = 0) -> np.ndarray:
    """One period of a band-limited tone, ``TABLE_SIZE`` samples, peak 1 (read-only).

    Harmonic ``k`` gets ``recipe(k) * k ** -rolloff``: a larger ``rolloff`` is a darker tone.
    ``f0_key`` (Hz, rounded) only matters for recipes that depend on the pitch (formants).
    """
    k = np.arange(1, n_harmonics + 1)
    amps = harmonic_recipe(recipe, k, float(f0_key)) * k ** (-float(rolloff))
    spectrum = np.zeros(TABLE_SIZE // 2 + 1, dtype=complex)
    spectrum[k] = -1j * amps  # sines
    table = np.fft.irfft(spectrum, n=TABLE_SIZE)
    table /= max(np.abs(table).max(), 1e-12)
    table.flags.writeable = False
    return table


def _phase_index(freq: float | np.ndarray, n: int, sr: int, phase0: float) -> np.ndarray:
    """Wavetable index of each sample (the phase in table steps, wrapped)."""
    if np.ndim(freq) == 0:
        steps = (phase0 + float(freq) * _time(n, sr)) * TABLE_SIZE
    else:
        steps = (phase0 + np.cumsum(freq) / sr) * TABLE_SIZE
    return steps.astype(np.int64) & (TABLE_SIZE - 1)


def _table_for(recipe: str, rolloff: float, f_top: float, sr: int) -> np.ndarray:
    n_harm = int(np.clip(0.45 * sr / max(f_top, 1.0), 1, MAX_HARMONICS))
    f0_key = int(round(f_top)) if recipe.startswith(("vox_", "string")) else 0
    return wavetable(recipe, round(float(rolloff), 2), n_harm, f0_key)


def oscillator(recipe: str, freq: float | np.ndarray, n: int, *, sr: int, rolloff: float = 0.0,
               phase0: float = 0.0) -> np.ndarray:
    """Additive tone read from a wavetable; ``freq`` is a constant or one value per sample (Hz).

    Examples
    --------
    >>> y = oscillator("sine", 441.0, 22050, sr=22050)
    >>> int(np.argmax(np.abs(np.fft.rfft(y))))
    441
    """
    f_top = float(np.max(freq))
    return _table_for(recipe, rolloff, f_top, sr)[_phase_index(freq, n, sr, phase0)]


# --- FM and plucked strings ---------------------------------------------------------------------

def fm_tone(f0: float, n: int, *, sr: int, ratio: float = 1.0, index: float = 1.0,
            index_decay: float = 0.5, index_floor: float = 0.1) -> np.ndarray:
    """Chowning FM: ``sin(2 pi f0 t + I(t) sin(2 pi ratio f0 t))`` with a decaying index ``I(t)``.

    A ratio of 1 gives all harmonics (electric piano); a non-integer ratio (3.5) gives the
    inharmonic partials of a bell {cite}`chowning1973fm`.
    """
    t = np.arange(n) / sr
    index_t = index * (index_floor + (1.0 - index_floor) * np.exp(-t / max(index_decay, 1e-3)))
    return np.sin(2 * np.pi * f0 * t + index_t * np.sin(2 * np.pi * ratio * f0 * t))


def karplus_strong(f0: float, n: int, *, sr: int, t60: float = 1.5, brightness: float = 0.5,
                   pick: float = 0.2, rng: np.random.Generator) -> np.ndarray:
    """Plucked string {cite}`karplus1983strong`: a noise burst circulating in a damped delay line.

    The string is the recursion

    ``y[m] = x[m] + g (c0 y[m-N] + c1 y[m-N-1] + c2 y[m-N-2])``

    where ``x`` is one period of filtered noise (the pluck), ``(c0, c1, c2) = ((1-a)/2, 1/2, a/2)``
    is Karplus and Strong's two-point average (a low-pass: high harmonics die first) combined with
    a linear-interpolation fractional delay ``a``, so the loop delay ``N + 1/2 + a`` equals
    ``sr / f0`` exactly, and ``g`` makes the fundamental decay by 60 dB in ``t60`` seconds.

    No sample loop is needed: each output sample depends only on samples at least ``N`` earlier,
    so a whole block of ``N`` samples is computed at once from the previous ones. Substituting the
    recursion into itself ``K`` times gives a kernel of ``2K + 1`` taps at delay ``K N``, so blocks
    of ``K N`` samples (a few hundred) are computed per step even for high notes.

    Parameters
    ----------
    f0 : float
        Fundamental frequency in Hz.
    n : int
        Number of samples.
    t60 : float
        Decay time of the fundamental (s).
    brightness : float
        0..1, how much high frequency the pluck (the initial noise burst) holds.
    pick : float
        Picking position as a fraction of the string (a comb notch; 0 switches it off).

    Examples
    --------
    >>> y = karplus_strong(220.0, 22050, sr=22050, rng=np.random.default_rng(0))
    >>> spectrum = np.abs(np.fft.rfft(y))  # 1-Hz bins
    >>> int(200 + np.argmax(spectrum[200:240]))
    220
    """
    period = sr / f0
    N = max(2, int(period - 0.5))
    a = period - 0.5 - N
    burst = rng.uniform(-1.0, 1.0, N)
    lp = float(np.clip(1.0 - brightness, 0.0, 0.98))
    burst = signal.lfilter([1.0 - lp], [1.0, -lp], burst)
    if pick > 0:
        shift = max(1, int(round(pick * N)))
        burst[shift:] -= burst[:-shift].copy()
    burst -= burst.mean()
    g = 10.0 ** (-3.0 / (t60 * f0))
    h = g * np.array([(1.0 - a) / 2.0, 0.5, a / 2.0])
    K = 1
    hk = h
    while K * N < 256 and K < 16:  # kernel of the recursion applied K times
        hk = np.convolve(hk, hk)
        K *= 2
    pad = 2 * K  # zeros before the pluck, so every block can look back far enough
    y = np.zeros(pad + max(n, N))
    y[pad:pad + N] = burst
    switch = pad + K * (N + 2)
    _ks_blocks(y, start=pad + N, stop=min(len(y), switch), block=N, kernel=h)
    _ks_blocks(y, start=switch, stop=len(y), block=K * N, kernel=hk)
    y = y[pad:pad + n]
    return y / max(np.abs(y).max(), 1e-12)


def _ks_blocks(y: np.ndarray, *, start: int, stop: int, block: int, kernel: np.ndarray) -> None:
    """In place: ``y[m] = sum_i kernel[i] y[m - block - i]`` for ``start <= m < stop``, a block at a time."""
    taps = len(kernel) - 1
    for s in range(start, stop, block):
        e = min(s + block, stop)
        y[s:e] = np.convolve(y[s - block - taps:e - block], kernel, mode="valid")


# --- instruments --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Instrument:
    """Parameters of one synthetic instrument.

    ``kind`` is ``"wave"`` (wavetable additive tone), ``"fm"`` or ``"ks"`` (Karplus-Strong).
    Envelope: ``attack``, ``decay``, ``sustain``, ``release`` (see :func:`adsr`). Wavetable tone:
    ``recipe`` and ``bright``/``dark`` rolloffs crossfaded with time constant ``bright_tau``
    (0: no crossfade), ``vibrato`` (rate Hz, depth semitones, onset delay s), ``detune`` (cents of
    a second unison voice), ``breath`` (noise level), ``bend`` (semitones scooped into each note).
    FM: ``fm_ratio``, ``fm_index``, ``fm_decay``. Plucked string: ``t60``, ``ks_bright``, ``pick``.
    ``drive`` is the distortion of the part's bus (0 clean, 1 metal) and ``level`` a trim in dB.
    """

    kind: str = "wave"
    recipe: str = "saw"
    attack: float = 0.005
    decay: float = 0.3
    sustain: float = 0.7
    release: float = 0.06
    bright: float = 0.3
    dark: float = 1.5
    bright_tau: float = 0.0
    vibrato: tuple[float, float, float] = (5.0, 0.0, 0.2)
    detune: float = 0.0
    breath: float = 0.0
    bend: float = 0.0
    fm_ratio: float = 1.0
    fm_index: float = 1.0
    fm_decay: float = 0.5
    t60: float = 1.5
    ks_bright: float = 0.5
    pick: float = 0.2
    drive: float = 0.0
    level: float = 0.0


_W = Instrument
#: The instrument palette, by name (the styles refer to these names).
INSTRUMENTS: dict[str, Instrument] = {
    # basses
    "bass_finger": _W("ks", t60=1.2, ks_bright=0.35, pick=0.3, release=0.04, level=2),
    "bass_pick": _W("ks", t60=1.0, ks_bright=0.7, pick=0.15, release=0.03, drive=0.15, level=2),
    "upright": _W("ks", t60=0.8, ks_bright=0.2, pick=0.4, release=0.05, level=3),
    "bass_synth": _W("wave", "saw", attack=0.004, decay=0.15, sustain=0.5, bright=0.6, dark=2.2,
                     bright_tau=0.08, release=0.03),
    "bass_sub": _W("wave", "sine", attack=0.006, decay=0.8, sustain=0.6, release=0.08, bend=-0.5,
                   level=3),
    "bass_round": _W("wave", "triangle", attack=0.01, decay=0.4, sustain=0.7, dark=2.0, release=0.06,
                     level=3),
    "cello": _W("wave", "string", attack=0.08, decay=0.5, sustain=0.85, bright=0.6,
                vibrato=(5.0, 0.12, 0.25), release=0.2, level=0),
    "piano_low": _W("wave", "saw", attack=0.002, decay=1.2, sustain=0.0, bright=0.8, dark=2.5,
                    bright_tau=0.3, release=0.2),
    # keys
    "piano": _W("wave", "saw", attack=0.002, decay=0.9, sustain=0.0, bright=0.6, dark=2.4,
                bright_tau=0.25, release=0.15, detune=3.0),
    "piano_high": _W("wave", "saw", attack=0.002, decay=0.7, sustain=0.0, bright=0.7, dark=2.4,
                     bright_tau=0.2, release=0.2, detune=3.0),
    "epiano": _W("fm", fm_ratio=1.0, fm_index=1.6, fm_decay=0.35, attack=0.002, decay=1.0,
                 sustain=0.0, release=0.15),
    "bell": _W("fm", fm_ratio=3.5, fm_index=2.0, fm_decay=0.8, attack=0.001, decay=1.2, sustain=0.0,
               release=0.3, level=-2),
    "vibes": _W("fm", fm_ratio=4.0, fm_index=0.8, fm_decay=0.3, attack=0.001, decay=1.4,
                sustain=0.0, release=0.4, vibrato=(5.5, 0.0, 0.0)),
    "clav": _W("wave", "nasal", attack=0.001, decay=0.15, sustain=0.0, bright=0.2, dark=1.8,
               bright_tau=0.05, release=0.03),
    "organ": _W("wave", "organ", attack=0.01, decay=0.1, sustain=1.0, release=0.05, detune=4.0,
                vibrato=(6.5, 0.05, 0.0)),
    "organ_soft": _W("wave", "organ", attack=0.05, decay=0.1, sustain=1.0, bright=1.0, release=0.1),
    "organ_skank": _W("wave", "organ", attack=0.004, decay=0.08, sustain=0.6, release=0.03),
    "organ_lead": _W("wave", "organ", attack=0.01, decay=0.2, sustain=0.9, vibrato=(6.0, 0.08, 0.1)),
    "harp": _W("ks", t60=2.0, ks_bright=0.4, pick=0.5, release=0.3),
    # guitars
    "guitar_clean": _W("ks", t60=1.4, ks_bright=0.55, pick=0.2, release=0.06),
    "guitar_acoustic": _W("ks", t60=1.6, ks_bright=0.65, pick=0.15, release=0.08),
    "guitar_twang": _W("ks", t60=1.2, ks_bright=0.85, pick=0.1, release=0.05),
    "guitar_twang_lead": _W("ks", t60=1.0, ks_bright=0.9, pick=0.1, release=0.06, drive=0.1),
    "guitar_scratch": _W("ks", t60=0.25, ks_bright=0.8, pick=0.1, release=0.02),
    "guitar_skank": _W("ks", t60=0.3, ks_bright=0.7, pick=0.15, release=0.02),
    "guitar_jazz": _W("ks", t60=1.2, ks_bright=0.25, pick=0.35, release=0.08),
    "guitar_blues": _W("wave", "saw", attack=0.003, decay=0.5, sustain=0.5, bright=0.4, dark=1.6,
                       bright_tau=0.2, bend=-1.0, vibrato=(5.5, 0.2, 0.15), drive=0.4),
    "guitar_crunch": _W("wave", "saw", attack=0.003, decay=0.5, sustain=0.6, bright=0.5, dark=1.4,
                        bright_tau=0.15, detune=6.0, drive=0.45),
    "guitar_metal": _W("wave", "saw", attack=0.002, decay=0.3, sustain=0.7, bright=0.3, dark=1.0,
                       bright_tau=0.1, detune=9.0, drive=0.95, level=-1),
    "guitar_lead": _W("wave", "saw", attack=0.004, decay=0.6, sustain=0.75, bright=0.4, dark=1.2,
                      bright_tau=0.3, bend=-0.7, vibrato=(6.0, 0.25, 0.12), drive=0.8),
    "steel": _W("wave", "triangle", attack=0.02, decay=0.8, sustain=0.6, bend=-1.0,
                vibrato=(5.0, 0.15, 0.1), release=0.2),
    "steel_pad": _W("wave", "triangle", attack=0.2, decay=0.8, sustain=0.8, release=0.3,
                    vibrato=(5.0, 0.08, 0.1)),
    # strings, winds, brass
    "strings": _W("wave", "string", attack=0.25, decay=0.5, sustain=0.9, release=0.35, bright=0.7,
                  detune=8.0, vibrato=(5.5, 0.07, 0.2)),
    "strings_soft": _W("wave", "string", attack=0.4, decay=0.5, sustain=0.9, release=0.5, bright=1.2,
                       detune=6.0, vibrato=(5.0, 0.05, 0.3)),
    "strings_lead": _W("wave", "string", attack=0.05, decay=0.5, sustain=0.85, release=0.15,
                       bright=0.5, detune=7.0, vibrato=(6.0, 0.12, 0.15)),
    "violin": _W("wave", "string", attack=0.06, decay=0.5, sustain=0.85, release=0.12, bright=0.45,
                 vibrato=(5.8, 0.2, 0.18)),
    "fiddle": _W("wave", "string", attack=0.03, decay=0.4, sustain=0.8, release=0.08, bright=0.35,
                 vibrato=(6.0, 0.15, 0.1), bend=-0.4),
    "flute": _W("wave", "flute", attack=0.05, decay=0.3, sustain=0.85, release=0.1, breath=0.08,
                vibrato=(5.0, 0.1, 0.2)),
    "oboe": _W("wave", "nasal", attack=0.04, decay=0.3, sustain=0.85, release=0.08, bright=0.7,
               vibrato=(5.5, 0.1, 0.2)),
    "sax": _W("wave", "reed", attack=0.03, decay=0.4, sustain=0.8, release=0.06, bright=0.3, dark=1.0,
              bright_tau=0.4, breath=0.05, bend=-0.5, vibrato=(5.0, 0.12, 0.2)),
    "trumpet": _W("wave", "brass", attack=0.04, decay=0.3, sustain=0.8, release=0.05, bright=0.2,
                  dark=1.0, bright_tau=0.25, vibrato=(5.5, 0.08, 0.2)),
    "harmonica": _W("wave", "reed", attack=0.03, decay=0.4, sustain=0.8, release=0.05, bright=0.2,
                    breath=0.06, bend=-1.0, vibrato=(6.0, 0.2, 0.1)),
    "melodica": _W("wave", "nasal", attack=0.02, decay=0.3, sustain=0.85, release=0.05, bright=0.4,
                   breath=0.03),
    # synths and voices
    "synth_pad": _W("wave", "saw", attack=0.3, decay=0.5, sustain=0.9, release=0.4, bright=1.2,
                    detune=12.0),
    "supersaw": _W("wave", "saw", attack=0.08, decay=0.5, sustain=0.9, release=0.3, bright=0.5,
                   detune=18.0, level=-2),
    "synth_pluck": _W("wave", "square", attack=0.002, decay=0.18, sustain=0.0, bright=0.2, dark=2.0,
                      bright_tau=0.06, release=0.05),
    "synth_lead": _W("wave", "square", attack=0.01, decay=0.3, sustain=0.8, release=0.06, bright=0.4,
                     detune=6.0, vibrato=(5.5, 0.1, 0.25)),
    "vox": _W("wave", "vox", attack=0.04, decay=0.3, sustain=0.85, release=0.08, breath=0.03,
              vibrato=(5.2, 0.18, 0.2), bend=-0.3),
    "vox_rap": _W("wave", "vox", attack=0.01, decay=0.12, sustain=0.5, release=0.03, breath=0.12,
                  bend=-1.5),
    "vox_scream": _W("wave", "vox", attack=0.02, decay=0.3, sustain=0.9, release=0.05, breath=0.25,
                     vibrato=(6.5, 0.3, 0.05), drive=0.6),
}
del _W


def render_note(inst: Instrument, midi: float, duration: float, *, sr: int, rng: np.random.Generator,
                velocity: float = 1.0, cache: dict | None = None) -> np.ndarray:
    """One note of ``inst``: ``duration`` seconds held plus the release, peak about ``velocity``.

    ``cache`` (a dict kept for one clip) stores plucked strings by pitch, so that repeated notes
    are computed only once.

    Examples
    --------
    >>> y = render_note(INSTRUMENTS["piano"], 60, 0.5, sr=22050, rng=np.random.default_rng(0))
    >>> y.shape, bool(np.abs(y).max() <= 1.0)
    ((14333,), True)
    """
    f0 = float(midi_to_hz(midi))
    n_on = max(1, int(round(duration * sr)))
    env = adsr(n_on, sr=sr, attack=inst.attack, decay=inst.decay, sustain=inst.sustain,
               release=inst.release)
    n = len(env)
    if inst.kind == "ks":
        key = (round(float(midi), 2), inst.t60, inst.ks_bright, inst.pick)
        tone = None if cache is None else cache.get(key)
        if tone is None or len(tone) < n:
            tone = karplus_strong(f0, max(n, sr // 2), sr=sr, t60=inst.t60, brightness=inst.ks_bright,
                                  pick=inst.pick, rng=rng)
            if cache is not None:
                cache[key] = tone
        y = velocity * tone[:n]
        y[n_on:] *= env[n_on:] / max(env[n_on - 1], 1e-9)
        return y
    t = _time(n, sr)
    if inst.kind == "fm":
        y = fm_tone(f0, n, sr=sr, ratio=inst.fm_ratio, index=inst.fm_index, index_decay=inst.fm_decay)
        return (velocity * env) * y
    rate, depth, delay = inst.vibrato
    freq: float | np.ndarray = f0
    if depth > 0 or inst.bend != 0:
        semis = np.zeros(n)
        if depth > 0:
            semis += depth * np.clip((t - delay) / 0.2, 0.0, 1.0) * np.sin(2 * np.pi * rate * t)
        if inst.bend != 0:
            m = min(n, int(0.3 * sr))
            semis[:m] += inst.bend * np.exp(-t[:m] / 0.06)
        freq = f0 * 2.0 ** (semis / 12.0)
    recipe = inst.recipe
    if recipe == "vox":
        recipe = "vox_" + "aeiou"[int(rng.integers(5))]
    f_top = f0 * 2.0 ** (max(depth, 0.0) / 12.0)
    idx = _phase_index(freq, n, sr, float(rng.random()))
    y = _table_for(recipe, inst.bright, f_top, sr)[idx]
    if inst.bright_tau > 0:
        dark = _table_for(recipe, inst.dark, f_top, sr)[idx]
        m = min(n, int(5 * inst.bright_tau * sr))
        dark[:m] += np.exp(-t[:m] / inst.bright_tau) * (y[:m] - dark[:m])
        y = dark
    if inst.detune > 0:
        ratio = 2.0 ** (inst.detune / 1200.0)
        idx2 = _phase_index(freq * ratio, n, sr, float(rng.random()))
        y = 0.5 * (y + _table_for(recipe, inst.bright, f_top * ratio, sr)[idx2])
    if inst.breath > 0:
        y = y + inst.breath * signal.lfilter([0.3], [1.0, -0.7], rng.standard_normal(n))
    return (velocity * env) * y


# --- drums --------------------------------------------------------------------------------------

def drum_hit(voice: str, *, sr: int, variant: int = 0, tune: float = 1.0, decay: float | None = None,
             tone: float = 0.5, click: float = 0.3, bright: float = 1.0) -> np.ndarray:
    """One drum sound, peak 1 (read-only; cached, as the same hits recur throughout a clip).

    Voices: ``kick`` (pitch-swept sine and a click), ``snare`` (band-passed noise and a tone),
    ``brush`` (soft long noise), ``rim``, ``clap`` (three noise bursts), ``hat``, ``open_hat``,
    ``shaker``, ``ride``, ``crash`` (noise and metallic square partials, as in analogue drum
    machines). ``tune`` scales pitches, ``decay`` overrides the decay time (s), ``tone`` mixes
    tone against noise in the snare, ``click`` the kick's beater, ``bright`` the noise cut-offs.
    ``variant`` picks one of several takes (different noise), so repeated hits are not identical.

    Examples
    --------
    >>> kick = drum_hit("kick", sr=22050)
    >>> float(np.abs(kick).max())
    1.0
    """
    return _drum_hit(voice, int(sr), int(variant), round(float(tune), 3),
                     None if decay is None else round(float(decay), 4), round(float(tone), 3),
                     round(float(click), 3), round(float(bright), 3))


@lru_cache(maxsize=96)
def _drum_hit(voice: str, sr: int, variant: int, tune: float, decay: float | None, tone: float,
              click: float, bright: float) -> np.ndarray:
    defaults = {"kick": 0.25, "snare": 0.14, "brush": 0.2, "rim": 0.04, "clap": 0.12, "hat": 0.04,
                "open_hat": 0.3, "shaker": 0.05, "ride": 0.9, "crash": 1.4}
    if voice not in defaults:
        raise ValueError(f"unknown drum voice {voice!r}; choose one of {sorted(defaults)}")
    tau = defaults[voice] if decay is None else decay
    n = int(sr * min(4.6 * tau + 0.02, 2.0))
    t = _time(n, sr)
    key = [zlib.crc32(voice.encode()), variant, int(tune * 1000), int(1e4 * (decay or 0)), int(tone * 1000),
           int(click * 1000), int(bright * 1000)]
    noise = np.random.default_rng(np.random.SeedSequence(key)).standard_normal(n)
    nyq = 0.45 * sr
    if voice == "kick":
        f = 45 * tune + 110 * tune * np.exp(-t / 0.03)
        y = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / tau)
        y += click * _filt(noise, "highpass", 1500, sr) * np.exp(-t / 0.004)
    elif voice == "snare":
        body = np.sin(2 * np.pi * 185 * tune * t) * np.exp(-t / 0.05)
        rattle = _filt(noise, "bandpass", (1200.0, min(6500 * bright, nyq)), sr) * np.exp(-t / tau)
        y = tone * body + (1 - tone) * 2.0 * rattle
    elif voice == "brush":
        y = _filt(noise, "bandpass", (900.0, min(5000 * bright, nyq)), sr) * np.minimum(t / 0.02, 1) \
            * np.exp(-t / tau)
    elif voice == "rim":
        y = np.sin(2 * np.pi * 1700 * tune * t) * np.exp(-t / tau) \
            + 0.5 * _filt(noise, "highpass", 2000, sr) * np.exp(-t / 0.008)
    elif voice == "clap":
        bursts = sum(np.exp(-np.clip(t - d, 0, None) / 0.006) * (t >= d) for d in (0.0, 0.011, 0.022))
        y = _filt(noise, "bandpass", (900.0, min(3000 * bright, nyq)), sr) * (
            bursts + 0.6 * (t >= 0.03) * np.exp(-np.clip(t - 0.03, 0, None) / tau))
    else:  # metallic voices
        partials = np.array([205.3, 304.4, 369.6, 522.7, 540.0, 800.0]) * tune
        metal = np.sign(np.sin(2 * np.pi * partials[:, None] * t)).sum(axis=0) / 6.0
        cutoff = {"hat": 7000, "open_hat": 6500, "shaker": 5000, "ride": 4500, "crash": 3500}[voice]
        mix = {"hat": 0.4, "open_hat": 0.4, "shaker": 0.0, "ride": 0.7, "crash": 0.3}[voice]
        source = mix * metal + (1 - mix) * noise
        y = _filt(source, "highpass", min(cutoff * bright, nyq), sr)
        attack = np.minimum(t / (0.012 if voice == "shaker" else 0.001), 1.0)
        y *= attack * np.exp(-t / tau)
        if voice == "ride":
            y += 0.3 * np.sin(2 * np.pi * 3100 * tune * t) * np.exp(-t / 0.5)
    y = y / max(np.abs(y).max(), 1e-12)
    y.flags.writeable = False
    return y


# --- effects ------------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _sos(kind: str, cutoff, sr: int, order: int):
    return signal.butter(order, cutoff, btype=kind, fs=sr, output="sos")


def _filt(x: np.ndarray, kind: str, cutoff, sr: int, order: int = 2) -> np.ndarray:
    if isinstance(cutoff, tuple):
        cutoff = tuple(round(float(c), 1) for c in cutoff)
    else:
        cutoff = round(float(cutoff), 1)
    return signal.sosfilt(_sos(kind, cutoff, sr, order), x)


def lowpass(x: np.ndarray, cutoff: float, *, sr: int, order: int = 2) -> np.ndarray:
    """Butterworth low-pass filter (``cutoff`` in Hz)."""
    return _filt(x, "lowpass", min(cutoff, 0.45 * sr), sr, order)


def highpass(x: np.ndarray, cutoff: float, *, sr: int, order: int = 2) -> np.ndarray:
    """Butterworth high-pass filter (``cutoff`` in Hz)."""
    return _filt(x, "highpass", cutoff, sr, order)


def distortion(x: np.ndarray, drive: float, *, sr: int) -> np.ndarray:
    """Waveshaping distortion: ``tanh`` of the signal boosted by up to 40 dB, then a cabinet low-pass.

    ``drive`` goes from 0 (clean) to 1 (metal). The output keeps roughly the input's peak.
    """
    if drive <= 0:
        return x
    peak = max(np.abs(x).max(), 1e-12)
    gain = 10.0 ** (2.0 * drive)
    y = np.tanh(gain * x / peak)
    return peak * lowpass(y, 6500 - 2500 * drive, sr=sr, order=2)


def reverb(x: np.ndarray, *, sr: int, rt60: float, wet: float, rng: np.random.Generator,
           damping: float = 5000.0, predelay: float = 0.015) -> np.ndarray:
    """Convolution reverb with a synthetic impulse response: low-passed noise decaying 60 dB in ``rt60``.

    Returns the dry signal plus ``wet`` times the reverberated one. The reverberation is dull
    (``damping`` low-pass), so it is computed at half the sample rate and interpolated back:
    half the FFT work for an inaudible difference.

    Examples
    --------
    >>> x = np.zeros(22050); x[0] = 1.0
    >>> y = reverb(x, sr=22050, rt60=0.5, wet=0.5, rng=np.random.default_rng(0))
    >>> bool(abs(y[0] - 1.0) < 1e-6 and np.abs(y[1000:5000]).max() > 0.01)
    True
    """
    if wet <= 0:
        return x
    sr2 = sr // 2
    x2 = (0.5 * (x[0:len(x) - 1:2] + x[1::2])).astype(np.float32)
    n_ir = int(rt60 * sr2)
    t = _time(n_ir, sr2)
    ir = lowpass(rng.standard_normal(n_ir), min(damping, 0.45 * sr2), sr=sr2) * np.exp(-6.9 * t / rt60)
    ir = np.concatenate([np.zeros(int(predelay * sr2)), ir / np.sqrt(np.sum(ir**2))]).astype(np.float32)
    wet2 = signal.fftconvolve(x2, ir)[: len(x2)]
    up = np.empty(len(x))
    up[0:2 * len(wet2):2] = wet2
    up[1:2 * len(wet2):2] = 0.5 * (wet2 + np.append(wet2[1:], 0.0))
    if len(x) % 2:
        up[-1] = wet2[-1] if len(wet2) else 0.0
    return x + wet * up


def high_shelf(freq: float, gain_db: float, *, sr: int) -> np.ndarray:
    """Second-order high-shelf filter (RBJ audio-EQ cookbook) as one ``sos`` row: tilts the spectrum."""
    A = 10.0 ** (gain_db / 40.0)
    w0 = 2 * np.pi * freq / sr
    alpha = np.sin(w0) / 2 * np.sqrt(2.0)
    cw, sa = np.cos(w0), 2 * np.sqrt(A) * alpha
    b = np.array([A * ((A + 1) + (A - 1) * cw + sa), -2 * A * ((A - 1) + (A + 1) * cw),
                  A * ((A + 1) + (A - 1) * cw - sa)])
    a = np.array([(A + 1) - (A - 1) * cw + sa, 2 * ((A - 1) - (A + 1) * cw), (A + 1) - (A - 1) * cw - sa])
    return np.concatenate([b / a[0], a / a[0]])[None, :]


def echo(x: np.ndarray, *, sr: int, delay: float, feedback: float, repeats: int = 4) -> np.ndarray:
    """Tape-style echo: ``repeats`` copies delayed by ``delay`` s, each ``feedback`` times quieter."""
    y = x.copy()
    d = int(delay * sr)
    for r in range(1, repeats + 1):
        if r * d >= len(x):
            break
        y[r * d:] += feedback**r * x[: len(x) - r * d]
    return y
