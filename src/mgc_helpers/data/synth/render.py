"""From a genre, an artist and a seed to a rendered clip: :func:`render_clip`.

The work is done in steps, each in its own module so that it can be read (and shown in
``06_dataset.ipynb``) on its own:

1. :mod:`~mgc_helpers.data.synth.artists`: the artist's fixed choices
   (:func:`~mgc_helpers.data.synth.artists.artist_palette`);
2. :mod:`~mgc_helpers.data.synth.arrangement`: every random decision of the clip and its score
   (:func:`~mgc_helpers.data.synth.arrangement.plan_clip`), written part by part by
   :mod:`~mgc_helpers.data.synth.parts` with the help of :mod:`~mgc_helpers.data.synth.harmony` and
   :mod:`~mgc_helpers.data.synth.rhythm`;
3. :mod:`~mgc_helpers.data.synth.stems`: the score synthesised part by part
   (:func:`~mgc_helpers.data.synth.stems.render_stems`);
4. :mod:`~mgc_helpers.data.synth.mixing`: the stems mixed, given effects and recording colour and
   mastered to -1 dBFS (:func:`~mgc_helpers.data.synth.mixing.render_plan`).
"""
from __future__ import annotations

import numpy as np

from ...core.config import GENRES
from .arrangement import plan_clip
from .mixing import render_plan
from .styles import GENRE_STYLES


def render_clip(genre: str, *, artist: str, seed: int, duration: float = 30.0, sr: int = 22050) -> np.ndarray:
    """Render one synthetic clip of ``genre`` played by ``artist``.

    Parameters
    ----------
    genre : str
        One of :data:`mgc_helpers.core.config.GENRES`.
    artist : str
        Artist id of that genre, e.g. ``"rock_a3"`` (see :func:`~mgc_helpers.data.synth.artists.artist_ids`).
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
