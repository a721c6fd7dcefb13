"""The paper's feature settings in one frozen object.

Every notebook and helper takes a :class:`FeatureConfig` instead of loose constants, so that a
changed setting is visible (and changes every cache key that depends on it).
Explained in notebooks ``01_waveform.ipynb`` (sample rate) and ``05_mfcc.ipynb`` (MFCC shape).
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

#: The ten GTZAN genres. Labels are indices into this sorted tuple.
GENRES: tuple[str, ...] = (
    "blues", "classical", "country", "disco", "hiphop",
    "jazz", "metal", "pop", "reggae", "rock",
)

#: The models that read a segment's MFCC matrix as a one-channel image ``(frames, n_mfcc, 1)``
#: (:func:`mgc_helpers.models.model_files.prepare_inputs` adds the channel axis).
IMAGE_MODELS: tuple[str, ...] = ("cnn", "cnn_tutorial")


@dataclass(frozen=True)
class FeatureConfig:
    """Settings of the MFCC front end used by the paper (section 3 and 7).

    Parameters
    ----------
    sample_rate : int
        Sampling rate in Hz that every clip is resampled to (GTZAN: 22050).
    n_fft : int
        FFT size (window length) in samples.
    hop_length : int
        Hop between successive frames in samples.
    n_mfcc : int
        Number of cepstral coefficients kept.
    n_mels : int
        Number of mel bands (librosa's default, which the paper's call would have used; it states none).
    track_duration : float
        Expected clip length in seconds (GTZAN: 30).
    n_segments : int
        Number of equal segments each clip is cut into (the paper: 10 segments of 3 s).

    Examples
    --------
    >>> cfg = FeatureConfig()
    >>> cfg.samples_per_segment, cfg.frames_per_segment
    (66150, 130)
    """

    sample_rate: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mfcc: int = 13
    n_mels: int = 128
    track_duration: float = 30.0
    n_segments: int = 10

    def __post_init__(self) -> None:
        for name in ("sample_rate", "n_fft", "hop_length", "n_mfcc", "n_mels", "n_segments"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"FeatureConfig.{name} must be a positive integer, got {value!r}")
        if not self.track_duration > 0:
            raise ValueError(f"FeatureConfig.track_duration must be positive, got {self.track_duration!r}")
        if self.n_mfcc > self.n_mels:
            raise ValueError(f"n_mfcc ({self.n_mfcc}) cannot exceed n_mels ({self.n_mels})")
        if self.hop_length > self.n_fft:
            raise ValueError(f"hop_length ({self.hop_length}) larger than n_fft ({self.n_fft}) skips samples")

    @property
    def samples_per_track(self) -> int:
        """Number of samples in a full clip (661500 for 30 s at 22050 Hz)."""
        return int(round(self.sample_rate * self.track_duration))

    @property
    def samples_per_segment(self) -> int:
        """Number of samples in one segment (66150: 3 s at 22050 Hz)."""
        return self.samples_per_track // self.n_segments

    @property
    def segment_duration(self) -> float:
        """Length of one segment in seconds."""
        return self.samples_per_segment / self.sample_rate

    @property
    def frames_per_segment(self) -> int:
        """MFCC frames per segment with centred frames: ``1 + samples_per_segment // hop_length``."""
        return 1 + self.samples_per_segment // self.hop_length

    @property
    def segment_shape(self) -> tuple[int, int]:
        """Shape of one segment's MFCC matrix as the models see it: ``(frames, n_mfcc)``."""
        return (self.frames_per_segment, self.n_mfcc)

    @property
    def frame_duration(self) -> float:
        """Hop between frames in seconds."""
        return self.hop_length / self.sample_rate

    @property
    def frequency_resolution(self) -> float:
        """Spacing of FFT bins in Hz: ``sample_rate / n_fft``."""
        return self.sample_rate / self.n_fft

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary of the settings (JSON-serialisable)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error, not silently dropped."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown FeatureConfig keys: {sorted(unknown)}")
        return cls(**dict(data))

    def fingerprint(self) -> str:
        """Short stable hash of the settings, used in cache keys and stored beside models."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def describe(self) -> str:
        """One line summary for notebooks and logs."""
        return (f"{self.sample_rate} Hz, n_fft={self.n_fft}, hop={self.hop_length}, "
                f"{self.n_mfcc} MFCCs from {self.n_mels} mel bands, {self.track_duration:g} s clips "
                f"in {self.n_segments} segments of {self.segment_duration:g} s "
                f"-> {self.frames_per_segment} x {self.n_mfcc} per segment")


#: The paper's settings.
PAPER_CONFIG = FeatureConfig()


def label_mapping(genres: tuple[str, ...] | list[str]) -> dict[str, int]:
    """Map genre names to integer labels in sorted order (the only labelling used in the project)."""
    names = sorted(set(genres))
    if len(names) != len(list(genres)):
        raise ValueError(f"duplicate genre names in {list(genres)}")
    return {name: i for i, name in enumerate(names)}


def n_frames(n_samples: int, *, hop_length: int, center: bool = True, n_fft: int | None = None) -> int:
    """Number of STFT frames for a signal of ``n_samples`` samples (librosa's convention)."""
    if center:
        return 1 + n_samples // hop_length
    if n_fft is None:
        raise ValueError("n_fft is needed when center=False")
    return 1 + max(0, math.floor((n_samples - n_fft) / hop_length))
