"""From a genre style, an artist and a seed to a rendered clip.

Three steps, kept apart so each can be shown on its own in ``06_dataset.ipynb``:

1. :func:`artist_palette` turns an artist id (``"rock_a3"``) into the artist's fixed choices:
   instruments, tempo sub-range, favourite keys and progressions, drum sound, mix, recording colour,
   and which neighbouring genre the artist borrows from;
2. :func:`plan_clip` makes every random decision of one clip (tempo, key, sections, borrowed
   parts) and writes the score: lists of notes and drum hits with times in seconds;
3. :func:`render_plan` synthesises the score with :mod:`mgc_helpers.synth.instruments`, mixes the
   parts, adds effects and recording colour and normalises the peak to -1 dBFS.

:func:`render_clip` does all three.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..config import GENRES
from . import instruments as ins
from .styles import GENRE_STYLES, NEIGHBOURS, GenreStyle, Part

#: Artists per genre; ids are ``f"{genre}_a{i}"`` with ``i`` = 1 .. ``N_ARTISTS``.
N_ARTISTS = 6
#: Fixed seed of the artist palettes: the same artist sounds the same in every dataset.
ARTIST_SEED = 20210611
#: Peak level of every clip (-1 dBFS).
PEAK = 10 ** (-1 / 20)

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

#: Scales as semitones above the tonic.
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "major_pentatonic": (0, 2, 4, 7, 9),
    "minor_pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
    "bebop": (0, 2, 4, 5, 7, 9, 10, 11),
}

#: Mix level (dB, RMS while playing) of each part and drum voice before style, artist and clip changes.
PART_LEVELS = {"drums": 0.0, "bass": -2.0, "chords": -4.0, "pad": -9.0, "arp": -7.0, "lead": -3.0}
DRUM_LEVELS = {"kick": 0.0, "snare": -2.0, "clap": -3.0, "rim": -7.0, "brush": -9.0, "hat": -12.0,
               "open_hat": -13.0, "shaker": -15.0, "ride": -13.0, "crash": -11.0}
_VELOCITY = {"X": 1.0, "x": 0.8, "o": 0.3}
_PITCHED = ("bass", "chords", "pad", "arp", "lead")


# --- harmony ------------------------------------------------------------------------------------

_NUMERAL = re.compile(r"^(b|#)?(VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)(.*)$")
_DEGREES = {"i": 0, "ii": 2, "iii": 4, "iv": 5, "v": 7, "vi": 9, "vii": 11}
_QUALITIES = {
    (True, ""): (0, 4, 7), (True, "7"): (0, 4, 7, 10), (True, "maj7"): (0, 4, 7, 11),
    (True, "5"): (0, 7, 12), (True, "6"): (0, 4, 7, 9), (True, "9"): (0, 4, 7, 10, 14),
    (False, ""): (0, 3, 7), (False, "7"): (0, 3, 7, 10), (False, "maj7"): (0, 3, 7, 11),
    (False, "5"): (0, 7, 12), (False, "ø7"): (0, 3, 6, 10), (False, "o7"): (0, 3, 6, 9),
    (False, "dim"): (0, 3, 6),
}


def parse_chord(numeral: str) -> tuple[int, tuple[int, ...]]:
    """Roman numeral -> (root in semitones above the tonic, chord intervals).

    Examples
    --------
    >>> parse_chord("V7")
    (7, (0, 4, 7, 10))
    >>> parse_chord("bVI")
    (8, (0, 4, 7))
    >>> parse_chord("iiø7")
    (2, (0, 3, 6, 10))
    """
    match = _NUMERAL.match(numeral)
    if not match or (match.group(2).isupper(), match.group(3)) not in _QUALITIES:
        raise ValueError(f"cannot read chord {numeral!r} (e.g. 'I', 'vi', 'V7', 'bVII', 'iiø7')")
    accidental, roman, suffix = match.groups()
    root = (_DEGREES[roman.lower()] + {"b": -1, "#": 1, None: 0}[accidental]) % 12
    return root, _QUALITIES[(roman.isupper(), suffix)]


def progression_mode(progression: str) -> str:
    """``"minor"`` if the progression's first chord is lower case, else ``"major"``."""
    first = _NUMERAL.match(progression.split()[0].split(",")[0])
    return "minor" if first and first.group(2).islower() else "major"


def voicing(intervals: tuple[int, ...], kind: str) -> tuple[int, ...]:
    """Chord tones (semitones above the root) played for a chord ``kind`` of voicing."""
    third, fifth = intervals[1], intervals[2] if len(intervals) > 2 else 7
    seventh = intervals[3] if len(intervals) > 3 else None
    if kind == "power" or intervals == (0, 7, 12):
        return (0, 7, 12)
    if kind == "triad":
        return (0, third, fifth)
    if kind == "seventh":
        return tuple(intervals[:4])
    if kind == "shell":
        return (0, third, seventh if seventh is not None else fifth + 5)
    if kind == "open":
        return (0, fifth, third + 12) + ((seventh + 12,) if seventh is not None else (12 + fifth,))
    raise ValueError(f"unknown voicing {kind!r}")


