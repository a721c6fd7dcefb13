"""The plan of one clip: every random decision, and the score that :mod:`~mgc_helpers.data.synth.parts` writes.

:func:`plan_clip` decides, in this order, which parts the clip borrows from a neighbouring genre,
its tempo, key, progression, swing and groove, where in the song it starts, the song's sections,
the recording colour, the part levels and which parts play in which section; then it has every
part written (:mod:`~mgc_helpers.data.synth.parts`). The result is a :class:`ClipPlan`: a description
of the clip (``metadata.csv``) and its score, with times in seconds. How clips vary is tuned by the
style's ``clips`` and ``form`` (:mod:`mgc_helpers.data.synth.tuning`). Explained in ``06_dataset.ipynb``.

The decisions draw from the clip's random generator one after the other; that order is part of
the output (``tests/test_synth_checksums.py`` guards it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .artists import PITCHED, ArtistPalette, artist_palette, check_genre
from .harmony import NOTE_NAMES, SCALES, parse_progression, progression_mode
from .parts import ClipContext, Hit, Note, accompaniment, drum_hits, lead_line
from .rhythm import fit_pattern, step_times
from .styles import GENRE_STYLES, NEIGHBOURS, GenreStyle, Part
from .tuning import PARTS, Form


@dataclass
class ClipPlan:
    """Every decision of one clip and its score (times in seconds from the start of the song).

    ``notes`` maps each pitched part to its notes ``(time, length, MIDI pitch, velocity)``,
    ``hits`` holds the drum hits ``(time, voice, velocity)``; the clip itself starts ``offset``
    seconds into the song. Explained in ``06_dataset.ipynb``.
    """

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
    notes: dict[str, list[Note]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)

    @property
    def key_name(self) -> str:
        """The key as text, e.g. ``"Eb minor"``."""
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
    """``items`` without repeats in a row (``a a b a`` -> ``a b a``)."""
    out: list[str] = []
    for item in items:
        if not out or out[-1] != item:
            out.append(item)
    return out


def plan_clip(genre: str, *, artist: str, seed: int, duration: float = 30.0) -> ClipPlan:
    """Make every random decision of a clip and write its score.

    Parameters
    ----------
    genre : str
        One of the ten genres.
    artist : str
        An artist id of that genre (``"jazz_a2"``), see :func:`~mgc_helpers.data.synth.artists.artist_ids`.
    seed : int
        Seed of the clip; the same seed gives the same plan.
    duration : float
        Clip length in seconds.

    Returns
    -------
    ClipPlan

    Explained in ``06_dataset.ipynb``.
    """
    style, palette = _check_clip(genre, artist, duration)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
    # every line below draws from rng in turn: keep their order, or every clip changes
    borrowed = _borrowed_parts(rng, genre, style, palette)
    tempo = _tempo(rng, style, palette, borrowed)
    key = int(rng.choice(palette.keys)) if rng.random() < style.clips.favourite_key else int(rng.integers(12))
    progression = style.progressions[int(rng.choice(palette.progressions))]
    mode = progression_mode(progression)
    swing = _swing(rng, style, palette)
    groove = _groove(rng, genre, palette, borrowed, grid=style.steps_per_beat)
    ctx, offset = _context(rng, style, palette, tempo=tempo, key=key, progression=progression,
                           swing=swing, duration=duration)
    colour = _colour(rng, style, palette)
    jitter = style.clips.level_jitter
    levels = {name: style.mix.part_levels[name] + palette.levels[name] + float(rng.normal(0, jitter))
              for name in PARTS}
    levels["drums"] += GENRE_STYLES[borrowed.get("drums", genre)].drum_level
    active = _active_parts(ctx, style.form)
    hits = drum_hits(ctx, groove, active["drums"]) if groove else []
    instruments, notes = _pitched_parts(ctx, palette, borrowed, active, levels)
    return ClipPlan(
        genre=genre, artist=artist, seed=int(seed), duration=float(duration), tempo=tempo, key=key,
        mode=mode, meter=palette.meter, steps_per_beat=style.steps_per_beat, swing=swing,
        progression=progression, groove=groove, instruments=instruments, borrowed=borrowed,
        sections=ctx.sections, levels=levels, colour=colour, drive=palette.drive,
        brightness=palette.brightness, kit=palette.kit, offset=offset, notes=notes, hits=hits,
    )


def _check_clip(genre: str, artist: str, duration: float) -> tuple[GenreStyle, ArtistPalette]:
    """The genre's style and the artist's palette, or a :class:`ValueError` for bad arguments."""
    style = check_genre(genre)
    palette = artist_palette(artist)
    if palette.genre != genre:
        raise ValueError(f"artist {artist!r} does not belong to genre {genre!r}")
    if not duration > 0:
        raise ValueError(f"duration must be positive, got {duration!r}")
    return style, palette


def _borrowed_parts(rng: np.random.Generator, genre: str, style: GenreStyle,
                    palette: ArtistPalette) -> dict[str, str]:
    """Parts this clip borrows from a neighbouring genre: part -> lending genre."""
    borrowed: dict[str, str] = {}
    for name in style.clips.borrowable:
        if rng.random() < palette.borrow:
            if rng.random() < style.clips.from_neighbour:
                other = palette.neighbour
            else:
                other = str(rng.choice(NEIGHBOURS[genre]))
            if name == "drums" and bool(GENRE_STYLES[other].grooves) != bool(style.grooves):
                continue  # a genre without drums keeps none, a genre with drums keeps some
            borrowed[name] = other
    return borrowed


def _tempo(rng: np.random.Generator, style: GenreStyle, palette: ArtistPalette,
           borrowed: dict[str, str]) -> float:
    """A tempo in the artist's range, moved towards the lender's with borrowed drums (sometimes)."""
    tempo = float(rng.uniform(*palette.tempo))
    if "drums" in borrowed and rng.random() < style.clips.lender_tempo:
        lender = GENRE_STYLES[borrowed["drums"]].tempo
        lo, hi = max(style.tempo[0], lender[0]), min(style.tempo[1], lender[1])
        tempo = float(np.clip(tempo, lo, hi)) if lo <= hi else tempo
    return tempo


def _swing(rng: np.random.Generator, style: GenreStyle, palette: ArtistPalette) -> float:
    """The artist's swing with a little variation (none for straight styles)."""
    if style.swing[1] <= 0:
        return 0.0
    return float(np.clip(palette.swing + rng.normal(0, style.clips.swing_jitter), 0.0, style.clips.max_swing))


