"""Track embeddings for similar songs: the :class:`Embedder` interface and the three built-in embedders.

A track becomes one vector (an *embedding*); similar tracks are the ones whose vectors point the
same way (cosine similarity, :mod:`mgc_helpers.beyond.retrieval`). Three embeddings are built in:

* :class:`ModelEmbedder` (``"cnn"``): the activations of a trained model's penultimate layer (the
  64-unit ``dense`` layer of :func:`mgc_helpers.models.networks.build_cnn`, i.e. the input of its softmax),
  averaged over the track's 3-second segments (:class:`SavedModelEmbedder` loads a saved model only
  when an audio file must be embedded);
* :class:`MfccStatsEmbedder` (``"mfcc"``): the baseline, mean and standard deviation of each MFCC
  coefficient (:func:`mgc_helpers.models.baseline.mfcc_statistics`), averaged over the segments.
* :class:`MusicnnEmbedder` (``"musicnn"``): the 200-d penultimate layer of musicnn, a tagger
  pretrained on the Million Song Dataset (:mod:`mgc_helpers.beyond.musicnn`), averaged over its 3-s patches.

Any object with the :class:`Embedder` interface (``name``, ``dim``, ``fingerprint``,
``standardize`` and ``embed_file(path) -> FileEmbedding``) plugs in, for example a pretrained tagger
that works on raw audio rather than MFCCs. Subclasses of :class:`SegmentEmbedder` only write
``embed_segments(X)`` for MFCC segments. A fingerprint changes whenever the vectors would: it is
part of the key of the library cache (:mod:`mgc_helpers.beyond.library`).

Explained in ``14_retrieval.ipynb``.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from ..core.config import PAPER_CONFIG, FeatureConfig

if TYPE_CHECKING:  # pragma: no cover
    from ..models.training import TrainedModel

__all__ = [
    "CACHE_VERSION",
    "EMBEDDINGS",
    "Embedder",
    "FileEmbedding",
    "MfccStatsEmbedder",
    "ModelEmbedder",
    "ModelLoadError",
    "MusicnnEmbedder",
    "SavedModelEmbedder",
    "SegmentEmbedder",
    "file_sha256",
]

#: Embedding names accepted by ``mgc similar --embedding``.
EMBEDDINGS: tuple[str, ...] = ("cnn", "mfcc", "musicnn")

#: Bumped when a change here changes cached library embeddings (part of every fingerprint and of
#: the key of :func:`mgc_helpers.beyond.library.library_cache_path`).
CACHE_VERSION = 1


@dataclass
class FileEmbedding:
    """One audio file as the embedder sees it.

    Attributes
    ----------
    path : Path
    vector : np.ndarray, shape (dim,)
        Mean of the segment embeddings (not normalised; :class:`~mgc_helpers.beyond.retrieval.VectorSpace` does that).
    n_segments : int
    duration : float
        Seconds of decoded audio.
    notes : list of str
        Worth knowing (tail shorter than a segment unused, silence).
    """

    path: Path
    vector: np.ndarray
    n_segments: int
    duration: float
    notes: list[str] = field(default_factory=list)


@runtime_checkable
class Embedder(Protocol):
    """What retrieval needs from an embedding.

    Attributes
    ----------
    name : str
        Short name (``"cnn"``, ``"mfcc"``, ``"musicnn"``), used in tables and cache file names.
    dim : int
        Length of the vectors.
    fingerprint : str
        Changes whenever the vectors would change (weights, settings): part of the cache key.
    standardize : bool
        Whether :class:`~mgc_helpers.beyond.retrieval.VectorSpace` should standardise each dimension before normalising.
    """

    name: str
    fingerprint: str
    standardize: bool

    @property
    def dim(self) -> int:
        """Length of the vectors (read-only: a lazily loaded model knows it only once loaded)."""
        ...  # pragma: no cover

    def embed_file(self, path: str | os.PathLike) -> FileEmbedding:
        """The embedding of one audio file; raises :class:`~mgc_helpers.signal.audio.AudioError`."""
        ...  # pragma: no cover


class SegmentEmbedder:
    """Base of the embedders that work on MFCC segments: subclasses write :meth:`embed_segments`.

    Files are loaded as :func:`mgc_helpers.predict.run.predict_file` loads them (mono, the feature
    settings' sample rate, as many whole segments as the file holds), so a query gets exactly the
    errors ``mgc predict`` gives.
    """

    name: str = "segments"
    dim: int = 0
    fingerprint: str = ""
    standardize: bool = False
    config: FeatureConfig = PAPER_CONFIG

    def embed_segments(self, X: np.ndarray) -> np.ndarray:
        """Embeddings ``(n, dim)`` of MFCC segments ``(n, frames, n_mfcc)``."""
        raise NotImplementedError

    def embed_file(self, path: str | os.PathLike) -> FileEmbedding:
        """Load, cut into segments, embed each, average.

        Raises
        ------
        AudioError
            If the file cannot be decoded, holds NaN/inf samples, or is shorter than one segment.
        """
        from ..signal.audio import load_song
        from ..signal.mfcc_fast import mfcc_segments

        config = self.config
        segments, duration, notes = load_song(path, config=config,
                                              silent_note="silent audio: its neighbours mean nothing")
        vectors = self.embed_segments(mfcc_segments(segments, config=config))
        return FileEmbedding(Path(path), vectors.mean(axis=0), len(segments), duration, notes)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"


class MfccStatsEmbedder(SegmentEmbedder):
    """The baseline embedding: MFCC mean and standard deviation per coefficient (26 numbers).

    Explained in ``14_retrieval.ipynb``.

    Each dimension is standardised (on the training tracks, or on the library) before the cosine,
    since the raw statistics have very different scales.

    Parameters
    ----------
    config : FeatureConfig
        Feature settings used for audio files.
    deltas : bool
        Also the statistics of the frame-to-frame differences (52 numbers). Off by default: unlike
        for the classifiers of :mod:`mgc_helpers.models.baseline`, which learn to weight them, in an
        unweighted cosine they lowered genre precision@k on the synthetic data (by 5 to 10 points).
    """

    standardize = True

    def __init__(self, *, config: FeatureConfig = PAPER_CONFIG, deltas: bool = False) -> None:
        self.config = config
        self.deltas = bool(deltas)
        self.name = "mfcc"
        self.dim = config.n_mfcc * (4 if deltas else 2)
        self.fingerprint = hashlib.sha256(
            f"mfcc-stats-{CACHE_VERSION}-{config.fingerprint()}-{self.deltas}".encode()).hexdigest()[:16]

    def embed_segments(self, X: np.ndarray) -> np.ndarray:
        from ..models.baseline import mfcc_statistics

        return mfcc_statistics(X, deltas=self.deltas)


def _weights_hash(trained: TrainedModel) -> str:
    digest = hashlib.sha256()
    for weight in trained.model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    digest.update(json.dumps(trained.metadata().get("standardizer"), sort_keys=True).encode())
    digest.update(trained.config.fingerprint().encode())
    return digest.hexdigest()


class ModelEmbedder(SegmentEmbedder):
    """A trained model's penultimate layer: the activations that feed its softmax.

    For the CNN of :func:`mgc_helpers.models.networks.build_cnn` that is the 64-unit ``dense`` layer (after
    ReLU; the dropout that follows it is off at inference). Any model with a final layer named
    ``softmax`` works (MLP: its last hidden layer; RNN-LSTM: its ``dense`` layer).

    Explained in ``14_retrieval.ipynb``.

    Parameters
    ----------
    trained : TrainedModel
        From :func:`mgc_helpers.models.training.train` or :func:`~mgc_helpers.models.training.load_model`.
    fingerprint : str or None
        Cache key of the model; default a SHA-256 of its weights, scaling and feature settings
        (``mgc similar`` passes the SHA-256 of the model files instead, cheaper to get).
    batch_size : int
        Segments per forward pass.
    """

    standardize = False

    def __init__(self, trained: TrainedModel, *, fingerprint: str | None = None, batch_size: int = 256) -> None:
        from ..models.networks import keras
        from ..models.training import predict_batches

        try:
            softmax = trained.model.get_layer("softmax")
        except ValueError:
            raise ValueError(f"model {trained.name!r} has no layer named 'softmax': cannot find its "
                             "penultimate layer") from None
        self.trained = trained
        self.config = trained.config
        self.name = "cnn" if trained.name == "cnn" else trained.name
        self.batch_size = int(batch_size)
        self._net = keras.Model(inputs=trained.model.inputs, outputs=softmax.input)
        self._predict_batches = predict_batches
        self.dim = int(softmax.input.shape[-1])
        self.fingerprint = fingerprint or _weights_hash(trained)

    def embed_segments(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if len(X) == 0:
            return np.zeros((0, self.dim))
        out = self._predict_batches(self._net, self.trained.prepare(X), batch_size=self.batch_size)
        return np.asarray(out, dtype=np.float64)


class ModelLoadError(ValueError):
    """A saved model could not be loaded (the message names the file and the reason)."""


class SavedModelEmbedder:
    """A :class:`ModelEmbedder` of a saved model, loaded only when an audio file must be embedded.

    Name and fingerprint (SHA-256 of the ``.keras`` and ``.json`` files) are known without
    TensorFlow, so a query that is in an already cached library is answered without loading the
    model at all (``mgc similar`` then runs in well under a second).

    Explained in ``14_retrieval.ipynb``.

    Parameters
    ----------
    path : path-like
        The ``.keras`` file (its ``.json`` must be beside it) or their common stem.

    Raises
    ------
    FileNotFoundError
        If the model or its JSON description is missing.
    ModelLoadError
        If the description is unreadable (at once) or the model cannot be loaded (on first use).
    """

    standardize = False

    def __init__(self, path: str | os.PathLike) -> None:
        path = Path(path)
        self.path = path if path.suffix == ".keras" else path.with_name(path.name + ".keras")
        meta_path = self.path.with_suffix(".json")
        for needed in (self.path, meta_path):
            if not needed.is_file():
                raise FileNotFoundError(f"cannot load model {self.path}: {needed} not found")
        try:
            self.model_name = str(json.loads(meta_path.read_text())["model"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelLoadError(f"cannot load model {self.path}: {meta_path} is not an mgc-book model "
                                 f"description ({type(exc).__name__})") from None
        self.name = "cnn" if self.model_name == "cnn" else self.model_name
        self.fingerprint = file_sha256(self.path, meta_path)
        self._embedder: ModelEmbedder | None = None

    @property
    def embedder(self) -> ModelEmbedder:
        """The loaded :class:`ModelEmbedder` (loads the model on first access)."""
        if self._embedder is None:
            from ..models.training import load_model

            try:
                trained = load_model(self.path)
                self._embedder = ModelEmbedder(trained, fingerprint=self.fingerprint)
            except Exception as exc:  # a damaged archive, a model of another Keras, no softmax layer
                raise ModelLoadError(f"cannot load model {self.path}: {type(exc).__name__}: {exc}") from None
        return self._embedder

    @property
    def loaded(self) -> bool:
        return self._embedder is not None

    @property
    def dim(self) -> int:
        return self.embedder.dim

    @property
    def config(self) -> FeatureConfig:
        return self.embedder.config

    def embed_file(self, path: str | os.PathLike) -> FileEmbedding:
        return self.embedder.embed_file(path)


class MusicnnEmbedder:
    """musicnn's 200-d penultimate layer, averaged over the file's 3-s patches.

    musicnn (:mod:`mgc_helpers.beyond.musicnn`) was trained to tag the Million Song Dataset's tagged subset
    (about 200,000 training tracks), not on this book's data; its penultimate layer (after batch
    normalisation, the input of its 50 tag outputs) describes timbre, rhythm and instrumentation learnt from real music.
    It works on the raw audio (16 kHz mel spectrograms), not on the paper's MFCCs, so a query
    shorter than 3 s is accepted, repeated to fill one patch, with a note (as ``mgc predict
    --model musicnn`` does); files that cannot be decoded give the errors of ``mgc predict``.

    Explained in ``14_retrieval.ipynb``.

    Parameters
    ----------
    standardize : bool
        Standardise each dimension (on the training tracks, or the library) before the cosine.
        Off by default: the batch-normalised dimensions already have comparable scales.
    batch_size : int
        Patches per forward pass.
    """

    name = "musicnn"

    def __init__(self, *, standardize: bool = False, batch_size: int = 16) -> None:
        from .musicnn import EMBEDDING_SIZE, PIPELINE_VERSION, weights_sha256

        self.standardize = bool(standardize)
        self.batch_size = int(batch_size)
        self._dim = EMBEDDING_SIZE
        self.fingerprint = hashlib.sha256(
            f"musicnn-{CACHE_VERSION}-{PIPELINE_VERSION}-{weights_sha256()}".encode()).hexdigest()[:16]

    @property
    def dim(self) -> int:
        return self._dim

    def embed_file(self, path: str | os.PathLike) -> FileEmbedding:
        """Tags are computed too, but only the mean penultimate layer is kept.

        Raises
        ------
        AudioError
            If the file is missing, empty, undecodable, holds NaN/inf samples or lasts under 32 ms.
        """
        from .musicnn import analyse_file

        out = analyse_file(path, batch_size=self.batch_size)
        return FileEmbedding(Path(path), out.embedding.astype(np.float64), out.n_patches, out.duration,
                             list(out.notes))

    def __repr__(self) -> str:
        return f"MusicnnEmbedder(dim={self.dim}, standardize={self.standardize})"


def file_sha256(*paths: str | os.PathLike) -> str:
    """SHA-256 of the bytes of the given files, in order (missing files are skipped)."""
    digest = hashlib.sha256()
    for path in paths:
        path = Path(path)
        if path.is_file():
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()
