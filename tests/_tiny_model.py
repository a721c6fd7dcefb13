"""A tiny two-genre model trained on sounds the tests make: shared by the predict and similar tests.

Tracks are 3 s long, cut into 10 segments of 0.3 s (13 frames): fast, and the same code path as the
paper's 3-s segments. "classical" is a low tone, "metal" high-passed noise.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mgc_helpers.core.config import FeatureConfig
from mgc_helpers.data.segments import SegmentSet
from mgc_helpers.data.splits import Split
from mgc_helpers.models import training
from mgc_helpers.signal.audio import segment_signal
from mgc_helpers.signal.mfcc_fast import mfcc_segments

TINY = FeatureConfig(track_duration=3.0)
SR = TINY.sample_rate
GENRES = ("classical", "metal")


def low_tone(seconds: float, *, seed: int = 0, sr: int = SR) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 150 + 50 * rng.random()
    return (0.5 * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


def bright_noise(seconds: float, *, seed: int = 0, sr: int = SR) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(int(seconds * sr))
    return (0.3 * np.diff(y, prepend=0)).astype(np.float32)  # high-passed noise


MAKERS = {"classical": low_tone, "metal": bright_noise}


def train_tiny_model(model: str, results: Path, *, epochs: int = 8) -> Path:
    """Train ``model`` on 8 tracks per genre and save it under ``results/quick/models``; returns the .keras path."""
    rows, y, track = [], [], []
    for label, genre in enumerate(GENRES):
        for t in range(8):
            X = mfcc_segments(segment_signal(MAKERS[genre](3.0, seed=t), config=TINY), config=TINY)
            rows.append(X)
            y += [label] * len(X)
            track += [f"{genre}.{t:05d}"] * len(X)
    segs = SegmentSet(X=np.concatenate(rows), y=np.array(y), track=np.array(track), group=np.array(track),
                      segment=np.tile(np.arange(10), 16), genres=GENRES, config=TINY)
    index = np.random.default_rng(0).permutation(len(segs))
    split = Split("test", np.sort(index[40:]), np.sort(index[20:40]), np.sort(index[:20]))
    trained = training.train(segs, split, model=model, epochs=epochs, batch_size=16, seed=0,
                             learning_rate=1e-3, standardize=True)
    return training.save_model(trained, results / "quick" / "models" / model)["model"]
