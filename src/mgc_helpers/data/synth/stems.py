"""From a clip's score to its stems: every part rendered on its own track at its mix level.

Each note of a :class:`~mgc_helpers.data.synth.arrangement.ClipPlan` is synthesised with the part's
instrument (:func:`~mgc_helpers.data.synth.instruments.render_note`, made brighter or darker by the
artist) and added into the part's track; driven parts go through the guitar distortion; the
drums are built from a few takes of each drum sound. Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .arrangement import ClipPlan
from .drums import drum_hit
from .effects import distortion
from .instruments import INSTRUMENTS, Instrument, render_note
from .parts import Note
from .styles import GENRE_STYLES
from .tuning import Mix


def render_stems(plan: ClipPlan, *, sr: int = 22050,
                 rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Each part of a :class:`ClipPlan` on its own (``"drums"``, ``"bass"``, ``"chords"`` ...).

    The stems are at their mix levels, before reverb, dynamics and mastering, and cover the
    whole rendered timeline (``plan.offset`` seconds before the clip starts and one second after
    it ends).

    Parameters
    ----------
    plan : ClipPlan
        The clip, from :func:`~mgc_helpers.data.synth.arrangement.plan_clip`.
    sr : int
        Sample rate in Hz.
    rng : numpy.random.Generator or None
        Draws the noise of the notes; defaults to the clip's own generator, as used by
        :func:`~mgc_helpers.data.synth.mixing.render_plan`.

    Returns
    -------
    dict of str to np.ndarray
        One float64 track per part, the pitched parts first, in the plan's order.

    Explained in ``06_dataset.ipynb``.
    """
    if rng is None:
        rng = np.random.default_rng(np.random.SeedSequence([plan.seed, 2]))
    mix = GENRE_STYLES[plan.genre].mix
    n_total = int(round(plan.offset * sr)) + int(round(plan.duration * sr)) + sr
    start = int(round(plan.offset * sr))
    stems: dict[str, np.ndarray] = {}
    cache: dict[Any, np.ndarray] = {}  # plucked strings by pitch, shared by all parts of the clip
    for name, notes in plan.notes.items():
        inst = clip_instrument(plan.instruments[name], plan.brightness, mix)
        bus = _note_track(notes, inst, n_total=n_total, start=start, shortest=mix.shortest_note, sr=sr,
                          rng=rng, cache=cache)
        drive = inst.drive * (1.0 + plan.drive) if inst.drive > 0 else 0.0
        if name in mix.driven_parts and drive > 0:
            bus = distortion(bus, min(drive, 1.0), sr=sr)
        stems[name] = at_level(bus, plan.levels[name] + inst.level)
    if plan.hits:
        stems["drums"] = at_level(_drum_track(plan, mix, n_total=n_total, sr=sr), plan.levels["drums"])
    return stems


def clip_instrument(name: str, brightness: float, mix: Mix) -> Instrument:
    """Instrument ``name`` as an artist plays it: brighter (``brightness > 0``) or darker.

    Examples
    --------
    >>> from mgc_helpers.data.synth.tuning import Mix
    >>> clip_instrument("piano", 0.2, Mix()).bright < INSTRUMENTS["piano"].bright
    True

    Explained in ``06_dataset.ipynb``.
    """
    base = INSTRUMENTS[name]
    inst = replace(base, bright=max(0.0, base.bright - brightness), dark=max(0.5, base.dark - brightness))
    if base.kind == "ks":
        pluck = base.ks_bright + mix.brightness_pluck * brightness
        inst = replace(inst, ks_bright=float(np.clip(pluck, 0.05, 0.95)))
    return inst


def _note_track(notes: list[Note], inst: Instrument, *, n_total: int, start: int, shortest: float, sr: int,
                rng: np.random.Generator, cache: dict[Any, np.ndarray]) -> np.ndarray:
    """The notes of one part summed into a track of ``n_total`` samples (notes that end before
    ``start``, where the clip begins, are skipped)."""
    bus = np.zeros(n_total)
    for t, dur, midi, vel in notes:
        i = int(round(t * sr))
        if i >= n_total or i + int((dur + inst.release) * sr) < start:
            continue
        y = render_note(inst, midi, max(dur, shortest), sr=sr, rng=rng, velocity=vel, cache=cache)
        m = min(len(y), n_total - i)
        bus[i:i + m] += y[:m]
    return bus


def _drum_track(plan: ClipPlan, mix: Mix, *, n_total: int, sr: int) -> np.ndarray:
    """The drum hits summed into one track; takes of each sound alternate, so hits differ."""
    bus = np.zeros(n_total)
    takes: dict[str, list[np.ndarray]] = {}
    for voice in sorted({v for _, v, _ in plan.hits}):
        params = dict(plan.kit.get(voice, {}))
        takes[voice] = [drum_hit(voice, sr=sr, variant=v, **params) for v in range(mix.drum_takes)]
    for j, (t, voice, vel) in enumerate(plan.hits):
        i = int(round(t * sr))
        if i >= n_total:
            continue
        y = takes[voice][j % mix.drum_takes]
        m = min(len(y), n_total - i)
        bus[i:i + m] += (vel * 10 ** (mix.drum_levels[voice] / 20)) * y[:m]
    return bus


def at_level(x: np.ndarray, level_db: float, *, block: int = 2048) -> np.ndarray:
    """Scale a stem so that its RMS while playing (quiet blocks ignored) is ``level_db`` dBFS - 20 dB.

    Examples
    --------
    >>> y = at_level(np.ones(4096), 0.0)
    >>> round(float(np.sqrt(np.mean(y**2))), 3)
    0.1

    Explained in ``06_dataset.ipynb``.
    """
    n = len(x) // block * block
    energy = np.einsum("ij,ij->i", x[:n].reshape(-1, block), x[:n].reshape(-1, block)) / block
    playing = energy[energy > 1e-3 * energy.max()] if n and energy.max() > 0 else energy[:0]
    if not playing.size:
        return x
    return x * (10 ** ((level_db - 20.0) / 20) / np.sqrt(playing.mean()))
