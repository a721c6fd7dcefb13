"""Records shared by the modules that read audio: a file reported instead of used.

:class:`Skipped` is made by the dataset scan (:mod:`mgc_helpers.data.datasets`), the feature pipeline
(:mod:`mgc_helpers.data.features`), ``mgc predict``, ``mgc similar`` and the pretrained tagger; it lives
here, below all of them, so that none of them has to import another for it.

Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Skipped"]


@dataclass(frozen=True)
class Skipped:
    """A file (or folder) that was reported instead of used, with the reason."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"
