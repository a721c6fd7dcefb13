"""The instrument palette and how one note of an instrument is made.

An :class:`Instrument` is a set of parameters for one of three tone generators
(:mod:`~mgc_helpers.data.synth.oscillators`: wavetable, FM or plucked string) plus an envelope
(:func:`adsr`), vibrato, pitch bend, a detuned second voice and breath noise. :data:`INSTRUMENTS`
names the instruments the styles refer to; :func:`render_note` plays one note.
Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import signal

from .oscillators import clock, fm_tone, karplus_strong, midi_to_hz, phase_index, table_for

#: Vibrato fades in over this many seconds after its onset delay.
VIBRATO_FADE = 0.2
#: A pitch bend (scoop into the note) decays with this time constant (s) and lasts at most ``BEND_LENGTH`` s.
BEND_TIME = 0.06
BEND_LENGTH = 0.3


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

    Explained in ``06_dataset.ipynb``.
    """
    return _adsr(int(n_on), int(sr), float(attack), float(decay), float(sustain), float(release))


@lru_cache(maxsize=128)
def _adsr(n_on: int, sr: int, attack: float, decay: float, sustain: float, release: float) -> np.ndarray:
    n_rel = max(1, int(round(release * sr)))
    t = clock(n_on + n_rel, sr)
    a = max(attack, 1.0 / sr)
    env = np.where(t < a, t / a, sustain + (1.0 - sustain) * np.exp(-(t - a) / max(decay, 1e-4)))
    level = env[n_on - 1] if n_on > 0 else 0.0
    env[n_on:] = level * (1.0 - np.arange(1, n_rel + 1) / n_rel)
    env.flags.writeable = False
    return env


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
    Explained in ``06_dataset.ipynb``.
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
                velocity: float = 1.0, cache: dict[Any, np.ndarray] | None = None) -> np.ndarray:
    """One note of ``inst``: ``duration`` seconds held plus the release, peak about ``velocity``.

    ``cache`` (a dict kept for one clip) stores plucked strings by pitch, so that repeated notes
    are computed only once.

    Examples
    --------
    >>> y = render_note(INSTRUMENTS["piano"], 60, 0.5, sr=22050, rng=np.random.default_rng(0))
    >>> y.shape, bool(np.abs(y).max() <= 1.0)
    ((14333,), True)

    Explained in ``06_dataset.ipynb``.
    """
    f0 = float(midi_to_hz(midi))
    n_on = max(1, int(round(duration * sr)))
    env = adsr(n_on, sr=sr, attack=inst.attack, decay=inst.decay, sustain=inst.sustain,
               release=inst.release)
    if inst.kind == "ks":
        return _plucked_note(inst, midi, f0, env, n_on, sr=sr, rng=rng, velocity=velocity, cache=cache)
    if inst.kind == "fm":
        y = fm_tone(f0, len(env), sr=sr, ratio=inst.fm_ratio, index=inst.fm_index, index_decay=inst.fm_decay)
    else:
        y = _wave_tone(inst, f0, len(env), sr=sr, rng=rng)
    return (velocity * env) * y


def _plucked_note(inst: Instrument, midi: float, f0: float, env: np.ndarray, n_on: int, *, sr: int,
                  rng: np.random.Generator, velocity: float,
                  cache: dict[Any, np.ndarray] | None) -> np.ndarray:
    """A Karplus-Strong note (from the cache if the string was plucked before), released by ``env``."""
    n = len(env)
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


def _wave_tone(inst: Instrument, f0: float, n: int, *, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A wavetable tone: bright-to-dark crossfade, detuned second voice and breath noise."""
    t = clock(n, sr)
    freq = _pitch_curve(inst, f0, t, sr=sr)
    recipe = inst.recipe
    if recipe == "vox":
        recipe = "vox_" + "aeiou"[int(rng.integers(5))]
    f_top = f0 * 2.0 ** (max(inst.vibrato[1], 0.0) / 12.0)
    idx = phase_index(freq, n, sr, float(rng.random()))
    y = table_for(recipe, inst.bright, f_top, sr)[idx]
    if inst.bright_tau > 0:
        dark = table_for(recipe, inst.dark, f_top, sr)[idx]
        m = min(n, int(5 * inst.bright_tau * sr))
        dark[:m] += np.exp(-t[:m] / inst.bright_tau) * (y[:m] - dark[:m])
        y = dark
    if inst.detune > 0:
        ratio = 2.0 ** (inst.detune / 1200.0)
        idx2 = phase_index(freq * ratio, n, sr, float(rng.random()))
        y = 0.5 * (y + table_for(recipe, inst.bright, f_top * ratio, sr)[idx2])
    if inst.breath > 0:
        y = y + inst.breath * signal.lfilter([0.3], [1.0, -0.7], rng.standard_normal(n))
    return y


def _pitch_curve(inst: Instrument, f0: float, t: np.ndarray, *, sr: int) -> float | np.ndarray:
    """The note's frequency: ``f0``, or one value per sample with vibrato and a bend into the note."""
    rate, depth, delay = inst.vibrato
    if not (depth > 0 or inst.bend != 0):
        return f0
    n = len(t)
    semis = np.zeros(n)
    if depth > 0:
        semis += depth * np.clip((t - delay) / VIBRATO_FADE, 0.0, 1.0) * np.sin(2 * np.pi * rate * t)
    if inst.bend != 0:
        m = min(n, int(BEND_LENGTH * sr))
        semis[:m] += inst.bend * np.exp(-t[:m] / BEND_TIME)
    return f0 * 2.0 ** (semis / 12.0)