def _groove(rng: np.random.Generator, genre: str, palette: ArtistPalette, borrowed: dict[str, str], *,
            grid: int) -> dict[str, str]:
    """The drum pattern of each voice on the clip's grid ({} without drums)."""
    lender = GENRE_STYLES[borrowed.get("drums", genre)]
    if not lender.grooves:
        return {}
    choices = palette.grooves if "drums" not in borrowed else tuple(range(len(lender.grooves)))
    steps = palette.meter * grid
    return {v: fit_pattern(p, steps, source_grid=lender.steps_per_beat, grid=grid)
            for v, p in lender.grooves[int(rng.choice(choices))].items()}


def _context(rng: np.random.Generator, style: GenreStyle, palette: ArtistPalette, *, tempo: float, key: int,
             progression: str, swing: float, duration: float) -> tuple[ClipContext, float]:
    """The clip's timeline (a random start in the song, step times, sections) as a context."""
    grid = style.steps_per_beat
    steps = palette.meter * grid
    bar_seconds = 60.0 / tempo * palette.meter
    offset = float(rng.uniform(0.0, bar_seconds))
    n_bars = int(np.ceil((duration + offset) / bar_seconds)) + 2
    times = step_times(rng, n_bars * steps, tempo=tempo, grid=grid, swing=swing,
                       drift=style.drift * rng.uniform(*style.clips.drift_scale),
                       drift_period=style.clips.drift_period)
    sections, block = _sections(rng, style.form, progression, n_bars)
    scale = SCALES[style.scales[progression_mode(progression)]]
    ctx = ClipContext(rng=rng, style=style, key=key, scale=scale, steps=steps, grid=grid, times=times,
                      chords=parse_progression(progression, n_bars), sections=sections, block=block,
                      timing=palette.timing)
    return ctx, offset


def _sections(rng: np.random.Generator, form: Form, progression: str, n_bars: int) -> tuple[list[str], int]:
    """The section of every bar, ``form.section_bars`` (or progression-length) bars each, and that length."""
    n_chords = len(progression.split())
    block = form.section_bars if n_chords <= form.section_bars else n_chords
    pos = int(rng.integers(0, form.start_sections))
    sections: list[str] = []
    while len(sections) < n_bars:
        sections += [form.sections[pos % len(form.sections)]] * block
        pos += 1
    return sections[:n_bars], block


def _colour(rng: np.random.Generator, style: GenreStyle, palette: ArtistPalette) -> dict[str, float]:
    """The artist's recording colour with a little variation of lo-fi and reverb."""
    colour = {k: float(v) for k, v in palette.colour.items()}
    colour["lofi"] = float(np.clip(colour["lofi"] + rng.normal(0, style.clips.lofi_jitter), 0.0, 1.0))
    colour["reverb"] = float(max(0.0, colour["reverb"] * rng.uniform(*style.clips.reverb_scale)))
    return colour


def _active_parts(ctx: ClipContext, form: Form) -> dict[str, list[bool]]:
    """Whether each part plays in each bar; a decision holds for a whole section."""
    active = {name: [ctx.rng.random() < form.parts[s][name] for s in ctx.sections] for name in PARTS}
    for b in range(1, ctx.n_bars):
        if ctx.sections[b] == ctx.sections[b - 1] and b % ctx.block:
            for name in active:
                active[name][b] = active[name][b - 1]
    return active


def _pitched_parts(ctx: ClipContext, palette: ArtistPalette, borrowed: dict[str, str],
                   active: dict[str, list[bool]], levels: dict[str, float]
                   ) -> tuple[dict[str, str], dict[str, list[Note]]]:
    """Instrument and notes of every pitched part; adds each part's level trim to ``levels``."""
    style, rng = ctx.style, ctx.rng
    instruments: dict[str, str] = {}
    notes: dict[str, list[Note]] = {}
    for name in PITCHED:
        source = _part_source(style, name, borrowed)
        part: Part | None = getattr(source, name)
        if part is None:
            continue
        own = source is style
        instruments[name] = str(rng.choice(palette.instruments[name] if own else part.instruments))
        levels[name] += part.level
        if name == "lead":
            density = float(part.notes) * palette.lead_density * rng.uniform(*style.clips.lead_density)
            notes[name] = lead_line(ctx, part, density, active[name])
            continue
        choices = palette.rhythms.get(name, ()) if own else tuple(range(len(part.rhythms)))
        rhythm = fit_pattern(part.rhythms[int(rng.choice(choices))], ctx.steps,
                             source_grid=source.steps_per_beat, grid=ctx.grid)
        notes[name] = accompaniment(ctx, name, part, rhythm, active[name])
    return instruments, notes


def _part_source(style: GenreStyle, name: str, borrowed: dict[str, str]) -> GenreStyle:
    """The style a part comes from: the lender's if the part is borrowed and the lender has it."""
    lender = GENRE_STYLES[borrowed[name]] if name in borrowed else None
    return lender if lender is not None and getattr(lender, name) is not None else style
