"""The ten genre styles of the synthetic dataset, as data in one place.

Every musical choice the generator makes per genre is written down here, in :data:`GENRE_STYLES`,
so that a reader can see it (``styles_table()`` shows it as a table in ``06_dataset.ipynb``) and
change it. The renderer in :mod:`mgc_helpers.data.synth.render` only interprets these entries.

Patterns are one bar long, one character per grid step (``steps_per_beat`` steps per beat, so a
4/4 bar on a sixteenth-note grid has 16 characters and on a triplet grid 12):

* drums: ``X`` accent, ``x`` normal hit, ``o`` ghost note, ``.`` rest;
* bass and arpeggio lines: ``x`` marks an onset; the notes are taken in turn from ``notes``, a cycle
  of chord-relative tokens: ``R`` root, ``3`` third, ``5`` fifth, ``6`` major sixth, ``7`` the
  chord's seventh, ``O`` octave, ``L`` root an octave down, ``A`` chromatic approach to the next
  chord's root (walking bass);
* chord parts: ``x`` marks a chord hit, voiced as ``voicing`` (``triad``, ``seventh``, ``power``,
  ``shell``, ``open``).

Harmony is a progression of Roman numerals relative to the key's tonic, one chord per bar (two
chords in one bar are joined by a comma): upper case is major, lower case minor, ``7`` a seventh
chord (dominant on upper case, minor seventh on lower case), ``maj7`` a major seventh, ``5`` a power
chord, ``o7``/``dim`` diminished, ``ø7`` half-diminished, ``b``/``#`` prefixes move the root.
How the generator plays (probabilities, velocities, levels, recording colour) is tuned by the
dataclasses of :mod:`mgc_helpers.data.synth.tuning`, held by every style. Explained in
``06_dataset.ipynb``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .tuning import ArtistVariation, ClipVariation, Form, LeadLine, Mix, Playing, Recording

if TYPE_CHECKING:
    import pandas as pd

#: Stylistic neighbours a clip or an artist may borrow a part from (GTZAN's genres overlap too).
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "blues": ("jazz", "rock", "country"),
    "classical": ("jazz",),
    "country": ("rock", "blues", "pop"),
    "disco": ("pop", "hiphop"),
    "hiphop": ("reggae", "pop", "disco"),
    "jazz": ("blues", "classical"),
    "metal": ("rock",),
    "pop": ("disco", "rock", "hiphop"),
    "reggae": ("hiphop", "pop"),
    "rock": ("metal", "country", "pop", "blues"),
}


@dataclass(frozen=True)
class Part:
    """One pitched part of an arrangement (bass, chords, pad, arpeggio or lead).

    Parameters
    ----------
    instruments : tuple of str
        Names in :data:`mgc_helpers.data.synth.instruments.INSTRUMENTS`; each artist picks from these.
    rhythms : tuple of str
        One-bar onset patterns (variants); empty for the lead, whose rhythm is improvised.
    notes : str
        Token cycle (bass, arpeggio), chord voicing (chords, pad) or scale density hint (lead).
    register : int
        MIDI note of the lowest root (bass 28 = E1, chords 52 = E3, lead 60 = C4).
    gate : float
        Note length as a fraction of the gap to the next onset (1 = legato, 0.3 = staccato).
    level : float
        Mix level in dB before the artist's and the clip's changes.
    """

    instruments: tuple[str, ...]
    rhythms: tuple[str, ...] = ()
    notes: str = "R"
    register: int = 40
    gate: float = 0.9
    level: float = 0.0


@dataclass(frozen=True)
class GenreStyle:
    """Everything the generator needs to play one genre.

    Parameters
    ----------
    tempo : (float, float)
        Tempo range in beats per minute.
    meters : tuple of int
        Beats per bar the artists choose from.
    steps_per_beat : int
        Grid resolution: 4 (sixteenth notes) or 3 (triplets: shuffle and swing).
    swing : (float, float)
        Range of the delay of every second sixteenth, as a fraction of a step.
    drift : float
        Amount of slow tempo variation (rubato, live band); 0 for drum machines.
    grooves : tuple of dict
        Drum patterns, voice -> pattern; an empty tuple means no drums.
    kit : dict
        Drum sound parameters per voice (see :func:`mgc_helpers.data.synth.instruments.drum_hit`).
    progressions : tuple of str
        Chord progressions in Roman numerals, one chord per bar.
    scales : dict
        Lead scale for ``"major"`` and ``"minor"`` keys.
    bass, chords, pad, arp, lead : Part or None
        The pitched parts (``None``: the genre does not use that part).
    effects : dict
        Ranges ``(low, high)`` for ``drive`` (guitar distortion), ``reverb`` (wet level),
        ``room`` (reverb time in s), ``lofi`` (0 clean .. 1 old recording), ``crackle`` (vinyl);
        a missing one is taken from :data:`DEFAULT_EFFECTS`.
    drum_level : float
        Mix level of the drums in dB relative to the default (jazz brushes sit lower).
    description : str
        One line for the style table.
    echo : (float, float) or None
        Tape echo on everything but the bass: delay in beats and feedback (reggae's dub echo);
        a clip that borrows this genre's chords gets it too.
    artists, clips, form, playing, lead_line, mix, recording
        The tuning of the generator (:mod:`mgc_helpers.data.synth.tuning`): how artists and clips
        vary, the song form, how drums, accompaniment and lead are played, the mix and the
        recording colour. Every genre uses the defaults.
    """

    tempo: tuple[float, float]
    meters: tuple[int, ...]
    steps_per_beat: int
    swing: tuple[float, float]
    drift: float
    grooves: tuple[Mapping[str, str], ...]
    kit: Mapping[str, Mapping[str, float]]
    progressions: tuple[str, ...]
    scales: Mapping[str, str]
    bass: Part | None
    chords: Part | None
    pad: Part | None
    arp: Part | None
    lead: Part | None
    effects: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    drum_level: float = 0.0
    description: str = ""
    echo: tuple[float, float] | None = None
    artists: ArtistVariation = field(default_factory=ArtistVariation)
    clips: ClipVariation = field(default_factory=ClipVariation)
    form: Form = field(default_factory=Form)
    playing: Playing = field(default_factory=Playing)
    lead_line: LeadLine = field(default_factory=LeadLine)
    mix: Mix = field(default_factory=Mix)
    recording: Recording = field(default_factory=Recording)

    def effect_range(self, name: str) -> tuple[float, float]:
        """The range of effect ``name``, from :attr:`effects` or else :data:`DEFAULT_EFFECTS`."""
        return self.effects.get(name, DEFAULT_EFFECTS[name])


#: Effect ranges of a style that does not name them (see :attr:`GenreStyle.effects`).
DEFAULT_EFFECTS: dict[str, tuple[float, float]] = {
    "drive": (0.0, 0.0), "reverb": (0.1, 0.3), "room": (0.8, 1.5), "lofi": (0.0, 0.3), "crackle": (0.0, 0.0)}


# --- the ten styles -----------------------------------------------------------------------------
# Patterns are aligned so that beats can be read off: with 16 steps, beats start at 0, 4, 8, 12.

GENRE_STYLES: dict[str, GenreStyle] = {
    "blues": GenreStyle(
        tempo=(68, 128), meters=(4,), steps_per_beat=3, swing=(0.0, 0.0), drift=0.015,
        grooves=(
            {"kick": "x.....x.....", "snare": "...x.....x..", "hat": "x.xx.xx.xx.x"},
            {"kick": "x..o..x..o..", "snare": "...x.....X..", "ride": "x.xx.xx.xx.x"},
            {"kick": "x.....x.....", "snare": "...x..o..x..", "hat": "x..x..x..x.."},
        ),
        kit={"kick": {"tune": 0.9}, "snare": {"tone": 0.5}, "hat": {"decay": 0.05}},
        progressions=(
            "I7 IV7 I7 I7 IV7 IV7 I7 I7 V7 IV7 I7 V7",
            "I7 I7 I7 I7 IV7 IV7 I7 I7 V7 IV7 I7 V7",
            "i7 iv7 i7 i7 iv7 iv7 i7 i7 bVI7 V7 i7 V7",
        ),
        scales={"major": "blues", "minor": "blues"},
        bass=Part(("bass_finger", "upright"), ("x..x..x..x..", "x.xx.xx.xx.x"),
                  notes="R 3 5 6 7 6 5 3", register=28, gate=0.85),
        chords=Part(("piano", "organ", "guitar_clean"), ("x.xx.xx.xx.x", "...x.....x..", "x.....x....."),
                    notes="seventh", register=50, gate=0.6, level=0),
        pad=None,
        arp=None,
        lead=Part(("harmonica", "guitar_blues", "sax"), notes="0.45", register=60, gate=0.9, level=1),
        effects={"drive": (0.0, 0.3), "reverb": (0.1, 0.3), "room": (0.6, 1.4),
                 "lofi": (0.3, 0.9), "crackle": (0.0, 0.4)},
        drum_level=-2,
        description="12-bar dominant-7th changes, triplet shuffle, walking boogie bass, blues scale",
    ),
    "classical": GenreStyle(
        tempo=(56, 120), meters=(3, 4), steps_per_beat=4, swing=(0.0, 0.0), drift=0.06,
        grooves=(),
        kit={},
        progressions=(
            "I IV V I", "I vi ii V", "i iv V i", "I V vi iii IV I IV V",
            "i bVI iv V", "I ii7 V7 I",
        ),
        scales={"major": "major", "minor": "harmonic_minor"},
        bass=Part(("cello", "piano_low"), ("x...............", "x.......x......."),
                  notes="R 5", register=36, gate=1.0, level=-2),
        chords=None,
        pad=Part(("strings", "strings_soft", "organ_soft"), ("x...............",),
                 notes="open", register=52, gate=1.0, level=2),
        arp=Part(("piano", "harp"), ("x.x.x.x.x.x.x.x.", "x...x...x...x...", "xxxxxxxxxxxxxxxx"),
                 notes="R 5 O 3 5 O 3 5", register=48, gate=1.0, level=2),
        lead=Part(("violin", "flute", "piano_high", "oboe"), notes="0.3", register=62, gate=1.0, level=1),
        effects={"drive": (0.0, 0.0), "reverb": (0.25, 0.5), "room": (1.5, 2.8),
                 "lofi": (0.0, 0.5), "crackle": (0.0, 0.15)},
        description="no drums; strings, piano arpeggios and a solo line; rubato and dynamics",
    ),
    "country": GenreStyle(
        tempo=(96, 150), meters=(4,), steps_per_beat=4, swing=(0.0, 0.12), drift=0.015,
        grooves=(
            {"kick": "x.......x.......", "snare": "oooxoooooooxoooo"},
            {"kick": "x.......x.......", "snare": "....x.......x...", "hat": "x.x.x.x.x.x.x.x."},
            {"kick": "x.....x.x.......", "snare": "....x.......x...", "shaker": "xxxxxxxxxxxxxxxx"},
        ),
        kit={"snare": {"tone": 0.3, "decay": 0.08}, "kick": {"tune": 1.0}},
        progressions=("I IV V I", "I I IV IV V V I I", "I V IV I", "I IV I V", "I vi IV V"),
        scales={"major": "major_pentatonic", "minor": "minor_pentatonic"},
        bass=Part(("bass_finger", "bass_pick"), ("x.......x.......", "x...x...x...x..."),
                  notes="R 5 R L", register=31, gate=0.7),
        chords=Part(("guitar_acoustic", "guitar_twang"),
                    ("x...x.x.x...x.x.", "....x.......x...", "x.x.x.x.x.x.x.x."),
                    notes="open", register=52, gate=0.5, level=2),
        pad=Part(("steel_pad", "organ_soft"), ("x...............",), notes="triad", register=57,
                 gate=1.0, level=-4),
        arp=None,
        lead=Part(("fiddle", "guitar_twang_lead", "steel", "vox"), notes="0.5", register=62),
        effects={"drive": (0.0, 0.15), "reverb": (0.1, 0.25), "room": (0.8, 1.4),
                 "lofi": (0.1, 0.5), "crackle": (0.0, 0.1)},
        drum_level=-2,
        description="train beat and boom-chick, root-fifth bass, twangy plucks and fiddle, I-IV-V",
    ),
    "disco": GenreStyle(
        tempo=(108, 132), meters=(4,), steps_per_beat=4, swing=(0.0, 0.05), drift=0.0,
        grooves=(
            {"kick": "x...x...x...x...", "snare": "....x.......x...", "hat": "x.x.x.x.x.x.x.x.",
             "open_hat": "..x...x...x...x."},
            {"kick": "x...x...x...x...", "clap": "....x.......x...", "hat": "xxxxxxxxxxxxxxxx",
             "open_hat": "..x...x...x...x."},
            {"kick": "x...x...x...x...", "snare": "....x.......x..o", "open_hat": "..x...x...x...x.",
             "shaker": "x.xxx.xxx.xxx.xx"},
        ),
        kit={"kick": {"tune": 1.1, "decay": 0.2}, "open_hat": {"decay": 0.22}},
        progressions=("i7 iv7 i7 iv7", "Imaj7 ii7 iii7 ii7", "vi ii V I", "i7 bVII i7 bVII",
                      "ii7 V7 Imaj7 vi7"),
        scales={"major": "major", "minor": "dorian"},
        bass=Part(("bass_synth", "bass_finger"), ("x.x.x.x.x.x.x.x.", "x.xxx.x.x.xxx.x."),
                  notes="R O", register=28, gate=0.6, level=1),
        chords=Part(("guitar_scratch", "epiano", "clav"), ("..x...x...x...x.", "x.xx.xx.x.xx.xx.",
                                                            "...x..x....x..x."),
                    notes="seventh", register=55, gate=0.35, level=0),
        pad=Part(("strings", "synth_pad"), ("x...............",), notes="open", register=55,
                 gate=1.0, level=2),
        arp=None,
        lead=Part(("strings_lead", "synth_lead", "vox"), notes="0.55", register=64),
        effects={"drive": (0.0, 0.1), "reverb": (0.1, 0.3), "room": (0.8, 1.6),
                 "lofi": (0.1, 0.5), "crackle": (0.0, 0.1)},
        drum_level=1,
        description="four-on-the-floor, open hats on the off-beats, octave bass, strings and guitar scratch",
    ),
    "hiphop": GenreStyle(
        tempo=(76, 100), meters=(4,), steps_per_beat=4, swing=(0.08, 0.3), drift=0.0,
        grooves=(
            {"kick": "x......x..x.....", "snare": "....x.......x...", "hat": "x.x.x.x.x.x.x.x."},
            {"kick": "x.x.......xx....", "snare": "....x.......x..o", "hat": "x.xxx.x.x.xxx.x."},
            {"kick": "x......x.x......", "clap": "....x.......x...", "hat": "xxxxxxxxxxxxxxxx"},
        ),
        kit={"kick": {"tune": 0.8, "decay": 0.5, "click": 0.6}, "snare": {"tone": 0.4, "decay": 0.15}},
        progressions=("i bVI i bVI", "i7 iv7 i7 iv7", "i7 iv7 bVI bVII", "ii7 V7 Imaj7 Imaj7",
                      "i i bVII bVI"),
        scales={"major": "major_pentatonic", "minor": "minor_pentatonic"},
        bass=Part(("bass_sub", "bass_synth"), ("x......x..x.....", "x.......x.x....."),
                  notes="R R 5 L", register=28, gate=0.95, level=2),
        chords=Part(("epiano", "piano", "bell"), ("x.......x.......", "x.........x.....", "x..............."),
                    notes="seventh", register=55, gate=0.9, level=0),
        pad=None,
        arp=None,
        lead=Part(("vox_rap", "flute", "bell"), notes="0.6", register=55, gate=0.7, level=1),
        effects={"drive": (0.0, 0.2), "reverb": (0.05, 0.2), "room": (0.5, 1.0),
                 "lofi": (0.3, 0.9), "crackle": (0.1, 0.6)},
        drum_level=1,
        description="slow swung boom-bap, sub bass following the kick, sampled-sounding chords",
    ),
    "jazz": GenreStyle(
        tempo=(96, 210), meters=(4,), steps_per_beat=3, swing=(0.0, 0.0), drift=0.02,
        grooves=(
            {"ride": "x..x.xx..x.x", "hat": "...x.....x..", "kick": "o.....o.....", "brush": "...o.....o.."},
            {"ride": "x..x.xx..x.x", "hat": "...x.....x..", "snare": ".....o....o."},
            {"brush": "xxxxxxxxxxxx", "hat": "...x.....x..", "kick": "o.....o....."},
        ),
        kit={"ride": {"decay": 0.9}, "kick": {"tune": 1.2, "decay": 0.15}, "snare": {"tone": 0.2}},
        progressions=("ii7 V7 Imaj7 Imaj7", "Imaj7 vi7 ii7 V7", "ii7 V7 Imaj7 VI7",
                      "iiø7 V7 i7 i7", "Imaj7 IV7 iii7 VI7 ii7 V7 Imaj7 V7"),
        scales={"major": "bebop", "minor": "dorian"},
        bass=Part(("upright",), ("x..x..x..x..",), notes="R 3 5 A", register=28, gate=0.9),
        chords=Part(("epiano", "piano", "guitar_jazz"), ("...x.....x..", "x.....x..x..", ".....x....x.",
                                                         "..x.....x..."),
                    notes="shell", register=52, gate=0.5, level=-1),
        pad=None,
        arp=None,
        lead=Part(("sax", "trumpet", "vibes", "piano_high"), notes="0.55", register=58, level=1),
        effects={"drive": (0.0, 0.0), "reverb": (0.15, 0.35), "room": (0.8, 1.8),
                 "lofi": (0.2, 0.8), "crackle": (0.0, 0.3)},
        drum_level=-5,
        description="swing ride, walking bass, ii-V-I with seventh chords, sax or trumpet lines",
    ),
    "metal": GenreStyle(
        tempo=(132, 200), meters=(4,), steps_per_beat=4, swing=(0.0, 0.0), drift=0.005,
        grooves=(
            {"kick": "xxxxxxxxxxxxxxxx", "snare": "....X.......X...", "crash": "x...x...x...x..."},
            {"kick": "x.x.x.x.x.x.x.x.", "snare": "....X.......X...", "ride": "x.x.x.x.x.x.x.x."},
            {"kick": "xxxxxxxxxxxxxxxx", "snare": "..X...X...X...X.", "hat": "x.x.x.x.x.x.x.x."},
        ),
        kit={"kick": {"tune": 1.1, "decay": 0.12, "click": 1.0}, "snare": {"tone": 0.5, "decay": 0.18}},
        progressions=("i5 bVI5 bVII5 i5", "i5 bII5 i5 bVII5", "i5 i5 bVI5 bVII5", "i5 iv5 bVI5 V5"),
        scales={"major": "minor", "minor": "phrygian"},
        bass=Part(("bass_pick",), ("x.xxx.xxx.xxx.xx", "xxxxxxxxxxxxxxxx"), notes="R", register=28,
                  gate=0.8, level=-2),
        chords=Part(("guitar_metal",), ("x.xxx.xxx.xxx.xx", "xxxxxxxxxxxxxxxx", "x...x.x.x...x.x."),
                    notes="power", register=40, gate=0.55, level=4),
        pad=None,
        arp=None,
        lead=Part(("guitar_lead", "vox_scream"), notes="0.85", register=60, level=-1),
        effects={"drive": (0.8, 1.0), "reverb": (0.05, 0.2), "room": (0.6, 1.2),
                 "lofi": (0.0, 0.4), "crackle": (0.0, 0.0)},
        description="fast, double kick, heavily distorted power chords, phrygian and minor riffs",
    ),
    "pop": GenreStyle(
        tempo=(92, 128), meters=(4,), steps_per_beat=4, swing=(0.0, 0.06), drift=0.0,
        grooves=(
            {"kick": "x.....x.x.......", "clap": "....x.......x...", "hat": "x.x.x.x.x.x.x.x."},
            {"kick": "x...x...x...x...", "snare": "....x.......x...", "hat": "..x...x...x...x."},
            {"kick": "x.......x.x.....", "clap": "....x.......x...", "shaker": "x.xxx.xxx.xxx.xx"},
        ),
        kit={"kick": {"tune": 1.0, "decay": 0.3}, "clap": {"decay": 0.12}},
        progressions=("I V vi IV", "vi IV I V", "I vi IV V", "IV I V vi", "I iii IV V"),
        scales={"major": "major", "minor": "minor"},
        bass=Part(("bass_synth", "bass_finger"), ("x.x.x.x.x.x.x.x.", "x..x..x.x..x..x."),
                  notes="R R 5 R", register=28, gate=0.7),
        chords=Part(("synth_pluck", "piano", "guitar_clean"), ("x..x..x.x..x..x.", "x.x.x.x.x.x.x.x."),
                    notes="triad", register=55, gate=0.5, level=-1),
        pad=Part(("synth_pad", "supersaw"), ("x...............",), notes="open", register=55,
                 gate=1.0, level=1),
        arp=None,
        lead=Part(("vox", "synth_lead", "bell"), notes="0.5", register=62, level=1),
        effects={"drive": (0.0, 0.1), "reverb": (0.15, 0.3), "room": (0.8, 1.6),
                 "lofi": (0.0, 0.3), "crackle": (0.0, 0.0)},
        description="bright synths and vocal-like lead, I-V-vi-IV, clap backbeat",
    ),
    "reggae": GenreStyle(
        tempo=(64, 92), meters=(4,), steps_per_beat=4, swing=(0.05, 0.2), drift=0.01,
        grooves=(
            {"kick": "........x.......", "rim": "........x.......", "hat": "x.x.x.x.x.x.x.x."},
            {"kick": "x.......x.......", "rim": "....x.......x...", "hat": "..x...x...x...x."},
            {"kick": "x...x...x...x...", "snare": "........x.......", "hat": "x.xxx.xxx.xxx.xx"},
        ),
        kit={"kick": {"tune": 0.9, "decay": 0.3}, "rim": {"decay": 0.03}},
        progressions=("I IV I IV", "i iv i iv", "I bVII I bVII", "I V vi IV", "ii V ii V"),
        scales={"major": "major_pentatonic", "minor": "minor_pentatonic"},
        bass=Part(("bass_round", "bass_sub"), ("x..x..x.....x.x.", "..x.x...x..x....", "x.....x.x......."),
                  notes="R 5 O 5", register=28, gate=0.8, level=3),
        chords=Part(("guitar_skank", "organ_skank"), ("....x.......x...", "..x...x...x...x."),
                    notes="triad", register=55, gate=0.25, level=3),
        pad=Part(("organ_soft",), ("..x.x...x.x.x...",), notes="triad", register=55, gate=0.4, level=-6),
        arp=None,
        lead=Part(("melodica", "vox", "organ_lead"), notes="0.35", register=60),
        effects={"drive": (0.0, 0.1), "reverb": (0.2, 0.45), "room": (1.0, 2.2),
                 "lofi": (0.2, 0.7), "crackle": (0.0, 0.3)},
        drum_level=-1,
        description="one-drop and steppers beats, off-beat skank, round bass with rests, lots of echo",
        echo=(0.75, 0.45),
    ),
    "rock": GenreStyle(
        tempo=(100, 152), meters=(4,), steps_per_beat=4, swing=(0.0, 0.05), drift=0.01,
        grooves=(
            {"kick": "x.......x.x.....", "snare": "....x.......x...", "hat": "x.x.x.x.x.x.x.x."},
            {"kick": "x.x.....x.x.....", "snare": "....x.......x...", "ride": "x.x.x.x.x.x.x.x."},
            {"kick": "x...x...x...x...", "snare": "....x.......x...", "hat": "xxxxxxxxxxxxxxxx",
             "crash": "x..............."},
        ),
        kit={"kick": {"tune": 1.0, "decay": 0.2}, "snare": {"tone": 0.5, "decay": 0.16}},
        progressions=("I IV V IV", "I bVII IV I", "I V vi IV", "i bVI bVII i", "I IV I V"),
        scales={"major": "major_pentatonic", "minor": "minor_pentatonic"},
        bass=Part(("bass_pick", "bass_finger"), ("x.x.x.x.x.x.x.x.", "x..x..x.x..x..x."),
                  notes="R", register=28, gate=0.8),
        chords=Part(("guitar_crunch", "guitar_clean"),
                    ("x.x.x.x.x.x.x.x.", "x..x..x.x..x..x.", "x.......x......."),
                    notes="power", register=40, gate=0.8, level=2),
        pad=Part(("organ_soft",), ("x...............",), notes="triad", register=55, gate=1.0, level=-6),
        arp=None,
        lead=Part(("vox", "guitar_lead"), notes="0.55", register=60),
        effects={"drive": (0.3, 0.6), "reverb": (0.1, 0.25), "room": (0.8, 1.5),
                 "lofi": (0.0, 0.6), "crackle": (0.0, 0.1)},
        description="backbeat, eighth-note power chords with mild distortion, pentatonic vocal-like lead",
    ),
}


def styles_table() -> pd.DataFrame:
    """The styles as a :class:`pandas.DataFrame`, one row per genre (shown in ``06_dataset.ipynb``).

    Returns
    -------
    pandas.DataFrame
        Index: genre; columns: tempo, meter, grid, swing, drums, bass, harmony, scales,
        instruments, effects, description.

    Examples
    --------
    >>> styles_table().loc["metal", "tempo"]
    '132-200 bpm'
    """
    import pandas as pd

    rows: list[dict[str, str]] = []
    for genre, style in sorted(GENRE_STYLES.items()):
        parts = {name: getattr(style, name) for name in ("bass", "chords", "pad", "arp", "lead")}
        instruments = "; ".join(f"{name}: {'/'.join(p.instruments)}" for name, p in parts.items() if p)
        drums = (" | ".join(f"{v} {p}" for v, p in style.grooves[0].items()) if style.grooves else "none")
        rows.append({
            "genre": genre,
            "tempo": f"{style.tempo[0]:g}-{style.tempo[1]:g} bpm",
            "meter": "/".join(f"{m}/4" for m in style.meters),
            "grid": {3: "triplets", 4: "16ths"}[style.steps_per_beat],
            "swing": f"{style.swing[0]:g}-{style.swing[1]:g}",
            "drums": drums,
            "bass": f"{style.bass.rhythms[0]} [{style.bass.notes}]" if style.bass else "none",
            "harmony": style.progressions[0],
            "scales": f"{style.scales['major']} / {style.scales['minor']}",
            "instruments": instruments,
            "effects": ", ".join(f"{k} {lo:g}-{hi:g}" for k, (lo, hi) in style.effects.items()),
            "description": style.description,
        })
    return pd.DataFrame(rows).set_index("genre")
