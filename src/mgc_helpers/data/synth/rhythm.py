"""Rhythm: one-bar patterns on a grid, and the times in seconds of every grid step.

Patterns are strings with one character per grid step (see :mod:`mgc_helpers.data.synth.styles`).
:func:`fit_pattern` maps a pattern written for one grid or meter onto another; :func:`step_times`
turns the grid into onset times with swing and a slow tempo drift. Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import numpy as np


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

    Explained in ``06_dataset.ipynb``.
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


def step_times(rng: np.random.Generator, n_steps: int, *, tempo: float, grid: int, swing: float,
               drift: float, drift_period: tuple[float, float]) -> np.ndarray:
    """Onset time (s) of every grid step: swung off-steps, slow sinusoidal tempo drift (rubato).

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the drift's phase and then its period (in ``drift_period`` seconds).
    n_steps : int
        Number of grid steps.
    tempo : float
        Beats per minute.
    grid : int
        Steps per beat.
    swing : float
        Delay of every second step as a fraction of a step.
    drift : float
        Relative depth of the tempo drift (0: steady).
    drift_period : (float, float)
        Range of the drift's period in seconds.

    Returns
    -------
    np.ndarray, shape (n_steps + 1,)

    Explained in ``06_dataset.ipynb``.
    """
    step = 60.0 / tempo / grid
    k = np.arange(n_steps + 1)
    phase = rng.uniform(0, 2 * np.pi)
    step_seconds = step * (1.0 + drift * np.sin(2 * np.pi * k * step / rng.uniform(*drift_period) + phase))
    times = np.concatenate([[0.0], np.cumsum(step_seconds)[:-1]])
    if swing > 0:
        times[1::2] += swing * step_seconds[1::2]
    return times
