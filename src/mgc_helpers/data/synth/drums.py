"""Drum sounds: shaped noise and pitch-swept sines, as in analogue drum machines.

:func:`drum_hit` makes one hit of a voice (kick, snare, clap, hats, cymbals ...). Every take is
made from its own seeded noise, so the same parameters always give the same sound, and sounds
are cached: a clip repeats the same few hits many times. Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np

from .effects import butterworth
from .oscillators import clock

#: Decay time (s) of each drum voice.
DECAYS = {"kick": 0.25, "snare": 0.14, "brush": 0.2, "rim": 0.04, "clap": 0.12, "hat": 0.04,
          "open_hat": 0.3, "shaker": 0.05, "ride": 0.9, "crash": 1.4}
#: Square-wave partials (Hz) of the metallic voices (hats and cymbals).
METAL_PARTIALS = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)
#: High-pass cut-off (Hz) and share of the metallic partials (against noise) of each metallic voice.
METAL_VOICES = {"hat": (7000, 0.4), "open_hat": (6500, 0.4), "shaker": (5000, 0.0), "ride": (4500, 0.7),
                "crash": (3500, 0.3)}


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

    Explained in ``06_dataset.ipynb``.
    """
    return _drum_hit(voice, int(sr), int(variant), round(float(tune), 3),
                     None if decay is None else round(float(decay), 4), round(float(tone), 3),
                     round(float(click), 3), round(float(bright), 3))


@lru_cache(maxsize=96)
def _drum_hit(voice: str, sr: int, variant: int, tune: float, decay: float | None, tone: float,
              click: float, bright: float) -> np.ndarray:
    """The cached body of :func:`drum_hit` (hashable, rounded arguments)."""
    if voice not in DECAYS:
        raise ValueError(f"unknown drum voice {voice!r}; choose one of {sorted(DECAYS)}")
    tau = DECAYS[voice] if decay is None else decay
    n = int(sr * min(4.6 * tau + 0.02, 2.0))
    t = clock(n, sr)
    key = [zlib.crc32(voice.encode()), variant, int(tune * 1000), int(1e4 * (decay or 0)), int(tone * 1000),
           int(click * 1000), int(bright * 1000)]
    noise = np.random.default_rng(np.random.SeedSequence(key)).standard_normal(n)
    nyq = 0.45 * sr
    if voice == "kick":
        f = 45 * tune + 110 * tune * np.exp(-t / 0.03)
        y = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / tau)
        y += click * butterworth(noise, "highpass", 1500, sr) * np.exp(-t / 0.004)
    elif voice == "snare":
        body = np.sin(2 * np.pi * 185 * tune * t) * np.exp(-t / 0.05)
        rattle = butterworth(noise, "bandpass", (1200.0, min(6500 * bright, nyq)), sr) * np.exp(-t / tau)
        y = tone * body + (1 - tone) * 2.0 * rattle
    elif voice == "brush":
        y = butterworth(noise, "bandpass", (900.0, min(5000 * bright, nyq)), sr) * np.minimum(t / 0.02, 1) \
            * np.exp(-t / tau)
    elif voice == "rim":
        y = np.sin(2 * np.pi * 1700 * tune * t) * np.exp(-t / tau) \
            + 0.5 * butterworth(noise, "highpass", 2000, sr) * np.exp(-t / 0.008)
    elif voice == "clap":
        bursts = sum(np.exp(-np.clip(t - d, 0, None) / 0.006) * (t >= d) for d in (0.0, 0.011, 0.022))
        y = butterworth(noise, "bandpass", (900.0, min(3000 * bright, nyq)), sr) * (
            bursts + 0.6 * (t >= 0.03) * np.exp(-np.clip(t - 0.03, 0, None) / tau))
    else:
        y = _metallic(voice, t, noise, tau=tau, tune=tune, bright=bright, sr=sr)
    y = y / max(np.abs(y).max(), 1e-12)
    y.flags.writeable = False
    return y


def _metallic(voice: str, t: np.ndarray, noise: np.ndarray, *, tau: float, tune: float, bright: float,
              sr: int) -> np.ndarray:
    """Hats, shaker and cymbals: square-wave partials and noise, high-passed, with a fast attack."""
    partials = np.array(METAL_PARTIALS) * tune
    metal = np.sign(np.sin(2 * np.pi * partials[:, None] * t)).sum(axis=0) / 6.0
    cutoff, mix = METAL_VOICES[voice]
    source = mix * metal + (1 - mix) * noise
    y = butterworth(source, "highpass", min(cutoff * bright, 0.45 * sr), sr)
    attack = np.minimum(t / (0.012 if voice == "shaker" else 0.001), 1.0)
    y *= attack * np.exp(-t / tau)
    if voice == "ride":
        y += 0.3 * np.sin(2 * np.pi * 3100 * tune * t) * np.exp(-t / 0.5)
    return y
