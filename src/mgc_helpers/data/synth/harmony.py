"""Harmony: scales, chords written as Roman numerals, voicings and voice leading.

Pure music theory on semitone numbers; no randomness and no sound. The styles write their chord
progressions as Roman numerals relative to the key (see :mod:`mgc_helpers.data.synth.styles`);
:func:`parse_chord` reads them, :func:`voicing` picks the chord tones a part plays and
:func:`voice_lead` moves from chord to chord smoothly. Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import re

import numpy as np

#: Chord as (root in semitones above the tonic, intervals above the root).
Chord = tuple[int, tuple[int, ...]]

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

_NUMERAL = re.compile(r"^(b|#)?(VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)(.*)$")
_DEGREES = {"i": 0, "ii": 2, "iii": 4, "iv": 5, "v": 7, "vi": 9, "vii": 11}
_QUALITIES = {
    (True, ""): (0, 4, 7), (True, "7"): (0, 4, 7, 10), (True, "maj7"): (0, 4, 7, 11),
    (True, "5"): (0, 7, 12), (True, "6"): (0, 4, 7, 9), (True, "9"): (0, 4, 7, 10, 14),
    (False, ""): (0, 3, 7), (False, "7"): (0, 3, 7, 10), (False, "maj7"): (0, 3, 7, 11),
    (False, "5"): (0, 7, 12), (False, "ø7"): (0, 3, 6, 10), (False, "o7"): (0, 3, 6, 9),
    (False, "dim"): (0, 3, 6),
}


def parse_chord(numeral: str) -> Chord:
    """Roman numeral -> (root in semitones above the tonic, chord intervals).

    Parameters
    ----------
    numeral : str
        E.g. ``"I"``, ``"vi"``, ``"V7"``, ``"bVII"``, ``"iiø7"`` (see :mod:`~mgc_helpers.data.synth.styles`).

    Returns
    -------
    (int, tuple of int)

    Examples
    --------
    >>> parse_chord("V7")
    (7, (0, 4, 7, 10))
    >>> parse_chord("bVI")
    (8, (0, 4, 7))
    >>> parse_chord("iiø7")
    (2, (0, 3, 6, 10))

    Explained in ``06_dataset.ipynb``.
    """
    match = _NUMERAL.match(numeral)
    if not match or (match.group(2).isupper(), match.group(3)) not in _QUALITIES:
        raise ValueError(f"cannot read chord {numeral!r} (e.g. 'I', 'vi', 'V7', 'bVII', 'iiø7')")
    accidental, roman, suffix = match.groups()
    root = (_DEGREES[roman.lower()] + {"b": -1, "#": 1, None: 0}[accidental]) % 12
    return root, _QUALITIES[(roman.isupper(), suffix)]


def parse_progression(progression: str, n_bars: int) -> list[list[Chord]]:
    """The chords of each of ``n_bars`` bars (the progression repeats; a comma splits a bar).

    Examples
    --------
    >>> parse_progression("I V,IV", 3)
    [[(0, (0, 4, 7))], [(7, (0, 4, 7)), (5, (0, 4, 7))], [(0, (0, 4, 7))]]

    Explained in ``06_dataset.ipynb``.
    """
    chords_in = progression.split()
    bar_chords = [chords_in[b % len(chords_in)].split(",") for b in range(n_bars)]
    return [[parse_chord(c) for c in bar] for bar in bar_chords]


def progression_mode(progression: str) -> str:
    """``"minor"`` if the progression's first chord is lower case, else ``"major"``.

    Examples
    --------
    >>> progression_mode("i7 iv7"), progression_mode("I V vi IV")
    ('minor', 'major')

    Explained in ``06_dataset.ipynb``.
    """
    first = _NUMERAL.match(progression.split()[0].split(",")[0])
    return "minor" if first and first.group(2).islower() else "major"


def voicing(intervals: tuple[int, ...], kind: str) -> tuple[int, ...]:
    """Chord tones (semitones above the root) played for a chord ``kind`` of voicing.

    ``kind`` is ``"triad"``, ``"seventh"``, ``"power"``, ``"shell"`` or ``"open"``.

    Examples
    --------
    >>> voicing((0, 4, 7, 10), "shell"), voicing((0, 3, 7), "open")
    ((0, 4, 10), (0, 7, 15, 19))

    Explained in ``06_dataset.ipynb``.
    """
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


def voice_lead(pitches: list[int], previous: list[int] | None, register: int) -> list[int]:
    """The inversion of a chord closest to the previous chord (smooth voice leading).

    Inversions an octave lower are tried too; none may leave ``register - 7 .. register + 24``.

    Examples
    --------
    >>> voice_lead([60, 64, 67], [65, 69, 72], 55)
    [64, 67, 72]

    Explained in ``06_dataset.ipynb``.
    """
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


def token_interval(token: str, intervals: tuple[int, ...]) -> int:
    """Semitones above the chord root of a bass or arpeggio token (``R 3 5 6 7 O L``).

    Examples
    --------
    >>> token_interval("3", (0, 3, 7)), token_interval("L", (0, 4, 7))
    (3, -12)

    Explained in ``06_dataset.ipynb``.
    """
    table = {"R": 0, "3": intervals[1], "5": intervals[2] if len(intervals) > 2 else 7, "6": 9,
             "7": intervals[3] if len(intervals) > 3 else 10, "O": 12, "L": -12}
    if token not in table:
        raise ValueError(f"unknown note token {token!r}; use R 3 5 6 7 O L A")
    return table[token]


def root_midi(register: int, key: int, root: int) -> int:
    """MIDI note of a chord root: the lowest note at or above ``register`` with the root's pitch class.

    Examples
    --------
    >>> root_midi(28, 0, 7)  # G above E1 in C major
    31

    Explained in ``06_dataset.ipynb``.
    """
    pc = (key + root) % 12
    return register + (pc - register) % 12
