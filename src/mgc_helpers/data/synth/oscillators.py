"""Tone generators: wavetable oscillators, FM and the Karplus-Strong plucked string.

Each function turns a few parameters into a numpy array; nothing loops over samples in Python.
Tones are made three ways:

* additive synthesis, read from a band-limited wavetable whose harmonic amplitudes come from a
  *recipe* (saw, square, organ drawbars, vowel formants ...);
* frequency modulation {cite}`chowning1973fm` for electric piano, bells and vibraphone;
* the Karplus-Strong plucked string {cite}`karplus1983strong` for guitars, harp and upright bass.

:mod:`~mgc_helpers.data.synth.instruments` combines them into notes. Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import signal

#: Samples in one wavetable period (a power of two).
TABLE_SIZE = 4096
#: Highest harmonic any wavetable holds.
MAX_HARMONICS = 60
#: Highest harmonic frequency of a wavetable tone, as a fraction of the sample rate.
BAND_LIMIT = 0.45

_CLOCK: dict[int, np.ndarray] = {}


def midi_to_hz(midi: float | np.ndarray) -> np.ndarray:
    """Frequency of a MIDI note number (A4 = 69 = 440 Hz).

    Examples
    --------
    >>> float(midi_to_hz(69)), float(midi_to_hz(81))
    (440.0, 880.0)

    Explained in ``06_dataset.ipynb``.
    """
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69.0) / 12.0)


def clock(n: int, sr: int) -> np.ndarray:
    """``np.arange(n) / sr`` as a read-only view of one shared array per sample rate.

    Examples
    --------
    >>> clock(3, 2).tolist()
    [0.0, 0.5, 1.0]

    Explained in ``06_dataset.ipynb``.
    """
    times = _CLOCK.get(sr)
    if times is None or len(times) < n:
        times = np.arange(max(n, 12 * sr)) / sr
        times.flags.writeable = False
        _CLOCK[sr] = times
    return times[:n]


# --- wavetables ---------------------------------------------------------------------------------

_VOWELS = {  # formant frequencies (Hz) and relative gains, adult voice
    "a": ((730, 1090, 2440), (1.0, 0.5, 0.25)),
    "e": ((530, 1840, 2480), (1.0, 0.4, 0.25)),
    "i": ((300, 2200, 3000), (1.0, 0.25, 0.2)),
    "o": ((570, 840, 2410), (1.0, 0.6, 0.15)),
    "u": ((300, 870, 2240), (1.0, 0.35, 0.1)),
}


def _formants(freqs: np.ndarray, centres: Sequence[float], gains: Sequence[float],
              width: float) -> np.ndarray:
    """Resonance curve with peaks of ``gains`` at ``centres`` Hz (vowel formants, string body)."""
    out = np.full_like(freqs, 0.03)
    for fc, g in zip(centres, gains, strict=True):
        out += g / (1.0 + ((freqs - fc) / (width + 0.06 * fc)) ** 2)
    return out


def harmonic_recipe(name: str, k: np.ndarray, f0: float) -> np.ndarray:
    """Amplitudes of harmonics ``k`` (1, 2, ...) of a tone with fundamental ``f0``.

    Recipes: ``sine``, ``saw``, ``square``, ``triangle``, ``organ`` (drawbars 1, 2, 3, 4, 6, 8),
    ``reed`` (weak even harmonics), ``nasal`` (a peak near the 4th harmonic), ``flute``,
    ``string`` (saw through body resonances), ``brass`` and ``vox_a`` ... ``vox_u`` (a glottal
    saw through vowel formants, which depend on ``f0``).

    Explained in ``06_dataset.ipynb``.
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

    Explained in ``06_dataset.ipynb``.
    """
    k = np.arange(1, n_harmonics + 1)
    amps = harmonic_recipe(recipe, k, float(f0_key)) * k ** (-float(rolloff))
    spectrum = np.zeros(TABLE_SIZE // 2 + 1, dtype=complex)
    spectrum[k] = -1j * amps  # sines
    table = np.fft.irfft(spectrum, n=TABLE_SIZE)
    table /= max(np.abs(table).max(), 1e-12)
    table.flags.writeable = False
    return table


def phase_index(freq: float | np.ndarray, n: int, sr: int, phase0: float) -> np.ndarray:
    """Wavetable index of each sample (the phase in table steps, wrapped).

    ``freq`` is a constant or one value per sample (Hz); ``phase0`` the start phase in periods.
    Explained in ``06_dataset.ipynb``.
    """
    if np.ndim(freq) == 0:
        steps = (phase0 + float(freq) * clock(n, sr)) * TABLE_SIZE
    else:
        steps = (phase0 + np.cumsum(freq) / sr) * TABLE_SIZE
    return steps.astype(np.int64) & (TABLE_SIZE - 1)


def table_for(recipe: str, rolloff: float, f_top: float, sr: int) -> np.ndarray:
    """The wavetable of ``recipe`` with as many harmonics as stay below :data:`BAND_LIMIT` at ``f_top`` Hz.

    Explained in ``06_dataset.ipynb``.
    """
    n_harm = int(np.clip(BAND_LIMIT * sr / max(f_top, 1.0), 1, MAX_HARMONICS))
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

    Explained in ``06_dataset.ipynb``.
    """
    f_top = float(np.max(freq))
    return table_for(recipe, rolloff, f_top, sr)[phase_index(freq, n, sr, phase0)]


# --- FM and plucked strings ---------------------------------------------------------------------

def fm_tone(f0: float, n: int, *, sr: int, ratio: float = 1.0, index: float = 1.0,
            index_decay: float = 0.5, index_floor: float = 0.1) -> np.ndarray:
    """Chowning FM: ``sin(2 pi f0 t + I(t) sin(2 pi ratio f0 t))`` with a decaying index ``I(t)``.

    A ratio of 1 gives all harmonics (electric piano); a non-integer ratio (3.5) gives the
    inharmonic partials of a bell {cite}`chowning1973fm`.

    Explained in ``06_dataset.ipynb``.
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

    Explained in ``06_dataset.ipynb``.
    """
    period = sr / f0
    N = max(2, int(period - 0.5))
    a = period - 0.5 - N
    burst = _pluck(N, brightness=brightness, pick=pick, rng=rng)
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


def _pluck(n: int, *, brightness: float, pick: float, rng: np.random.Generator) -> np.ndarray:
    """The string's initial shape: ``n`` samples of low-passed noise with a picking-position notch."""
    burst = rng.uniform(-1.0, 1.0, n)
    lp = float(np.clip(1.0 - brightness, 0.0, 0.98))
    burst = signal.lfilter([1.0 - lp], [1.0, -lp], burst)
    if pick > 0:
        shift = max(1, int(round(pick * n)))
        burst[shift:] -= burst[:-shift].copy()
    burst -= burst.mean()
    return burst


def _ks_blocks(y: np.ndarray, *, start: int, stop: int, block: int, kernel: np.ndarray) -> None:
    """In place: ``y[m] = sum_i kernel[i] y[m - block - i]`` for ``start <= m < stop``, a block at a time."""
    taps = len(kernel) - 1
    for s in range(start, stop, block):
        e = min(s + block, stop)
        y[s:e] = np.convolve(y[s - block - taps:e - block], kernel, mode="valid")
