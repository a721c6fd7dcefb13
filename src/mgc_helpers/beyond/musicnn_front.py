"""musicnn as a front end of the one prediction path (``mgc predict --model musicnn`` or ``PATH.npz``).

:class:`MusicnnFrontEnd` turns an audio file into one row per 3-s patch of musicnn's output, the 50
tag probabilities (for the zero-shot genres, :class:`~mgc_helpers.beyond.zeroshot.ZeroShotModel`)
or the 200-d embedding (for a probe, :class:`~mgc_helpers.beyond.transfer.ProbeModel`), with the
track's most probable tags; :func:`mgc_helpers.predict.run.predict_paths` runs it like the MFCC
front end of the book's models (worker processes, Dask, streaming). Explained in ``13_transfer.ipynb``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..predict.classifier import Features
from .musicnn import MSD_TAGS, PATCH_SECONDS

__all__ = ["MIN_SECONDS", "OUTPUTS", "TOP_TAGS", "MusicnnFrontEnd"]

#: Shortest file accepted, seconds (shorter than a 3-s patch is repeated to fill it).
MIN_SECONDS = 1.0

#: Tags reported per track.
TOP_TAGS = 5

#: What a row of the front end's ``X`` can be: musicnn's tag probabilities or its embedding.
OUTPUTS: tuple[str, ...] = ("tags", "embedding")


@dataclass(frozen=True)
class MusicnnFrontEnd:
    """Audio file -> musicnn's ``output`` per 3-s patch (``(n_patches, 50)`` or ``(n_patches, 200)``).

    Any length from :data:`MIN_SECONDS` (shorter than a patch is repeated to fill one), long files
    in bounded memory (:func:`~mgc_helpers.beyond.musicnn.analyse_file`).

    Raises
    ------
    ValueError
        For an ``output`` not in :data:`OUTPUTS`.
    """

    output: str = "tags"
    segment_seconds: float = PATCH_SECONDS

    def __post_init__(self) -> None:
        if self.output not in OUTPUTS:
            raise ValueError(f"unknown musicnn output {self.output!r}; choose one of {list(OUTPUTS)}")

    def __call__(self, path: str | os.PathLike) -> Features:
        from ..signal.audio import AudioError
        from .musicnn import analyse_file

        out = analyse_file(path)
        if out.duration < MIN_SECONDS:
            raise AudioError(Path(path), f"too short ({out.duration:.2f} s): needs at least {MIN_SECONDS:g} s")
        X = out.patch_tags if self.output == "tags" else out.patch_embeddings
        mean_tags = np.asarray(out.tags, dtype=np.float64)
        order = np.argsort(-mean_tags, kind="stable")[:TOP_TAGS]
        return Features(X, out.duration, list(out.notes), tuple((MSD_TAGS[i], float(mean_tags[i])) for i in order))

    def for_workers(self) -> MusicnnFrontEnd:
        return self

    def prepare(self) -> None:
        """Nothing to prepare: a worker loads musicnn's weights with its first file."""
