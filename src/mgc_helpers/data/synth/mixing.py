"""From stems to the finished clip: mix, echo and reverb, dynamics, recording colour, mastering.

:func:`render_plan` sums the stems (:func:`~mgc_helpers.data.synth.stems.render_stems`), sends all
but the dry parts through a tape echo (styles with ``echo``, e.g. reggae) and a convolution
reverb, shapes the dynamics bar by bar (louder choruses, softer intros, slow swells) and
masters the result (:func:`master`): band limits, tilt, hiss and crackle of the recording, a soft
clipper and a peak of -1 dBFS. Tuned by the style's ``mix`` and ``recording``
(:mod:`mgc_helpers.data.synth.tuning`). Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import signal

from .arrangement import ClipPlan
from .effects import echo, high_shelf, reverb
from .stems import render_stems
from .styles import GENRE_STYLES, GenreStyle
from .tuning import Recording

#: Peak level of every clip (-1 dBFS).
PEAK = 10 ** (-1 / 20)
#: The gain curve is smooth: it is evaluated every ``_HOP`` samples.
_HOP = 256


def render_plan(plan: ClipPlan, *, sr: int = 22050) -> np.ndarray:
    """Synthesise, mix and master a :class:`ClipPlan`; float32 mono, peak -1 dBFS.

    Parameters
    ----------
    plan : ClipPlan
        The clip, from :func:`~mgc_helpers.data.synth.arrangement.plan_clip`.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    np.ndarray, shape (round(plan.duration * sr),), float32

    Explained in ``06_dataset.ipynb``.
    """
    style = GENRE_STYLES[plan.genre]
    rng = np.random.default_rng(np.random.SeedSequence([plan.seed, 2]))
    n_out = int(round(plan.duration * sr))
    start = int(round(plan.offset * sr))
    stems = render_stems(plan, sr=sr, rng=rng)
    mix = _with_reverb(plan, style, stems, n_total=start + n_out + sr, sr=sr, rng=rng)
    mix *= _dynamics(plan, style, len(mix), sr=sr, rng=rng)
    y = master(mix[start:start + n_out], plan.colour, style.recording, sr=sr, rng=rng)
    return y.astype(np.float32)


def _with_reverb(plan: ClipPlan, style: GenreStyle, stems: Mapping[str, np.ndarray], *, n_total: int, sr: int,
                 rng: np.random.Generator) -> np.ndarray:
    """The sum of the stems plus the reverb (and echo) of all but the dry parts."""
    dry = np.zeros(n_total)
    send = np.zeros(n_total)
    for name, stem in stems.items():
        dry += stem
        if name not in style.mix.dry_parts:
            send += stem
    tape = clip_echo(plan)
    if tape is not None:
        send = echo(send, sr=sr, delay=tape[0] * 60.0 / plan.tempo, feedback=tape[1])
    colour = plan.colour
    return dry + colour["reverb"] * (reverb(send, sr=sr, rt60=colour["room"], wet=1.0, rng=rng) - send)


def clip_echo(plan: ClipPlan) -> tuple[float, float] | None:
    """The tape echo of a clip (delay in beats, feedback): its style's, or that of its borrowed chords.

    Examples
    --------
    >>> from mgc_helpers.data.synth.arrangement import plan_clip
    >>> clip_echo(plan_clip("reggae", artist="reggae_a1", seed=0, duration=1.0))
    (0.75, 0.45)

    Explained in ``06_dataset.ipynb``.
    """
    own = GENRE_STYLES[plan.genre].echo
    if own is not None:
        return own
    lender = plan.borrowed.get("chords")
    return GENRE_STYLES[lender].echo if lender is not None else None


def _dynamics(plan: ClipPlan, style: GenreStyle, n_total: int, *, sr: int,
              rng: np.random.Generator) -> np.ndarray:
    """Gain per sample: the sections' levels plus a random level per bar, interpolated smoothly."""
    bar_seconds = 60.0 / plan.tempo * plan.meter
    spread = style.mix.dynamics[0] if plan.hits else style.mix.dynamics[1]
    n_bars = len(plan.sections)
    bar_gain = np.array([style.form.gains[s] for s in plan.sections]) + rng.normal(0, spread, n_bars)
    t_bars = (np.arange(n_bars) + 0.5) * bar_seconds
    gain = np.interp(np.arange(0, n_total, _HOP) + _HOP / 2, t_bars * sr, 10 ** (bar_gain / 20))
    return np.repeat(gain, _HOP)[:n_total]


def master(y: np.ndarray, colour: Mapping[str, float], recording: Recording, *, sr: int,
           rng: np.random.Generator) -> np.ndarray:
    """Recording colour (band limits, tilt, hiss, crackle), glue compression and -1 dBFS peak.

    Parameters
    ----------
    y : np.ndarray
        The mix (float64); hiss and crackle are added in place.
    colour : dict
        The clip's ``lofi``, ``tilt``, ``crackle`` and ``loudness`` (see :class:`ClipPlan`).
    recording : Recording
        The style's recording tuning.
    sr : int
        Sample rate in Hz.
    rng : numpy.random.Generator
        Draws the hiss and the crackle.

    Returns
    -------
    np.ndarray
        Peak at -1 dBFS (all zeros if the mix is silent or not finite).

    Explained in ``06_dataset.ipynb``.
    """
    lofi = colour["lofi"]
    sos = np.vstack([
        signal.butter(2, recording.highpass[0] + recording.highpass[1] * lofi, btype="highpass", fs=sr,
                      output="sos"),
        signal.butter(2, min(recording.lowpass[0] - recording.lowpass[1] * lofi, 0.499 * sr), btype="lowpass",
                      fs=sr, output="sos"),
        high_shelf(recording.tilt_frequency, colour["tilt"], sr=sr)])
    y = signal.sosfilt(sos, y)
    rms = float(np.sqrt(np.mean(y**2))) + 1e-12
    hiss = np.diff(rng.standard_normal(len(y) + 1, dtype=np.float32))  # differenced: a brighter hiss
    y += (rms * 10 ** ((recording.hiss[0] + recording.hiss[1] * lofi) / 20)) * hiss
    if colour["crackle"] > 0:
        _add_crackle(y, rms * recording.crackle_level * colour["crackle"],
                     rate=colour["crackle"] * recording.crackle_rate, sr=sr, rng=rng)
    peak = float(np.abs(y).max())
    if not np.isfinite(peak) or peak == 0:
        return np.zeros_like(y)
    k = colour["loudness"]
    y = np.tanh(y * (k / peak)) / np.tanh(k)
    return y * (PEAK / float(np.abs(y).max()))


def _add_crackle(y: np.ndarray, level: float, *, rate: float, sr: int, rng: np.random.Generator) -> None:
    """In place: vinyl pops (a sample and its negative neighbour), ``rate`` per second on average."""
    n_pops = int(rng.poisson(rate * len(y) / sr))
    where = rng.integers(0, len(y) - 1, n_pops)
    amp = level * rng.standard_normal(n_pops)
    y[where] += amp
    y[where + 1] -= amp
