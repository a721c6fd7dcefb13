"""The numbers that shape how the generator plays, as dataclasses with documented defaults.

Every :class:`~mgc_helpers.data.synth.styles.GenreStyle` holds one of each (its fields ``artists``,
``clips``, ``form``, ``playing``, ``lead_line``, ``mix`` and ``recording``). All ten genres use the
defaults below; a genre can override any of them, e.g.
``GenreStyle(..., playing=Playing(strum=0.02))``. Ranges ``(low, high)`` are drawn uniformly;
counts ``(low, high)`` are drawn as integers from ``low`` to ``high - 1``; probabilities are
between 0 and 1. Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: Part names in the order the generator visits them (the order of its random draws).
PARTS: tuple[str, ...] = ("drums", "bass", "chords", "pad", "arp", "lead")


@dataclass(frozen=True)
class ArtistVariation:
    """How the six artists of a genre differ from one another (drawn once per artist).

    Parameters
    ----------
    tempo_width : (float, float)
        Width of an artist's tempo sub-range, as a fraction of the genre's tempo range.
    keys, progressions, grooves, rhythms : (int, int)
        How many favourite keys, progressions, drum grooves and rhythm variants per part an
        artist picks (an integer from ``low`` to ``high - 1``).
    two_leads : float
        Probability that an artist alternates between two lead instruments.
    drum_tune, drum_bright : (float, float)
        The artist's drum kit: pitch factor and noise brightness factor per drum voice.
    brightness : (float, float)
        Tone colour of the artist's instruments (negative: darker, positive: brighter).
    levels : (float, float)
        Mix level change per part in dB.
    tilt : (float, float)
        Spectral tilt of the recording in dB (high shelf, see ``Recording.tilt_frequency``).
    loudness : (float, float)
        Drive of the master's soft clipper (1: gentle, 3: loud and squashed).
    borrow : tuple of float
        Chance per part and clip of borrowing it from a neighbouring genre; one is chosen.
    lead_density : (float, float)
        How busy the artist's lead lines are (factor on the style's lead density).
    timing_live, timing_machine : (float, float)
        Standard deviation (s) of the timing of notes and hits for a live band (styles with
        tempo drift) and for a drum machine (styles without).
    """

    tempo_width: tuple[float, float] = (0.3, 0.5)
    keys: tuple[int, int] = (2, 4)
    progressions: tuple[int, int] = (2, 4)
    grooves: tuple[int, int] = (1, 3)
    rhythms: tuple[int, int] = (1, 3)
    two_leads: float = 0.4
    drum_tune: tuple[float, float] = (0.85, 1.15)
    drum_bright: tuple[float, float] = (0.7, 1.2)
    brightness: tuple[float, float] = (-0.35, 0.45)
    levels: tuple[float, float] = (-3.0, 3.0)
    tilt: tuple[float, float] = (-4.0, 4.0)
    loudness: tuple[float, float] = (1.0, 3.0)
    borrow: tuple[float, ...] = (0.03, 0.1, 0.3)
    lead_density: tuple[float, float] = (0.7, 1.3)
    timing_live: tuple[float, float] = (0.0, 0.012)
    timing_machine: tuple[float, float] = (0.0, 0.003)


@dataclass(frozen=True)
class ClipVariation:
    """How the clips of one artist differ from one another (drawn once per clip).

    Parameters
    ----------
    from_neighbour : float
        Probability that a borrowed part comes from the artist's own neighbour genre (else from
        any neighbour of the genre).
    lender_tempo : float
        Probability that a clip with borrowed drums moves its tempo into the lender's range.
    favourite_key : float
        Probability of playing in one of the artist's favourite keys (else any key).
    swing_jitter : float
        Standard deviation of the clip's swing around the artist's.
    max_swing : float
        Upper limit of the swing (fraction of a grid step).
    drift_scale : (float, float)
        Factor on the style's tempo drift.
    drift_period : (float, float)
        Period of the slow tempo drift in seconds.
    lofi_jitter : float
        Standard deviation of the clip's lo-fi amount around the artist's.
    reverb_scale : (float, float)
        Factor on the artist's reverb level.
    level_jitter : float
        Standard deviation (dB) of each part's level.
    lead_density : (float, float)
        Factor on the lead density of the artist.
    borrowable : tuple of str
        The parts a clip may borrow from a neighbouring genre, in the order they are decided.
    """

    from_neighbour: float = 0.75
    lender_tempo: float = 0.5
    favourite_key: float = 0.8
    swing_jitter: float = 0.02
    max_swing: float = 0.4
    drift_scale: tuple[float, float] = (0.5, 1.5)
    drift_period: tuple[float, float] = (6.0, 16.0)
    lofi_jitter: float = 0.1
    reverb_scale: tuple[float, float] = (0.7, 1.3)
    level_jitter: float = 1.5
    lead_density: tuple[float, float] = (0.8, 1.2)
    borrowable: tuple[str, ...] = ("drums", "bass", "chords", "lead")


def _section_parts() -> dict[str, dict[str, float]]:
    return {
        "intro": {"drums": 0.5, "bass": 0.5, "chords": 1.0, "pad": 0.6, "arp": 1.0, "lead": 0.2},
        "verse": {"drums": 1.0, "bass": 1.0, "chords": 1.0, "pad": 0.3, "arp": 0.8, "lead": 0.75},
        "chorus": {"drums": 1.0, "bass": 1.0, "chords": 1.0, "pad": 0.9, "arp": 1.0, "lead": 1.0},
        "break": {"drums": 0.3, "bass": 0.6, "chords": 1.0, "pad": 1.0, "arp": 1.0, "lead": 0.5},
    }


@dataclass(frozen=True)
class Form:
    """The song form: which sections follow each other and what plays in them.

    Parameters
    ----------
    sections : tuple of str
        The song's sections in order (the form repeats); a clip starts somewhere in it.
    start_sections : int
        A clip starts in one of the first ``start_sections`` sections.
    section_bars : int
        Bars per section (a longer progression makes the section as long as the progression).
    parts : dict
        Probability that each part plays in each kind of section; the decision holds for the
        whole section.
    gains : dict
        Level of each kind of section in dB (louder choruses, softer intros).
    """

    sections: tuple[str, ...] = ("intro", "verse", "chorus", "verse", "chorus", "break", "chorus", "chorus")
    start_sections: int = 4
    section_bars: int = 4
    parts: Mapping[str, Mapping[str, float]] = field(default_factory=_section_parts)
    gains: Mapping[str, float] = field(
        default_factory=lambda: {"intro": -3.0, "verse": -1.0, "chorus": 1.5, "break": -2.5})


@dataclass(frozen=True)
class Playing:
    """How the drums and the accompaniment (bass, chords, pad, arpeggio) are played.

    Parameters
    ----------
    velocities : dict
        Velocity of the pattern characters ``X`` (accent), ``x`` (normal) and ``o`` (ghost note).
    drum_velocity : (float, float)
        Random factor on the velocity of every drum hit.
    light_sections : tuple of str
        Sections in which the drums play lightly, without ``light_voices``.
    light_voices : tuple of str
        The drum voices left out in light sections.
    crash_velocity : float
        Velocity of the crash cymbal that opens every chorus.
    fill : float
        Probability of a snare fill on the last beat of a section.
    note_velocity : (float, float)
        Random factor on the velocity of every accompaniment note.
    downbeat_accent : float
        Velocity factor of notes on a beat.
    bass_skip : float
        Probability that the bass leaves out a note.
    approach_above : float
        Probability that a chromatic approach note (``A``) comes from a semitone above.
    strum : float
        Delay (s) between the strings of a strummed chord (chords part only).
    strum_jitter : (float, float)
        Random factor on each string's strum delay.
    """

    velocities: Mapping[str, float] = field(default_factory=lambda: {"X": 1.0, "x": 0.8, "o": 0.3})
    drum_velocity: tuple[float, float] = (0.85, 1.0)
    light_sections: tuple[str, ...] = ("intro", "break")
    light_voices: tuple[str, ...] = ("kick", "snare", "clap", "crash")
    crash_velocity: float = 0.9
    fill: float = 0.5
    note_velocity: tuple[float, float] = (0.8, 1.0)
    downbeat_accent: float = 1.1
    bass_skip: float = 0.06
    approach_above: float = 0.5
    strum: float = 0.012
    strum_jitter: tuple[float, float] = (0.6, 1.4)

    def velocity(self, char: str) -> float:
        """Velocity of a pattern character (``0.8``, a normal hit, for unknown ones)."""
        return self.velocities.get(char, 0.8)


@dataclass(frozen=True)
class LeadLine:
    """How the lead improvises: one-bar motifs, repeated and varied, with rests between phrases.

    Parameters
    ----------
    range : int
        Pitch range of the lead in semitones above the part's register.
    beat_weight, offbeat_weight, weak_weight, downbeat_weight : float
        Relative chance of an onset on a beat, on an off-beat (the middle sixteenth, or the last
        triplet), on any other step, and on the first step of a 4/4 bar on a sixteenth grid.
    phrase_bars : int
        Phrase length in bars: the last bar of a phrase may rest.
    rest : float
        Probability that the last bar of a phrase rests.
    forget : float
        Probability that a rest ends the current motif.
    new_motif : float
        Probability of a new motif in a bar (else the last one is repeated).
    chorus_density : float
        Factor on the onset chance in choruses.
    max_onset : float
        Highest onset chance of a step.
    moves : tuple of int
        Scale steps between consecutive notes, one drawn per note.
    max_note : float
        Longest note in seconds.
    velocity : (float, float)
        Random velocity of a note.
    beat_accent : float
        Velocity factor of notes on a beat.
    """

    range: int = 20
    beat_weight: float = 1.0
    offbeat_weight: float = 0.6
    weak_weight: float = 0.25
    downbeat_weight: float = 1.3
    phrase_bars: int = 4
    rest: float = 0.4
    forget: float = 0.5
    new_motif: float = 0.35
    chorus_density: float = 1.3
    max_onset: float = 0.97
    moves: tuple[int, ...] = (-2, -1, -1, 0, 1, 1, 2)
    max_note: float = 2.5
    velocity: tuple[float, float] = (0.75, 1.0)
    beat_accent: float = 1.1


@dataclass(frozen=True)
class Mix:
    """Levels and dynamics of the mix.

    Parameters
    ----------
    part_levels : dict
        Level (dB, RMS while playing) of each part before the style's, artist's and clip's changes.
    drum_levels : dict
        Level of each drum voice in dB relative to the kick.
    dynamics : (float, float)
        Standard deviation (dB) of the random level of each bar, with and without drums (slow
        swells are strongest without drums).
    brightness_pluck : float
        How much an artist's brightness changes the pluck of plucked strings.
    shortest_note : float
        Shortest note rendered, in seconds.
    drum_takes : int
        Recorded takes of each drum sound (different noise), used in turn.
    driven_parts : tuple of str
        Parts whose bus goes through the distortion of a driven instrument (guitar amplifier).
    dry_parts : tuple of str
        Parts kept out of the reverb and echo (the bass stays dry and clear).
    """

    part_levels: Mapping[str, float] = field(default_factory=lambda: {
        "drums": 0.0, "bass": -2.0, "chords": -4.0, "pad": -9.0, "arp": -7.0, "lead": -3.0})
    drum_levels: Mapping[str, float] = field(default_factory=lambda: {
        "kick": 0.0, "snare": -2.0, "clap": -3.0, "rim": -7.0, "brush": -9.0, "hat": -12.0,
        "open_hat": -13.0, "shaker": -15.0, "ride": -13.0, "crash": -11.0})
    dynamics: tuple[float, float] = (1.0, 3.0)
    brightness_pluck: float = 0.3
    shortest_note: float = 0.02
    drum_takes: int = 3
    driven_parts: tuple[str, ...] = ("chords", "lead")
    dry_parts: tuple[str, ...] = ("bass",)


@dataclass(frozen=True)
class Recording:
    """The recording colour of the master; ``lofi`` (0 clean .. 1 old recording) scales most of it.

    Parameters
    ----------
    highpass : (float, float)
        Low cut-off in Hz: ``highpass[0] + highpass[1] * lofi``.
    lowpass : (float, float)
        High cut-off in Hz: ``lowpass[0] - lowpass[1] * lofi``.
    tilt_frequency : float
        Corner frequency (Hz) of the shelf that tilts the spectrum.
    hiss : (float, float)
        Tape hiss in dB relative to the signal: ``hiss[0] + hiss[1] * lofi``.
    crackle_rate : float
        Vinyl pops per second at full crackle.
    crackle_level : float
        Level of a pop relative to the signal's RMS at full crackle.
    """

    highpass: tuple[float, float] = (25.0, 120.0)
    lowpass: tuple[float, float] = (11000.0, 7000.0)
    tilt_frequency: float = 1000.0
    hiss: tuple[float, float] = (-65.0, 32.0)
    crackle_rate: float = 25.0
    crackle_level: float = 4.0
