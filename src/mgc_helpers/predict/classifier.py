"""The prediction protocol: a model that classifies audio files is a front end and a classifier.

The **front end** turns one audio file into a :class:`Features`: one row per segment (or patch),
its length and notes. It runs wherever the files are decoded (this process, local worker
processes or a Dask cluster), so it is a small picklable object. The **classifier** turns those
rows into genre probabilities, one row per segment, and runs in this process. A track's
probabilities are the mean of its segments' (:func:`~mgc_helpers.predict.run.predict_paths`).

Three kinds of model fit the protocol, and ``mgc predict`` runs each one the same way:

* the book's models (the paper's CNN, MLP or RNN-LSTM, run by NumPy or Keras): :class:`MfccFrontEnd`
  (the MFCCs of each 3-s segment, exactly as the training data were made) and
  :class:`ModelClassifier` around a :class:`~mgc_helpers.models.model_files.TrainedModel`;
* musicnn's zero-shot genres (:class:`mgc_helpers.beyond.zeroshot.ZeroShotModel`) and a linear
  probe on musicnn's embedding (:class:`mgc_helpers.beyond.transfer.ProbeModel`), both behind
  :class:`mgc_helpers.beyond.musicnn_front.MusicnnFrontEnd`.

Explained in ``11_predict.ipynb``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ..signal.audio import SegmentStream

if TYPE_CHECKING:  # pragma: no cover
    from ..core.config import FeatureConfig
    from ..models.model_files import TrainedModel

__all__ = ["Classifier", "Features", "FrontEnd", "MfccFrontEnd", "ModelClassifier", "as_classifier",
           "default_model_path", "file_mfcc", "model_caveat"]


@dataclass
class Features:
    """What a front end makes of one audio file.

    Attributes
    ----------
    X : np.ndarray, shape (n_segments, ...)
        One row per segment or patch, in time order (MFCCs ``(n, frames, n_mfcc)``, musicnn's
        tags ``(n, 50)`` or embedding ``(n, 200)``).
    duration : float
        Seconds of audio decoded.
    notes : list of str
        Things worth knowing (a tail left out, silence, a short clip repeated...).
    tags : tuple of (str, float)
        The track's most probable tags, for a front end that has tags; empty otherwise.
    """

    X: np.ndarray
    duration: float
    notes: list[str] = field(default_factory=list)
    tags: tuple[tuple[str, float], ...] = ()


@runtime_checkable
class FrontEnd(Protocol):
    """Audio file -> :class:`Features`; picklable, it runs in worker processes.

    ``segment_seconds`` is the length one row of ``X`` stands for. ``for_workers()`` returns the
    front end to send to other processes (with whatever this process computed once for them), and
    ``prepare()`` is called in a worker before its first file.
    """

    @property
    def segment_seconds(self) -> float: ...

    def __call__(self, path: str | os.PathLike) -> Features: ...

    def for_workers(self) -> FrontEnd: ...

    def prepare(self) -> None: ...


@runtime_checkable
class Classifier(Protocol):
    """Rows of a :class:`Features` -> genre probabilities; it runs in this process.

    ``predict_proba(X, batch_size=...)`` gives one row of probabilities over ``genres`` per row of
    ``X``; ``describe()`` says what the model is and was trained on, ``caveat()`` what a reader must
    know before trusting its answers (``""`` if nothing).
    """

    @property
    def name(self) -> str: ...

    @property
    def genres(self) -> tuple[str, ...]: ...

    @property
    def front_end(self) -> FrontEnd: ...

    def predict_proba(self, X: np.ndarray, *, batch_size: int = 256) -> np.ndarray: ...

    def describe(self) -> str: ...

    def caveat(self) -> str: ...


def file_mfcc(path: str | os.PathLike, *, config: FeatureConfig,
              block_segments: int = 10) -> tuple[np.ndarray, float, list[str]]:
    """MFCCs of every segment of a song of any length, computed block by block in bounded memory.

    Returns ``(X, duration, notes)``: ``X`` of shape ``(n_segments, frames, n_mfcc)`` (float32, the same
    bits as :func:`~mgc_helpers.signal.mfcc_fast.mfcc_segments` of the whole song's segments), the decoded
    length in seconds and the notes of :class:`~mgc_helpers.signal.audio.SegmentStream`. Only
    ``block_segments`` segments of audio exist at once; the MFCCs are 40 times smaller than the audio.

    Raises
    ------
    AudioError
        If the file cannot be decoded, holds NaN/inf samples, or is shorter than one segment.
    """
    from ..signal.mfcc_fast import mfcc_segments

    stream = SegmentStream(path, config=config, block_segments=block_segments)
    X = np.concatenate([mfcc_segments(block, config=config) for block in stream])
    return X, stream.duration, stream.notes(silent_note="silent audio: the prediction means nothing")


@dataclass(frozen=True)
class MfccFrontEnd:
    """The book's models' front end: the MFCCs of every 3-s segment of a file (:func:`file_mfcc`).

    ``bank`` is the mel filter bank and window of :func:`~mgc_helpers.signal.mfcc_fast.filters`,
    computed once by :meth:`for_workers` so that the workers need not import librosa.
    """

    config: FeatureConfig
    bank: tuple | None = None

    @property
    def segment_seconds(self) -> float:
        return self.config.segment_duration

    def __call__(self, path: str | os.PathLike) -> Features:
        X, duration, notes = file_mfcc(path, config=self.config)
        return Features(X, duration, notes)

    def for_workers(self) -> MfccFrontEnd:
        from ..signal.mfcc_fast import filters

        return replace(self, bank=filters(self.config))

    def prepare(self) -> None:
        from ..signal.mfcc_fast import install_filters, reuse_freed_memory

        if self.bank is not None:
            install_filters(self.config, self.bank)
        reuse_freed_memory()


@dataclass
class ModelClassifier:
    """A trained model of the book (:class:`~mgc_helpers.models.model_files.TrainedModel`) as a
    :class:`Classifier`: MFCC segments in, the softmax of each segment out."""

    trained: TrainedModel

    @property
    def name(self) -> str:
        return self.trained.name

    @property
    def genres(self) -> tuple[str, ...]:
        return tuple(self.trained.genres)

    @property
    def front_end(self) -> MfccFrontEnd:
        return MfccFrontEnd(self.trained.config)

    def predict_proba(self, X: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        return self.trained.predict_proba(X, batch_size=batch_size)

    def describe(self) -> str:
        return self.trained.describe()

    def caveat(self) -> str:
        return model_caveat(self.trained)


def as_classifier(model: Any) -> Classifier:
    """``model`` as a :class:`Classifier`: a trained model of the book is wrapped
    (:class:`ModelClassifier`), a classifier is returned as it is.

    Raises
    ------
    TypeError
        If ``model`` is neither.
    """
    from ..models.model_files import TrainedModel

    if isinstance(model, TrainedModel):
        return ModelClassifier(model)
    if isinstance(model, Classifier):
        return model
    raise TypeError(f"expected a TrainedModel or a Classifier (front end + classifier), got {type(model).__name__}")


def model_caveat(trained: TrainedModel) -> str:
    """What a reader must know about the model's genres before trusting its answers ("" if nothing).

    A model trained on the embedded synthetic dataset knows the synthesiser's genre *styles*, not
    real music: on 100 real GTZAN clips the default CNN named the right genre 13 times (chance is
    10). A model whose training data were not recorded gets a warning too.
    """
    if trained.dataset == "synthetic":
        return ("this model was trained on the book's synthetic dataset: its genres are the synthesiser's "
                "styles, not real music, and its answers for real songs mean little. For real music, train on "
                "your GTZAN copy: `mgc reproduce --dataset gtzan --data-dir DIR`, then "
                "`mgc predict --model results/default-gtzan/models/cnn.keras ...`")
    if trained.dataset is None:
        return "the model's training data are not recorded in its metadata: check where it comes from"
    return ""


def default_model_path() -> Path:
    """The model ``mgc predict`` uses without ``--model``: the default profile's CNN.

    That is ``results/default/models/cnn.keras`` (what ``mgc reproduce`` writes), or
    ``$MGC_RESULTS_DIR/models/cnn.keras`` when that variable is set. No other model (a test's, a
    ``quick`` run's, one of another seed) is ever taken in its place.

    Raises
    ------
    FileNotFoundError
        If that model does not exist; the message says how to make one or pass another.
    """
    from ..core.paths import default_model_path as path

    model = path()
    if not model.is_file():
        raise FileNotFoundError(f"no model given and the default model {model} does not exist: make it "
                                "with `mgc reproduce` (default profile), or pass --model PATH.keras")
    return model
