"""The score of each part: drum hits, accompaniment (bass, chords, pad, arpeggio) and the lead.

Every writer gets a :class:`ClipContext` (the clip's random generator, style, key, grid, step
times, chords and sections) and returns notes ``(time s, length s, MIDI pitch, velocity)`` or drum
hits ``(time s, voice, velocity)``. How the parts are played is tuned by the style's ``playing``
and ``lead_line`` (:mod:`mgc_helpers.data.synth.tuning`). Explained in ``06_dataset.ipynb``.

The writers draw from the clip's generator in a fixed order (bar by bar, onset by onset); that
order is part of the output, so any change to it changes every clip.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .harmony import Chord, root_midi, token_interval, voice_lead, voicing
from .styles import GenreStyle, Part
from .tuning import LeadLine

#: A note: (start time s, length s, MIDI pitch, velocity 0..1).
Note = tuple[float, float, float, float]
#: A drum hit: (time s, voice, velocity 0..1).
Hit = tuple[float, str, float]
#: Voicings that move smoothly from chord to chord (open and power voicings stay in place).
_VOICE_LED = ("triad", "seventh", "shell")


@dataclass(frozen=True)
class ClipContext:
    """What every part of one clip is written against (``06_dataset.ipynb``).

    Parameters
    ----------
    rng : numpy.random.Generator
        The clip's generator; every writer draws from it in turn.
    style : GenreStyle
        The clip's genre style (its tuning applies to borrowed parts too).
    key : int
        Tonic as a pitch class (0 = C).
    scale : tuple of int
        The lead's scale, semitones above the tonic.
    steps, grid : int
        Grid steps per bar and per beat.
    times : np.ndarray
        Onset time (s) of every grid step of the clip, ``n_bars * steps + 1`` of them.
    chords : list of list of Chord
        The chords of each bar (one, or two in a split bar).
    sections : list of str
        The section of each bar (``"intro"``, ``"verse"``, ``"chorus"``, ``"break"``).
    block : int
        Bars per section.
    timing : float
        Standard deviation (s) of the timing of notes and hits (the artist's looseness).
    """

    rng: np.random.Generator
    style: GenreStyle
    key: int
    scale: tuple[int, ...]
    steps: int
    grid: int
    times: np.ndarray
    chords: list[list[Chord]]
    sections: list[str]
    block: int
    timing: float

    @property
    def n_bars(self) -> int:
        """Bars in the clip's timeline."""
        return len(self.chords)

    def chord_at(self, bar: int, step: int) -> Chord:
        """The chord sounding at grid ``step`` of ``bar``."""
        chords = self.chords[bar]
        return chords[min(len(chords) - 1, step * len(chords) // self.steps)]


# --- drums --------------------------------------------------------------------------------------

def drum_hits(ctx: ClipContext, groove: Mapping[str, str], active: Sequence[bool]) -> list[Hit]:
    """Drum hits from the groove: light in intros and breaks, a crash at each chorus, a snare fill
    on the last beat of some sections, humanised timing.

    Parameters
    ----------
    ctx : ClipContext
    groove : dict
        One-bar pattern per drum voice, fitted to the clip's grid.
    active : sequence of bool
        Whether the drums play in each bar.

    Returns
    -------
    list of (float, str, float)

    Explained in ``06_dataset.ipynb``.
    """
    play = ctx.style.playing
    hits: list[Hit] = []
    for b, section in enumerate(ctx.sections):
        if not active[b]:
            continue
        light = section in play.light_sections
        for voice, pattern in groove.items():
            if not (light and voice in play.light_voices):
                hits += _pattern_hits(ctx, b, voice, pattern)
        if section == "chorus" and (b == 0 or ctx.sections[b - 1] != "chorus"):
            hits.append((ctx.times[b * ctx.steps], "crash", play.crash_velocity))
        if (b + 1) % ctx.block == 0 and ctx.rng.random() < play.fill:
            hits += _snare_fill(ctx, b)
    return hits


def _pattern_hits(ctx: ClipContext, b: int, voice: str, pattern: str) -> list[Hit]:
    """One bar of one drum voice, each hit with its own timing and velocity."""
    play = ctx.style.playing
    hits: list[Hit] = []
    for s, ch in enumerate(pattern):
        if ch != ".":
            t = ctx.times[b * ctx.steps + s] + ctx.rng.normal(0, ctx.timing)
            hits.append((max(0.0, t), voice, play.velocity(ch) * ctx.rng.uniform(*play.drum_velocity)))
    return hits


def _snare_fill(ctx: ClipContext, b: int) -> list[Hit]:
    """A crescendo of snare hits on every step of the last beat of bar ``b``."""
    steps, grid = ctx.steps, ctx.grid
    return [(ctx.times[b * steps + s], "snare", 0.5 + 0.5 * (s - steps + grid + 1) / grid)
            for s in range(steps - grid, steps)]


# --- accompaniment ------------------------------------------------------------------------------

class Onset(NamedTuple):
    """One onset of an accompaniment part, before its pitches are chosen."""

    bar: int
    position: int  # among the bar's onsets
    step: int
    time: float  # humanised start (s)
    gap: float  # time to the next onset (s)
    velocity: float
    intervals: tuple[int, ...]  # of the chord sounding
    base: int  # MIDI note of the chord's root in the part's register


def accompaniment(ctx: ClipContext, name: str, part: Part, rhythm: str, active: Sequence[bool]) -> list[Note]:
    """Notes of a bass, chord, pad or arpeggio part.

    Bass and arpeggio play ``part.notes`` as a cycle of chord-relative tokens, one per onset of
    ``rhythm`` (the cycle restarts after a silent bar); chords and pads play the chord voiced as
    ``part.notes``, voice-led and (chords) strummed up and down.

    Parameters
    ----------
    ctx : ClipContext
    name : str
        ``"bass"``, ``"chords"``, ``"pad"`` or ``"arp"``.
    part : Part
        The part (possibly borrowed from another genre).
    rhythm : str
        One-bar onset pattern on the clip's grid.
    active : sequence of bool
        Whether the part plays in each bar.

    Returns
    -------
    list of (float, float, float, float)

    Explained in ``06_dataset.ipynb``.
    """
    onsets = [s for s, ch in enumerate(rhythm) if ch != "."]
    if not onsets:
        return []
    tokens = part.notes.split()
    notes: list[Note] = []
    counter = 0
    previous: list[int] | None = None
    for b in range(ctx.n_bars):
        if not active[b]:
            counter = 0
            continue
        for j in range(len(onsets)):
            onset = _onset(ctx, part, rhythm, onsets, b, j)
            if name not in ("bass", "arp"):
                previous = _chord_pitches(part, onset, previous)
                notes += _strum(ctx, name, part, onset, previous)
                continue
            if not (name == "bass" and ctx.rng.random() < ctx.style.playing.bass_skip):
                notes.append(_line_note(ctx, part, onset, tokens[counter % len(tokens)], onsets))
            counter += 1
    return notes


def _onset(ctx: ClipContext, part: Part, rhythm: str, onsets: list[int], b: int, j: int) -> Onset:
    """Onset ``j`` of bar ``b``: its time, length, chord and velocity (two random draws)."""
    play, steps, times = ctx.style.playing, ctx.steps, ctx.times
    s = onsets[j]
    nxt = onsets[j + 1] + b * steps if j + 1 < len(onsets) else onsets[0] + (b + 1) * steps
    start = times[b * steps + s]
    gap = times[min(nxt, len(times) - 1)] - start
    root, intervals = ctx.chord_at(b, s)
    base = root_midi(part.register, ctx.key, root)
    vel = play.velocity(rhythm[s]) * ctx.rng.uniform(*play.note_velocity) * (
        1.0 if s % ctx.grid else play.downbeat_accent)
    t0 = start + ctx.rng.normal(0, ctx.timing)
    return Onset(b, j, s, t0, gap, vel, intervals, base)


def _line_note(ctx: ClipContext, part: Part, onset: Onset, token: str, onsets: list[int]) -> Note:
    """A bass or arpeggio note; ``A`` approaches the next chord's root chromatically."""
    if token == "A":
        last = onset.position == len(onsets) - 1
        nb = min(onset.bar + 1, ctx.n_bars - 1) if last else onset.bar
        ns = 0 if last else onsets[onset.position + 1]
        target = root_midi(part.register, ctx.key, ctx.chord_at(nb, ns)[0])
        pitch = target + (1 if ctx.rng.random() < ctx.style.playing.approach_above else -1)
    else:
        pitch = onset.base + token_interval(token, onset.intervals)
    return (max(0.0, onset.time), onset.gap * part.gate, float(pitch), min(onset.velocity, 1.0))


def _chord_pitches(part: Part, onset: Onset, previous: list[int] | None) -> list[int]:
    """The chord's MIDI pitches, voiced as ``part.notes`` and led from the previous chord."""
    pitches = [onset.base + iv for iv in voicing(onset.intervals, part.notes)]
    if part.notes in _VOICE_LED:
        pitches = voice_lead(pitches, previous, part.register)
    return pitches


def _strum(ctx: ClipContext, name: str, part: Part, onset: Onset, pitches: list[int]) -> list[Note]:
    """The chord's notes, strummed (chords: alternately up and down) or struck together."""
    play = ctx.style.playing
    strum = play.strum if name == "chords" else 0.0
    direction = 1 if (onset.step // max(1, ctx.steps // 8)) % 2 == 0 else -1
    order = pitches if direction > 0 else pitches[::-1]
    return [(max(0.0, onset.time + i * strum * ctx.rng.uniform(*play.strum_jitter)), onset.gap * part.gate,
             float(pitch), min(onset.velocity, 1.0) / np.sqrt(len(order)))
            for i, pitch in enumerate(order)]


# --- lead ---------------------------------------------------------------------------------------

def lead_line(ctx: ClipContext, part: Part, density: float, active: Sequence[bool]) -> list[Note]:
    """An improvised lead: one-bar motifs (rhythm and melodic steps in the scale) that are repeated
    and varied, chord tones on the beats, rests between phrases.

    Parameters
    ----------
    ctx : ClipContext
    part : Part
        The lead part (its register and gate).
    density : float
        Chance of an onset on a beat (other steps are weighted by ``style.lead_line``).
    active : sequence of bool
        Whether the lead plays in each bar.

    Returns
    -------
    list of (float, float, float, float)

    Explained in ``06_dataset.ipynb``.
    """
    lead, rng = ctx.style.lead_line, ctx.rng
    pitches = np.array([m for m in range(part.register, part.register + lead.range)
                        if (m - ctx.key) % 12 in ctx.scale])
    weights = _onset_weights(lead, ctx.steps, ctx.grid)
    notes: list[Note] = []
    motif: tuple[np.ndarray, np.ndarray] | None = None
    idx = int(rng.integers(len(pitches) // 3, 2 * len(pitches) // 3 + 1))
    for b in range(ctx.n_bars):
        if not active[b] or (b % lead.phrase_bars == lead.phrase_bars - 1 and rng.random() < lead.rest):
            motif = None if rng.random() < lead.forget else motif
            continue
        if motif is None or rng.random() < lead.new_motif:
            chorus = lead.chorus_density if ctx.sections[b] == "chorus" else 1.0
            motif = _motif(rng, lead, density * weights * chorus)
        bar_notes, idx = _play_motif(ctx, part, pitches, motif, b, idx)
        notes += bar_notes
    return notes


def _onset_weights(lead: LeadLine, steps: int, grid: int) -> np.ndarray:
    """Relative onset chance of each step of a bar: beats, then off-beats, then the rest."""
    offbeat = [(grid == 4 and s % 2 == 0) or (grid == 3 and s % 3 == 2) for s in range(steps)]
    weights = np.array([lead.beat_weight if s % grid == 0
                        else (lead.offbeat_weight if offbeat[s] else lead.weak_weight) for s in range(steps)])
    if steps % 4 == 0 and grid == 4:
        weights[0] = lead.downbeat_weight
    return weights


def _motif(rng: np.random.Generator, lead: LeadLine, p_onset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A one-bar motif: onset steps (at least one) and a scale step for each."""
    p_on = np.clip(p_onset, 0, lead.max_onset)
    onsets = np.flatnonzero(rng.random(len(p_on)) < p_on)
    if len(onsets) == 0:
        onsets = np.array([0])
    moves = rng.choice(lead.moves, size=len(onsets))
    return onsets, moves


def _play_motif(ctx: ClipContext, part: Part, pitches: np.ndarray, motif: tuple[np.ndarray, np.ndarray],
                b: int, idx: int) -> tuple[list[Note], int]:
    """The motif's notes in bar ``b`` from scale position ``idx``; returns them and the new position."""
    lead, steps, times = ctx.style.lead_line, ctx.steps, ctx.times
    onsets, moves = motif
    notes: list[Note] = []
    for j, (s, mv) in enumerate(zip(onsets, moves, strict=True)):
        idx = int(np.clip(idx + mv, 0, len(pitches) - 1))
        pitch = int(pitches[idx])
        if s % ctx.grid == 0:  # chord tone on the beat
            pitch, idx = _nearest_chord_tone(ctx, pitches, b, int(s), pitch, idx)
        nxt = onsets[j + 1] + b * steps if j + 1 < len(onsets) else (b + 1) * steps
        start = times[b * steps + s]
        gap = min(times[min(nxt, len(times) - 1)] - start, lead.max_note)
        vel = ctx.rng.uniform(*lead.velocity) * (1.0 if s % ctx.grid else lead.beat_accent)
        notes.append((float(start), float(gap * part.gate), float(pitch), min(float(vel), 1.0)))
    return notes, idx


def _nearest_chord_tone(ctx: ClipContext, pitches: np.ndarray, b: int, s: int, pitch: int,
                        idx: int) -> tuple[int, int]:
    """The chord tone of the scale nearest to ``pitch`` and its scale position (unchanged if none)."""
    root, intervals = ctx.chord_at(b, s)
    tones = np.array([m for m in pitches if (m - ctx.key - root) % 12 in {i % 12 for i in intervals}])
    if len(tones):
        pitch = int(tones[np.argmin(np.abs(tones - pitch))])
        idx = int(np.argmin(np.abs(pitches - pitch)))
    return pitch, idx