def fit_pattern(pattern: str, steps: int, *, source_grid: int | None = None, grid: int | None = None) -> str:
    """Fit a one-bar pattern to a bar of ``steps`` grid steps.

    With ``source_grid`` and ``grid`` (steps per beat of the pattern and of the bar) each beat is
    mapped onto a beat (sixteenths <-> triplets) and the bar is then cut or repeated to length
    (4/4 <-> 3/4); without them the whole bar is stretched.

    Examples
    --------
    >>> fit_pattern("x..x..x..x..", 16)
    'x...x...x...x...'
    >>> fit_pattern("x.x.x.x.x.x.x.x.", 12, source_grid=4, grid=4)
    'x.x.x.x.x.x.'
    >>> fit_pattern("x.xx.xx.xx.x", 16, source_grid=3, grid=4)  # shuffle as sixteenths
    'x..xx..xx..xx..x'
    """
    if source_grid and grid:
        beats = len(pattern) / source_grid
        out = ["."] * int(round(beats * grid))
        for j, ch in enumerate(pattern):
            k = int(round(j * grid / source_grid))
            if ch != "." and k < len(out) and out[k] == ".":
                out[k] = ch
        bar = "".join(out) or "." * steps
        return (bar * (steps // len(bar) + 1))[:steps]
    if len(pattern) == steps:
        return pattern
    out = ["."] * steps
    for j, ch in enumerate(pattern):
        k = int(round(j * steps / len(pattern)))
        if ch != "." and k < steps and out[k] == ".":
            out[k] = ch
    return "".join(out)


# --- artists ------------------------------------------------------------------------------------

def artist_ids(genre: str) -> tuple[str, ...]:
    """The synthetic artists of a genre: ``("blues_a1", ..., "blues_a6")``."""
    _check_genre(genre)
    return tuple(f"{genre}_a{i}" for i in range(1, N_ARTISTS + 1))


def _check_genre(genre: str) -> GenreStyle:
    if genre not in GENRE_STYLES:
        raise ValueError(f"unknown genre {genre!r}; choose one of {sorted(GENRE_STYLES)}")
    return GENRE_STYLES[genre]


def _genre_key(genre: str) -> int:
    return zlib.crc32(genre.encode())


@dataclass(frozen=True)
class ArtistPalette:
    """The fixed choices of one synthetic artist (same in every dataset)."""

    artist: str
    genre: str
    tempo: tuple[float, float]
    keys: tuple[int, ...]
    meter: int
    swing: float
    grooves: tuple[int, ...]
    progressions: tuple[int, ...]
    instruments: dict[str, tuple[str, ...]]
    rhythms: dict[str, tuple[int, ...]]
    brightness: float
    drive: float
    kit: dict[str, dict[str, float]]
    levels: dict[str, float]
    colour: dict[str, float]
    neighbour: str
    borrow: float
    lead_density: float
    timing: float

    def to_dict(self) -> dict[str, Any]:
        """Plain summary for tables (``06_dataset.ipynb``)."""
        return {
            "artist": self.artist, "genre": self.genre,
            "tempo": f"{self.tempo[0]:.0f}-{self.tempo[1]:.0f}",
            "keys": " ".join(NOTE_NAMES[k] for k in self.keys),
            "meter": f"{self.meter}/4",
            "lead": "/".join(self.instruments["lead"]) if "lead" in self.instruments else "",
            "chords": "/".join(self.instruments.get("chords", self.instruments.get("pad", ()))),
            "bass": "/".join(self.instruments.get("bass", ())),
            "brightness": round(self.brightness, 2), "drive": round(self.drive, 2),
            "lofi": round(self.colour["lofi"], 2), "reverb": round(self.colour["reverb"], 2),
            "borrows from": f"{self.neighbour} ({self.borrow:.0%})",
        }


def artist_palette(artist: str) -> ArtistPalette:
    """The palette of artist ``"<genre>_a<i>"``, derived from a fixed seed and the artist id.

    Examples
    --------
    >>> p = artist_palette("metal_a2")
    >>> p.genre, 132 <= p.tempo[0] < p.tempo[1] <= 200
    ('metal', True)
    """
    genre, _, number = artist.rpartition("_a")
    if genre not in GENRE_STYLES or not number.isdigit() or not 1 <= int(number) <= N_ARTISTS:
        raise ValueError(f"unknown artist {artist!r}; artist ids look like 'rock_a3' "
                         f"(a genre and a number from 1 to {N_ARTISTS})")
    style = GENRE_STYLES[genre]
    rng = np.random.default_rng(np.random.SeedSequence([ARTIST_SEED, _genre_key(genre), int(number)]))
    lo, hi = style.tempo
    width = (hi - lo) * rng.uniform(0.3, 0.5)
    start = lo + rng.uniform(0, hi - lo - width)
    n_keys = int(rng.integers(2, 4))
    keys = tuple(sorted(int(k) for k in rng.choice(12, n_keys, replace=False)))
    n_prog = min(len(style.progressions), int(rng.integers(2, 4)))
    progressions = tuple(sorted(int(i) for i in rng.choice(len(style.progressions), n_prog, replace=False)))
    grooves: tuple[int, ...] = ()
    if style.grooves:
        n_g = min(len(style.grooves), int(rng.integers(1, 3)))
        grooves = tuple(sorted(int(i) for i in rng.choice(len(style.grooves), n_g, replace=False)))
    instruments: dict[str, tuple[str, ...]] = {}
    rhythms: dict[str, tuple[int, ...]] = {}
    for name in _PITCHED:
        part: Part | None = getattr(style, name)
        if part is None:
            continue
        k = 2 if (name == "lead" and rng.random() < 0.4 and len(part.instruments) > 1) else 1
        instruments[name] = tuple(str(s) for s in rng.choice(part.instruments, k, replace=False))
        if part.rhythms:
            n_r = min(len(part.rhythms), int(rng.integers(1, 3)))
            rhythms[name] = tuple(sorted(int(i) for i in rng.choice(len(part.rhythms), n_r, replace=False)))
    kit = {voice: {"tune": float(rng.uniform(0.85, 1.15)) * style.kit.get(voice, {}).get("tune", 1.0),
                   "bright": float(rng.uniform(0.7, 1.2))}
           for voice in ("kick", "snare", "clap", "rim", "brush", "hat", "open_hat", "shaker", "ride", "crash")}
    for voice, params in style.kit.items():
        kit[voice].update({k: float(v) for k, v in params.items() if k != "tune"})
    effects = style.effects
    lofi = float(rng.uniform(*effects.get("lofi", (0.0, 0.3))))
    colour = {
        "lofi": lofi,
        "reverb": float(rng.uniform(*effects.get("reverb", (0.1, 0.3)))),
        "room": float(rng.uniform(*effects.get("room", (0.8, 1.5)))),
        "crackle": float(rng.uniform(*effects.get("crackle", (0.0, 0.0)))),
        "tilt": float(rng.uniform(-4.0, 4.0)),
        "loudness": float(rng.uniform(1.0, 3.0)),
    }
    neighbours = NEIGHBOURS[genre]
    return ArtistPalette(
        artist=artist, genre=genre, tempo=(round(start, 1), round(start + width, 1)), keys=keys,
        meter=int(rng.choice(style.meters)),
        swing=float(rng.uniform(*style.swing)), grooves=grooves, progressions=progressions,
        instruments=instruments, rhythms=rhythms,
        brightness=float(rng.uniform(-0.35, 0.45)),
        drive=float(rng.uniform(*effects.get("drive", (0.0, 0.0)))),
        kit=kit,
        levels={name: float(rng.uniform(-3.0, 3.0)) for name in ("drums", *_PITCHED)},
        colour=colour,
        neighbour=str(neighbours[int(rng.integers(len(neighbours)))]),
        borrow=float(rng.choice([0.03, 0.1, 0.3])),
        lead_density=float(rng.uniform(0.7, 1.3)),
        timing=float(rng.uniform(0.0, 0.012) if style.drift > 0 else rng.uniform(0.0, 0.003)),
    )


# --- the plan (score) of one clip ---------------------------------------------------------------

@dataclass
class ClipPlan:
    """Every decision of one clip and its score (times in seconds from the start of the song)."""

    genre: str
    artist: str
    seed: int
    duration: float
    tempo: float
    key: int
    mode: str
    meter: int
    steps_per_beat: int
    swing: float
    progression: str
    groove: dict[str, str]
    instruments: dict[str, str]
    borrowed: dict[str, str]
    sections: list[str]
    levels: dict[str, float]
    colour: dict[str, float]
    drive: float
    brightness: float
    kit: dict[str, dict[str, float]]
    offset: float
    notes: dict[str, list[tuple[float, float, float, float]]] = field(default_factory=dict)
    hits: list[tuple[float, str, float]] = field(default_factory=list)

    @property
    def key_name(self) -> str:
        return f"{NOTE_NAMES[self.key]} {self.mode}"

    def info(self) -> dict[str, Any]:
        """The clip's description as one flat row (the extra columns of ``metadata.csv``)."""
        return {
            "tempo": round(self.tempo, 1),
            "key": self.key_name,
            "meter": f"{self.meter}/4",
            "swing": round(self.swing, 3),
            "progression": self.progression,
            "sections": " ".join(_runs(self.sections)),
            "drums": "yes" if self.hits else "no",
            "bass": self.instruments.get("bass", ""),
            "chords": self.instruments.get("chords", self.instruments.get("pad", "")),
            "lead": self.instruments.get("lead", ""),
            "borrowed": " ".join(f"{p}<-{g}" for p, g in sorted(self.borrowed.items())),
            "lofi": round(self.colour["lofi"], 3),
        }


def _runs(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if not out or out[-1] != item:
            out.append(item)
    return out


_FORM = ("intro", "verse", "chorus", "verse", "chorus", "break", "chorus", "chorus")
#: Probability that each part plays in each kind of section.
SECTION_PARTS = {
    "intro": {"drums": 0.5, "bass": 0.5, "chords": 1.0, "pad": 0.6, "arp": 1.0, "lead": 0.2},
    "verse": {"drums": 1.0, "bass": 1.0, "chords": 1.0, "pad": 0.3, "arp": 0.8, "lead": 0.75},
    "chorus": {"drums": 1.0, "bass": 1.0, "chords": 1.0, "pad": 0.9, "arp": 1.0, "lead": 1.0},
    "break": {"drums": 0.3, "bass": 0.6, "chords": 1.0, "pad": 1.0, "arp": 1.0, "lead": 0.5},
}
SECTION_GAIN = {"intro": -3.0, "verse": -1.0, "chorus": 1.5, "break": -2.5}


def plan_clip(genre: str, *, artist: str, seed: int, duration: float = 30.0) -> ClipPlan:
    """Make every random decision of a clip and write its score.

    Parameters
    ----------
    genre : str
        One of the ten genres.
    artist : str
        An artist id of that genre (``"jazz_a2"``), see :func:`artist_ids`.
    seed : int
        Seed of the clip; the same seed gives the same plan.
    duration : float
        Clip length in seconds.

    Returns
    -------
    ClipPlan
    """
    style = _check_genre(genre)
    palette = artist_palette(artist)
    if palette.genre != genre:
        raise ValueError(f"artist {artist!r} does not belong to genre {genre!r}")
    if not duration > 0:
        raise ValueError(f"duration must be positive, got {duration!r}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))

    # parts that this clip borrows from a neighbouring genre
    borrowed: dict[str, str] = {}
    for name in ("drums", "bass", "chords", "lead"):
        if rng.random() < palette.borrow:
            other = palette.neighbour if rng.random() < 0.75 else str(rng.choice(NEIGHBOURS[genre]))
            if name == "drums" and bool(GENRE_STYLES[other].grooves) != bool(style.grooves):
                continue  # a genre without drums keeps none, a genre with drums keeps some
            borrowed[name] = other

    tempo = float(rng.uniform(*palette.tempo))
    if "drums" in borrowed and rng.random() < 0.5:  # move towards the lender's tempo, within our range
        lo = max(style.tempo[0], GENRE_STYLES[borrowed["drums"]].tempo[0])
        hi = min(style.tempo[1], GENRE_STYLES[borrowed["drums"]].tempo[1])
        tempo = float(np.clip(tempo, lo, hi)) if lo <= hi else tempo
    spb = style.steps_per_beat
    meter = palette.meter
    steps = meter * spb
    key = int(rng.choice(palette.keys)) if rng.random() < 0.8 else int(rng.integers(12))
    progression = style.progressions[int(rng.choice(palette.progressions))]
    mode = progression_mode(progression)
    swing = float(np.clip(palette.swing + rng.normal(0, 0.02), 0.0, 0.4)) if style.swing[1] > 0 else 0.0

    groove_style = GENRE_STYLES[borrowed.get("drums", genre)]
    if groove_style.grooves:
        idx = palette.grooves if "drums" not in borrowed else tuple(range(len(groove_style.grooves)))
        groove = {v: fit_pattern(p, steps, source_grid=groove_style.steps_per_beat, grid=spb)
                  for v, p in groove_style.grooves[int(rng.choice(idx))].items()}
    else:
        groove = {}

    # timeline: step onset times with swing, tempo drift and a random start inside the song
    bar_seconds = 60.0 / tempo * meter
    offset = float(rng.uniform(0.0, bar_seconds))
    n_bars = int(np.ceil((duration + offset) / bar_seconds)) + 2
    times = _step_times(rng, n_bars * steps, tempo=tempo, grid=spb, swing=swing,
                        drift=style.drift * rng.uniform(0.5, 1.5))

    # sections, four (or progression-length) bars each
    chords_in = progression.split()
    block = 4 if len(chords_in) <= 4 else len(chords_in)
    pos = int(rng.integers(0, 4))
    sections: list[str] = []
    while len(sections) < n_bars:
        sections += [_FORM[pos % len(_FORM)]] * block
        pos += 1
    sections = sections[:n_bars]
    bar_chords = [chords_in[b % len(chords_in)].split(",") for b in range(n_bars)]
    parsed = [[parse_chord(c) for c in bar] for bar in bar_chords]

    plan = ClipPlan(
        genre=genre, artist=artist, seed=int(seed), duration=float(duration), tempo=tempo, key=key,
        mode=mode, meter=meter, steps_per_beat=spb, swing=swing, progression=progression,
        groove=groove, instruments={}, borrowed=borrowed, sections=sections,
        levels={}, colour={}, drive=palette.drive, brightness=palette.brightness,
        kit=palette.kit, offset=offset,
    )
    plan.colour = {k: float(v) for k, v in palette.colour.items()}
    plan.colour["lofi"] = float(np.clip(plan.colour["lofi"] + rng.normal(0, 0.1), 0.0, 1.0))
    plan.colour["reverb"] = float(max(0.0, plan.colour["reverb"] * rng.uniform(0.7, 1.3)))
    plan.levels = {name: PART_LEVELS[name] + palette.levels[name] + float(rng.normal(0, 1.5))
                   for name in PART_LEVELS}

    plan.levels["drums"] += GENRE_STYLES[borrowed.get("drums", genre)].drum_level
    active = {name: [rng.random() < SECTION_PARTS[s][name] for s in sections] for name in PART_LEVELS}
    for b in range(1, n_bars):  # decisions hold for a whole section
        if sections[b] == sections[b - 1] and b % block:
            for name in active:
                active[name][b] = active[name][b - 1]

    if groove:
        plan.hits = _drum_hits(rng, groove, sections, active["drums"], times, steps=steps, grid=spb,
                               timing=palette.timing, block=block)

    # pitched parts
    scale = SCALES[style.scales[mode]]
    for name in _PITCHED:
        source = GENRE_STYLES[borrowed[name]] if name in borrowed and getattr(
            GENRE_STYLES[borrowed[name]], name) is not None else style
        part: Part | None = getattr(source, name)
        if part is None or (getattr(style, name) is None and source is style):
            continue
        if source is style:
            instrument = str(rng.choice(palette.instruments[name]))
            rhythm_idx = palette.rhythms.get(name, ())
        else:
            instrument = str(rng.choice(part.instruments))
            rhythm_idx = tuple(range(len(part.rhythms)))
        plan.instruments[name] = instrument
        plan.levels[name] += part.level
        if name == "lead":
            density = float(part.notes) * palette.lead_density * rng.uniform(0.8, 1.2)
            plan.notes[name] = _lead_line(rng, part, density, scale, key, parsed, active[name],
                                          sections, times, steps, spb)
        else:
            rhythm = fit_pattern(part.rhythms[int(rng.choice(rhythm_idx))], steps,
                                 source_grid=source.steps_per_beat, grid=spb)
            plan.notes[name] = _part_notes(rng, name, part, rhythm, key, parsed, active[name], times,
                                           steps, spb, palette.timing)
    return plan


def _step_times(rng, n_steps: int, *, tempo: float, grid: int, swing: float, drift: float) -> np.ndarray:
    """Onset time (s) of every grid step: swung off-steps, slow sinusoidal tempo drift (rubato)."""
    step = 60.0 / tempo / grid
    k = np.arange(n_steps + 1)
    phase = rng.uniform(0, 2 * np.pi)
    step_seconds = step * (1.0 + drift * np.sin(2 * np.pi * k * step / rng.uniform(6.0, 16.0) + phase))
    times = np.concatenate([[0.0], np.cumsum(step_seconds)[:-1]])
    if swing > 0:
        times[1::2] += swing * step_seconds[1::2]
    return times


def _drum_hits(rng, groove: dict[str, str], sections: list[str], active: list[bool], times: np.ndarray,
               *, steps: int, grid: int, timing: float, block: int) -> list[tuple[float, str, float]]:
    """Drum hits (time, voice, velocity) from the groove: light in intros and breaks, a crash at
    each chorus, a snare fill on the last beat of some sections, humanised timing."""
    hits = []
    for b, section in enumerate(sections):
        if not active[b]:
            continue
        light = section in ("intro", "break")
        for voice, pattern in groove.items():
            if light and voice in ("kick", "snare", "clap", "crash"):
                continue
            for s, ch in enumerate(pattern):
                if ch != ".":
                    t = times[b * steps + s] + rng.normal(0, timing)
                    hits.append((max(0.0, t), voice, _VELOCITY.get(ch, 0.8) * rng.uniform(0.85, 1.0)))
        if section == "chorus" and (b == 0 or sections[b - 1] != "chorus"):
            hits.append((times[b * steps], "crash", 0.9))
        if (b + 1) % block == 0 and rng.random() < 0.5:
            for s in range(steps - grid, steps):
                hits.append((times[b * steps + s], "snare", 0.5 + 0.5 * (s - steps + grid + 1) / grid))
    return hits


def _root_midi(register: int, key: int, root: int) -> int:
    pc = (key + root) % 12
    return register + (pc - register) % 12


def _chord_at(parsed, b: int, s: int, steps: int):
    bar = parsed[b]
    return bar[min(len(bar) - 1, s * len(bar) // steps)]


def _part_notes(rng, name, part: Part, rhythm: str, key, parsed, active, times, steps, grid, timing):
    """Notes (time, length, MIDI pitch, velocity) of a bass, chord, pad or arpeggio part."""
    onsets = [s for s, ch in enumerate(rhythm) if ch != "."]
    if not onsets:
        return []
    tokens = part.notes.split()
    notes = []
    n_bars = len(parsed)
    counter = 0
    previous: list[int] | None = None
    for b in range(n_bars):
        if not active[b]:
            counter = 0
            continue
        for j, s in enumerate(onsets):
            nxt = onsets[j + 1] + b * steps if j + 1 < len(onsets) else onsets[0] + (b + 1) * steps
            start = times[b * steps + s]
            gap = times[min(nxt, len(times) - 1)] - start
            root, intervals = _chord_at(parsed, b, s, steps)
            base = _root_midi(part.register, key, root)
            vel = _VELOCITY.get(rhythm[s], 0.8) * rng.uniform(0.8, 1.0) * (1.0 if s % grid else 1.1)
            t0 = start + rng.normal(0, timing)
            if name in ("bass", "arp"):
                if name == "bass" and rng.random() < 0.06:
                    counter += 1
                    continue
                token = tokens[counter % len(tokens)]
                counter += 1
                if token == "A":
                    nb = min(b + 1, n_bars - 1) if j == len(onsets) - 1 else b
                    ns = 0 if j == len(onsets) - 1 else onsets[j + 1]
                    target = _root_midi(part.register, key, _chord_at(parsed, nb, ns, steps)[0])
                    pitch = target + (1 if rng.random() < 0.5 else -1)
                else:
                    pitch = base + _token_interval(token, intervals)
                notes.append((max(0.0, t0), gap * part.gate, float(pitch), min(vel, 1.0)))
            else:
                pitches = [base + iv for iv in voicing(intervals, part.notes)]
                if part.notes in ("triad", "seventh", "shell"):
                    pitches = _voice_lead(pitches, previous, part.register)
                previous = pitches
                strum = 0.012 if name == "chords" else 0.0
                direction = 1 if (s // max(1, steps // 8)) % 2 == 0 else -1
                order = pitches if direction > 0 else pitches[::-1]
                for i, pitch in enumerate(order):
                    notes.append((max(0.0, t0 + i * strum * rng.uniform(0.6, 1.4)), gap * part.gate,
                                  float(pitch), min(vel, 1.0) / np.sqrt(len(order))))
    return notes


def _voice_lead(pitches: list[int], previous: list[int] | None, register: int) -> list[int]:
    """The inversion of a chord closest to the previous chord (smooth voice leading)."""
    if not previous:
        return pitches
    low = sorted(pitches)
    best, best_cost = low, float("inf")
    for k in range(len(low)):
        inversion = sorted(low[k:] + [p + 12 for p in low[:k]])
        for shift in (-12, 0):
            cand = [p + shift for p in inversion]
            if cand[0] < register - 7 or cand[-1] > register + 24:
                continue
            cost = abs(np.mean(cand) - np.mean(previous)) + 0.1 * (cand[-1] - cand[0])
            if cost < best_cost:
                best, best_cost = cand, cost
    return best


def _token_interval(token: str, intervals: tuple[int, ...]) -> int:
    table = {"R": 0, "3": intervals[1], "5": intervals[2] if len(intervals) > 2 else 7, "6": 9,
             "7": intervals[3] if len(intervals) > 3 else 10, "O": 12, "L": -12}
    if token not in table:
        raise ValueError(f"unknown note token {token!r}; use R 3 5 6 7 O L A")
    return table[token]


def _lead_line(rng, part: Part, density, scale, key, parsed, active, sections, times, steps, spb):
    """An improvised lead: one-bar motifs (rhythm and melodic steps in the scale) that are repeated
    and varied, chord tones on the beats, rests between phrases."""
    pitches = np.array([m for m in range(part.register, part.register + 20) if (m - key) % 12 in scale])
    strong = np.array([1.0 if s % spb == 0 else (0.6 if (spb == 4 and s % 2 == 0) or (spb == 3 and s % 3 == 2)
                                                  else 0.25) for s in range(steps)])
    if steps % 4 == 0 and spb == 4:
        strong[0] = 1.3
    notes = []
    n_bars = len(parsed)
    motif = None
    idx = int(rng.integers(len(pitches) // 3, 2 * len(pitches) // 3 + 1))
    for b in range(n_bars):
        if not active[b] or (b % 4 == 3 and rng.random() < 0.4):
            motif = None if rng.random() < 0.5 else motif
            continue
        if motif is None or rng.random() < 0.35:
            p_on = np.clip(density * strong * (1.3 if sections[b] == "chorus" else 1.0), 0, 0.97)
            onsets = np.flatnonzero(rng.random(steps) < p_on)
            if len(onsets) == 0:
                onsets = np.array([0])
            moves = rng.choice([-2, -1, -1, 0, 1, 1, 2], size=len(onsets))
            motif = (onsets, moves)
        onsets, moves = motif
        for j, (s, mv) in enumerate(zip(onsets, moves)):
            idx = int(np.clip(idx + mv, 0, len(pitches) - 1))
            pitch = int(pitches[idx])
            root, intervals = _chord_at(parsed, b, int(s), steps)
            if s % spb == 0:  # chord tone on the beat
                tones = np.array([m for m in pitches if (m - key - root) % 12 in {i % 12 for i in intervals}])
                if len(tones):
                    pitch = int(tones[np.argmin(np.abs(tones - pitch))])
                    idx = int(np.argmin(np.abs(pitches - pitch)))
            nxt = onsets[j + 1] + b * steps if j + 1 < len(onsets) else (b + 1) * steps
            start = times[b * steps + s]
            gap = min(times[min(nxt, len(times) - 1)] - start, 2.5)
            vel = rng.uniform(0.75, 1.0) * (1.0 if s % spb else 1.1)
            notes.append((float(start), float(gap * part.gate), float(pitch), min(float(vel), 1.0)))
    return notes


# --- rendering ----------------------------------------------------------------------------------

def _instrument(name: str, plan: ClipPlan) -> ins.Instrument:
    base = ins.INSTRUMENTS[name]
    changes: dict[str, Any] = {"bright": max(0.0, base.bright - plan.brightness),
                               "dark": max(0.5, base.dark - plan.brightness)}
    if base.kind == "ks":
        changes["ks_bright"] = float(np.clip(base.ks_bright + 0.3 * plan.brightness, 0.05, 0.95))
    return replace(base, **changes)


def render_stems(plan: ClipPlan, *, sr: int = 22050,
                 rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Each part of a :class:`ClipPlan` on its own (``"drums"``, ``"bass"``, ``"chords"`` ...).

    The stems are at their mix levels, before reverb, dynamics and mastering, and cover the
    whole rendered timeline (``plan.offset`` seconds before the clip starts and one second after
    it ends). ``rng`` defaults to the clip's own generator, as used by :func:`render_plan`.
    """
    if rng is None:
        rng = np.random.default_rng(np.random.SeedSequence([plan.seed, 2]))
    n_total = int(round(plan.offset * sr)) + int(round(plan.duration * sr)) + sr
    start = int(round(plan.offset * sr))
    stems: dict[str, np.ndarray] = {}
    cache: dict = {}
    for name, notes in plan.notes.items():
        bus = np.zeros(n_total)
        inst = _instrument(plan.instruments[name], plan)
        for t, dur, midi, vel in notes:
            i = int(round(t * sr))
            if i >= n_total or i + int((dur + inst.release) * sr) < start:
                continue
            y = ins.render_note(inst, midi, max(dur, 0.02), sr=sr, rng=rng, velocity=vel, cache=cache)
            m = min(len(y), n_total - i)
            bus[i:i + m] += y[:m]
        drive = inst.drive * (1.0 + plan.drive) if inst.drive > 0 else 0.0
        if name in ("chords", "lead") and drive > 0:
            bus = ins.distortion(bus, min(drive, 1.0), sr=sr)
        stems[name] = _at_level(bus, plan.levels[name] + inst.level)
    if plan.hits:
        bus = np.zeros(n_total)
        samples: dict[str, list[np.ndarray]] = {}
        for voice in sorted({v for _, v, _ in plan.hits}):
            params = dict(plan.kit.get(voice, {}))
            samples[voice] = [ins.drum_hit(voice, sr=sr, variant=v, **params) for v in range(3)]
        for j, (t, voice, vel) in enumerate(plan.hits):
            i = int(round(t * sr))
            if i >= n_total:
                continue
            y = samples[voice][j % 3]
            m = min(len(y), n_total - i)
            bus[i:i + m] += (vel * 10 ** (DRUM_LEVELS[voice] / 20)) * y[:m]
        stems["drums"] = _at_level(bus, plan.levels["drums"])
    return stems


def _at_level(x: np.ndarray, level_db: float, *, block: int = 2048) -> np.ndarray:
    """Scale a stem so that its RMS while playing (quiet blocks ignored) is ``level_db`` dBFS - 20 dB."""
    n = len(x) // block * block
    energy = np.einsum("ij,ij->i", x[:n].reshape(-1, block), x[:n].reshape(-1, block)) / block
    playing = energy[energy > 1e-3 * energy.max()] if n and energy.max() > 0 else energy[:0]
    if not playing.size:
        return x
    return x * (10 ** ((level_db - 20.0) / 20) / np.sqrt(playing.mean()))


def render_plan(plan: ClipPlan, *, sr: int = 22050) -> np.ndarray:
    """Synthesise, mix and master a :class:`ClipPlan`; float32 mono, peak -1 dBFS.

    The stems (:func:`render_stems`) are summed; all but the bass go through a reverb (and a
    tape echo in reggae); louder choruses and softer intros shape the dynamics; the master adds
    the recording colour (:func:`_master`).
    """
    rng = np.random.default_rng(np.random.SeedSequence([plan.seed, 2]))
    n_out = int(round(plan.duration * sr))
    start = int(round(plan.offset * sr))
    stems = render_stems(plan, sr=sr, rng=rng)
    n_total = start + n_out + sr
    dry = np.zeros(n_total)
    send = np.zeros(n_total)
    for name, stem in stems.items():
        dry += stem
        if name != "bass":
            send += stem
    colour = plan.colour
    if plan.genre == "reggae" or plan.borrowed.get("chords") == "reggae":
        send = ins.echo(send, sr=sr, delay=0.75 * 60.0 / plan.tempo, feedback=0.45)
    mix = dry + colour["reverb"] * (ins.reverb(send, sr=sr, rt60=colour["room"], wet=1.0, rng=rng) - send)

    # dynamics: louder choruses, softer intros, slow swells (strongest without drums)
    bar_seconds = 60.0 / plan.tempo * plan.meter
    bar_gain = np.array([SECTION_GAIN[s] for s in plan.sections]) + rng.normal(0, 1.0 if plan.hits else 3.0,
                                                                                 len(plan.sections))
    t_bars = (np.arange(len(plan.sections)) + 0.5) * bar_seconds
    hop = 256  # the gain curve is smooth: evaluate it every 256 samples
    gain = np.interp(np.arange(0, n_total, hop) + hop / 2, t_bars * sr, 10 ** (bar_gain / 20))
    mix *= np.repeat(gain, hop)[:n_total]

    y = _master(mix[start:start + n_out], colour, sr=sr, rng=rng)
    return y.astype(np.float32)


def _master(y: np.ndarray, colour: dict[str, float], *, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Recording colour (band limits, tilt, hiss, crackle), glue compression and -1 dBFS peak."""
    lofi = colour["lofi"]
    sos = np.vstack([ins.signal.butter(2, 25 + 120 * lofi, btype="highpass", fs=sr, output="sos"),
                     ins.signal.butter(2, min(11000 - 7000 * lofi, 0.499 * sr), btype="lowpass", fs=sr,
                                       output="sos"),
                     ins.high_shelf(1000.0, colour["tilt"], sr=sr)])
    y = ins.signal.sosfilt(sos, y)
    rms = float(np.sqrt(np.mean(y**2))) + 1e-12
    hiss = np.diff(rng.standard_normal(len(y) + 1, dtype=np.float32))  # differenced: a brighter hiss
    y += (rms * 10 ** ((-65 + 32 * lofi) / 20)) * hiss
    if colour["crackle"] > 0:
        n_pops = int(rng.poisson(colour["crackle"] * 25 * len(y) / sr))
        where = rng.integers(0, len(y) - 1, n_pops)
        amp = rms * 4.0 * colour["crackle"] * rng.standard_normal(n_pops)
        y[where] += amp
        y[where + 1] -= amp
    peak = float(np.abs(y).max())
    if not np.isfinite(peak) or peak == 0:
        return np.zeros_like(y)
    k = colour["loudness"]
    y = np.tanh(y * (k / peak)) / np.tanh(k)
    return y * (PEAK / float(np.abs(y).max()))


def render_clip(genre: str, *, artist: str, seed: int, duration: float = 30.0, sr: int = 22050) -> np.ndarray:
    """Render one synthetic clip of ``genre`` played by ``artist``.

    Parameters
    ----------
    genre : str
        One of :data:`mgc_helpers.config.GENRES`.
    artist : str
        Artist id of that genre, e.g. ``"rock_a3"`` (see :func:`artist_ids`).
    seed : int
        Seed of the clip; the same arguments always give the same samples.
    duration : float
        Length in seconds.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    np.ndarray, shape (round(duration * sr),), float32
        Mono samples, peak at -1 dBFS.

    Examples
    --------
    >>> y = render_clip("rock", artist="rock_a1", seed=0, duration=2.0)
    >>> y.shape, y.dtype.name, round(float(np.abs(y).max()), 3)
    ((44100,), 'float32', 0.891)

    Explained in ``06_dataset.ipynb``.
    """
    if not isinstance(sr, (int, np.integer)) or sr < 8000:
        raise ValueError(f"sr must be an integer of at least 8000 Hz, got {sr!r}")
    plan = plan_clip(genre, artist=artist, seed=seed, duration=duration)
    return render_plan(plan, sr=int(sr))


assert tuple(sorted(GENRE_STYLES)) == GENRES, "GENRE_STYLES must cover exactly the ten GTZAN genres"
