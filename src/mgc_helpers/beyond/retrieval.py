"""Similar songs: track embeddings, cosine nearest neighbours, their evaluation, maps and thumbnails.

A track becomes one vector (an *embedding*); similar tracks are the ones whose vectors point the
same way (cosine similarity). Three embeddings are built in:

* :class:`ModelEmbedder` (``"cnn"``): the activations of a trained model's penultimate layer (the
  64-unit ``dense`` layer of :func:`mgc_helpers.models.networks.build_cnn`, i.e. the input of its softmax),
  averaged over the track's 3-second segments;
* :class:`MfccStatsEmbedder` (``"mfcc"``): the baseline, mean and standard deviation of each MFCC
  coefficient (:func:`mgc_helpers.models.baseline.mfcc_statistics`), averaged over the segments.
* :class:`MusicnnEmbedder` (``"musicnn"``): the 200-d penultimate layer of musicnn, a tagger
  pretrained on the Million Song Dataset (:mod:`mgc_helpers.beyond.musicnn`), averaged over its 3-s patches.

Any object with the :class:`Embedder` interface (``name``, ``dim``, ``fingerprint``,
``standardize`` and ``embed_file(path) -> FileEmbedding``) plugs in, for example a pretrained tagger
that works on raw audio rather than MFCCs. Subclasses of :class:`SegmentEmbedder` only write
``embed_segments(X)`` for MFCC segments.

Track vectors are turned into unit vectors by :class:`VectorSpace`: optionally each dimension is
standardised first (statistics of a reference set: the training tracks in an evaluation, the
library itself in ``mgc similar``), which the MFCC statistics need because their dimensions have
very different scales (the mean of coefficient 0 is in the hundreds), then L2-normalised.

:func:`retrieval_precision` measures genre precision@k on test tracks, with and without hits by the
query's own artist (see there why the second is the honest number); :func:`build_library` and
:func:`find_similar` serve ``mgc similar``, with library embeddings cached under
:func:`mgc_helpers.core.paths.cache_dir`; :func:`map_2d` gives coordinates for a map of the embeddings;
:func:`thumbnail` picks a track's most characteristic 3-second segment (the paper's section 10).

Explained in ``14_retrieval.ipynb``.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ..signal.audio import AudioError
from ..core.config import PAPER_CONFIG, FeatureConfig
from ..core.records import Skipped

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..predict.run import TrackPrediction
    from ..data.segments import SegmentSet
    from ..data.splits import Split
    from ..models.training import TrainedModel

__all__ = [
    "EMBEDDINGS",
    "Embedder",
    "FileEmbedding",
    "Hit",
    "Library",
    "LibraryCacheWarning",
    "MfccStatsEmbedder",
    "ModelEmbedder",
    "ModelLoadError",
    "MusicnnEmbedder",
    "SavedModelEmbedder",
    "SegmentEmbedder",
    "SimilarResult",
    "Thumbnail",
    "TrackVectors",
    "VectorSpace",
    "build_library",
    "file_sha256",
    "find_similar",
    "l2_normalize",
    "library_cache_path",
    "map_2d",
    "nearest_neighbors",
    "precision_at_k",
    "prediction_thumbnail",
    "retrieval_precision",
    "thumbnail",
    "track_embeddings",
    "track_vectors",
]

#: Embedding names accepted by ``mgc similar --embedding``.
EMBEDDINGS: tuple[str, ...] = ("cnn", "mfcc", "musicnn")

#: Bumped when a change here changes cached library embeddings.
CACHE_VERSION = 1
_FORMAT = "mgc-library-1"


class LibraryCacheWarning(UserWarning):
    """A library cache file was unreadable and is being rebuilt."""


# --------------------------------------------------------------------------------------------
# Embedders
# --------------------------------------------------------------------------------------------

@dataclass
class FileEmbedding:
    """One audio file as the embedder sees it.

    Attributes
    ----------
    path : Path
    vector : np.ndarray, shape (dim,)
        Mean of the segment embeddings (not normalised; :class:`VectorSpace` does that).
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
        Whether :class:`VectorSpace` should standardise each dimension before normalising.
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


# --------------------------------------------------------------------------------------------
# Vectors and neighbours
# --------------------------------------------------------------------------------------------

def l2_normalize(vectors: np.ndarray, *, eps: float = 1e-12) -> np.ndarray:
    """Rows scaled to unit length (an all-zero row stays zero).

    Examples
    --------
    >>> l2_normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, eps)


@dataclass(frozen=True)
class VectorSpace:
    """Turns raw track vectors into the unit vectors compared by cosine similarity.

    Parameters
    ----------
    mean, scale : np.ndarray or None
        Per-dimension standardisation (``None``: none, only L2 normalisation).
    """

    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    @classmethod
    def fit(cls, reference: np.ndarray, *, standardize: bool) -> VectorSpace:
        """Standardisation statistics of ``reference`` (rows = tracks) when ``standardize``."""
        if not standardize:
            return cls()
        reference = np.asarray(reference, dtype=np.float64)
        if reference.ndim != 2 or len(reference) == 0:
            raise ValueError(f"cannot fit a VectorSpace on an array of shape {reference.shape}")
        scale = reference.std(axis=0)
        return cls(reference.mean(axis=0), np.where(scale > 1e-12, scale, 1.0))

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.asarray(vectors, dtype=np.float64)
        if self.mean is not None:
            vectors = (vectors - self.mean) / self.scale
        return l2_normalize(vectors)


def nearest_neighbors(queries: np.ndarray, candidates: np.ndarray, k: int, *,
                      exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` candidates with the largest cosine similarity to each query.

    Explained in ``14_retrieval.ipynb``.

    Parameters
    ----------
    queries : np.ndarray, shape (q, d)
        Unit vectors (from :meth:`VectorSpace.transform`).
    candidates : np.ndarray, shape (n, d)
        Unit vectors.
    k : int
        Neighbours wanted; fewer come back when fewer candidates are allowed.
    exclude : np.ndarray of bool, shape (q, n), or None
        ``True`` where a candidate must not be returned for that query (the query itself, tracks by
        the same artist).

    Returns
    -------
    index : np.ndarray of int, shape (q, m)
        Candidate indices, most similar first (ties: lower index first); ``m = min(k, n)``.
        Entries past the allowed candidates of a query are ``-1``.
    similarity : np.ndarray, shape (q, m)
        Cosine similarities (NaN where ``index`` is ``-1``).
    """
    if int(k) < 1:
        raise ValueError(f"k must be at least 1, got {k!r}")
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float64))
    candidates = np.asarray(candidates, dtype=np.float64)
    if candidates.ndim != 2 or queries.shape[1] != candidates.shape[1]:
        raise ValueError(f"queries {queries.shape} and candidates {candidates.shape} differ in dimension")
    sims = queries @ candidates.T
    if exclude is not None:
        exclude = np.asarray(exclude, dtype=bool)
        if exclude.shape != sims.shape:
            raise ValueError(f"exclude must have shape {sims.shape}, got {exclude.shape}")
        sims = np.where(exclude, -np.inf, sims)
    m = min(int(k), candidates.shape[0])
    order = np.argsort(-sims, axis=1, kind="stable")[:, :m]
    top = np.take_along_axis(sims, order, axis=1)
    allowed = np.isfinite(top)
    return np.where(allowed, order, -1), np.where(allowed, top, np.nan)


def precision_at_k(vectors: np.ndarray, genre: np.ndarray, artist: np.ndarray | None = None, *,
                   ks: Sequence[int] = (1, 5, 10), queries: np.ndarray | None = None,
                   candidates: np.ndarray | None = None, exclude_same_artist: bool = False) -> pd.DataFrame:
    """Genre precision@k of cosine nearest neighbours: how many of a query's k hits share its genre.

    Explained in ``14_retrieval.ipynb``.

    A query is never its own hit. With ``exclude_same_artist=True`` every candidate by the query's
    own artist is removed as well, and this is the number to trust: tracks by one artist share
    production, instruments and voice, so they are close in any audio embedding *and* share the
    genre label. Counting them measures "finds the same artist" as much as "finds the same genre",
    and a model that memorised artists looks better than it is (the "album effect" that also
    inflates genre accuracy under random splits; Flexer, 2007). Without them, the hits must come
    from genre alone.

    Parameters
    ----------
    vectors : np.ndarray, shape (t, d)
        Unit track vectors.
    genre : np.ndarray, shape (t,)
        Genre label of each track.
    artist : np.ndarray or None, shape (t,)
        Artist of each track (needed with ``exclude_same_artist``).
    ks : sequence of int
    queries, candidates : np.ndarray of int or bool, or None
        Tracks used as queries and as candidates (default: all).
    exclude_same_artist : bool

    Returns
    -------
    pandas.DataFrame
        One row per k: ``k``, ``precision`` (mean over queries of hits of the query's genre divided by
        the hits returned, ``min(k, candidates left)``), ``chance`` (mean over queries of the share of
        the query's genre among its allowed candidates: the precision of a random ranking),
        ``best`` (the precision of a perfect ranking: below 1 when a genre has fewer than k allowed
        candidates, as in a small test part), ``n_queries`` (queries with at least one allowed candidate)
        and ``same_artist`` (``"excluded"`` or ``"included"``).
    """
    import pandas as pd

    vectors = np.asarray(vectors, dtype=np.float64)
    genre = np.asarray(genre)
    t = len(vectors)
    if genre.shape != (t,):
        raise ValueError(f"{t} vectors but {genre.size} genre labels")
    q_index = np.arange(t) if queries is None else _as_index(queries, t)
    c_index = np.arange(t) if candidates is None else _as_index(candidates, t)
    exclude = q_index[:, None] == c_index[None, :]
    if exclude_same_artist:
        if artist is None:
            raise ValueError("exclude_same_artist needs the artist of each track")
        artist = np.asarray(artist).astype(str)
        exclude |= artist[q_index][:, None] == artist[c_index][None, :]
    relevant = genre[q_index][:, None] == genre[c_index][None, :]
    allowed = ~exclude
    n_allowed = allowed.sum(axis=1)
    usable = n_allowed > 0
    n_relevant = (relevant & allowed).sum(axis=1)
    chance = float(np.mean(n_relevant[usable] / n_allowed[usable])) if usable.any() else np.nan
    rows = []
    for k in ks:
        index, _ = nearest_neighbors(vectors[q_index], vectors[c_index], int(k), exclude=exclude)
        valid = index >= 0
        hits = np.where(valid, np.take_along_axis(relevant, np.maximum(index, 0), axis=1), False)
        returned = valid.sum(axis=1)
        precision = hits.sum(axis=1)[usable] / returned[usable]
        best = np.minimum(n_relevant, returned)[usable] / returned[usable]
        rows.append({"k": int(k), "precision": float(precision.mean()) if usable.any() else np.nan,
                     "chance": chance, "best": float(best.mean()) if usable.any() else np.nan,
                     "n_queries": int(usable.sum()),
                     "same_artist": "excluded" if exclude_same_artist else "included"})
    return pd.DataFrame(rows)


def _as_index(selection: np.ndarray, n: int) -> np.ndarray:
    selection = np.asarray(selection)
    if selection.dtype == bool:
        if selection.shape != (n,):
            raise ValueError(f"boolean selection of shape {selection.shape} for {n} tracks")
        return np.flatnonzero(selection)
    return selection.astype(np.int64)


def track_embeddings(embedder: SegmentEmbedder, segments: SegmentSet) -> tuple[np.ndarray, np.ndarray]:
    """Raw track vectors of a segment set: mean of each track's segment embeddings.

    Explained in ``14_retrieval.ipynb``.

    Returns
    -------
    tracks : np.ndarray of str, shape (t,)
        Sorted track ids.
    vectors : np.ndarray, shape (t, dim)
    """
    per_segment = np.asarray(embedder.embed_segments(segments.X), dtype=np.float64)
    tracks, inverse = np.unique(np.asarray(segments.track).astype(str), return_inverse=True)
    vectors = np.zeros((len(tracks), per_segment.shape[1]))
    np.add.at(vectors, inverse, per_segment)
    vectors /= np.bincount(inverse, minlength=len(tracks))[:, None]
    return tracks, vectors


@dataclass
class TrackVectors:
    """Unit track vectors of one embedding, with each track's genre, artist and side of a split.

    Explained in ``14_retrieval.ipynb``.

    Attributes
    ----------
    name : str
        The embedding's name.
    tracks : np.ndarray of str, shape (t,)
        Sorted track ids.
    vectors : np.ndarray, shape (t, dim)
        Unit vectors (standardised on the training tracks first, for embedders with ``standardize``).
    genre : np.ndarray of int, shape (t,)
    artist : np.ndarray of str, shape (t,)
    train, test : np.ndarray of bool, shape (t,)
        Tracks with segments in the split's training / test part.
    """

    name: str
    tracks: np.ndarray
    vectors: np.ndarray
    genre: np.ndarray
    artist: np.ndarray
    train: np.ndarray
    test: np.ndarray

    def __len__(self) -> int:
        return len(self.tracks)

    def neighbours(self, query: int, k: int, *, pool: np.ndarray | None = None,
                   exclude_same_artist: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Indices and cosine similarities of the ``k`` tracks most similar to track ``query``.

        ``pool`` (boolean, shape ``(t,)``) limits the candidates (default: the test tracks); the
        query itself is never returned, nor, with ``exclude_same_artist``, tracks by its artist.
        """
        pool = self.test if pool is None else np.asarray(pool, dtype=bool)
        exclude = ~pool
        exclude[query] = True
        if exclude_same_artist:
            exclude |= self.artist == self.artist[query]
        index, sims = nearest_neighbors(self.vectors[query][None, :], self.vectors, k, exclude=exclude[None, :])
        keep = index[0] >= 0
        return index[0][keep], sims[0][keep]


def track_vectors(embedder: Embedder | SegmentEmbedder, segments: SegmentSet, split: Split, *,
                  vectors: tuple[np.ndarray, np.ndarray] | None = None) -> TrackVectors:
    """The :class:`TrackVectors` of a segment set under a split.

    Explained in ``14_retrieval.ipynb``.

    Parameters
    ----------
    embedder : SegmentEmbedder or Embedder
        E.g. a :class:`ModelEmbedder` of a model trained on ``split.train``, or :class:`MfccStatsEmbedder`.
        With ``vectors`` given, only its ``name`` and ``standardize`` are used (a
        :class:`MusicnnEmbedder`, whose vectors come from :func:`mgc_helpers.beyond.musicnn.embed_dataset`).
    segments : SegmentSet
        Genre (``y``) and artist (``group``) of each track, and the split's indices.
    split : Split
        Standardisation (for embedders that need it) is fitted on its training tracks.
    vectors : (tracks, raw) or None
        Track ids, shape ``(t,)``, and their raw vectors, shape ``(t, dim)``, computed elsewhere;
        ``None``: :func:`track_embeddings` of ``embedder`` (a :class:`SegmentEmbedder`). Tracks of
        ``segments`` missing from ``vectors`` (a file the other embedder could not read) are left out.

    Raises
    ------
    ValueError
        If the split has no test tracks, or ``vectors`` names tracks that ``segments`` lacks.
    """
    if vectors is None:
        if not isinstance(embedder, SegmentEmbedder):
            raise TypeError(f"{embedder!r} does not embed MFCC segments: pass its track vectors as vectors=")
        tracks, raw = track_embeddings(embedder, segments)
    else:
        tracks, raw = np.asarray(vectors[0]).astype(str), np.asarray(vectors[1], dtype=np.float64)
        if raw.ndim != 2 or raw.shape[0] != tracks.shape[0]:
            raise ValueError(f"vectors: {tracks.shape[0]} track ids but raw vectors of shape {raw.shape}")
        order = np.argsort(tracks, kind="stable")
        tracks, raw = tracks[order], raw[order]
    seg_tracks = np.asarray(segments.track).astype(str)
    known, first = np.unique(seg_tracks, return_index=True)
    unknown = np.setdiff1d(tracks, known)
    if unknown.size:
        raise ValueError(f"{unknown.size} track(s) of the vectors are not in the segments, e.g. {unknown[0]!r}")
    first = first[np.searchsorted(known, tracks)]
    train = np.isin(tracks, seg_tracks[np.asarray(split.train, dtype=np.int64)])
    test = np.isin(tracks, seg_tracks[np.asarray(split.test, dtype=np.int64)])
    if not test.any():
        raise ValueError(f"split {getattr(split, 'name', '?')!r} has no test tracks")
    reference = raw[train] if train.any() else raw
    unit = VectorSpace.fit(reference, standardize=embedder.standardize).transform(raw)
    return TrackVectors(embedder.name, tracks, unit, np.asarray(segments.y)[first],
                        np.asarray(segments.group).astype(str)[first], train, test)


def retrieval_precision(embedder: Embedder | SegmentEmbedder, segments: SegmentSet, split: Split, *,
                        ks: Sequence[int] = (1, 5, 10), candidates: str = "test",
                        vectors: tuple[np.ndarray, np.ndarray] | TrackVectors | None = None) -> pd.DataFrame:
    """Genre precision@k on the test tracks of a split, with and without same-artist hits.

    Explained in ``14_retrieval.ipynb``.

    Parameters
    ----------
    embedder, segments, split
        As for :func:`track_vectors`. Queries are the test tracks.
    ks : sequence of int
    candidates : {"test", "all"}
        ``"test"``: the other test tracks only, which the model never saw (default, honest);
        ``"all"``: every track of the set, training tracks included (a model places the tracks it
        was trained on close to their genre, so this flatters it).
    vectors : (tracks, raw), TrackVectors or None
        Raw vectors computed elsewhere (see :func:`track_vectors`), or the :class:`TrackVectors`
        themselves.

    Returns
    -------
    pandas.DataFrame
        :func:`precision_at_k`'s rows for both ``same_artist`` settings, with ``embedding``,
        ``split`` and ``candidates`` columns.
    """
    import pandas as pd

    if candidates not in ("test", "all"):
        raise ValueError(f"candidates must be 'test' or 'all', got {candidates!r}")
    tv = vectors if isinstance(vectors, TrackVectors) else track_vectors(embedder, segments, split, vectors=vectors)
    pool = tv.test if candidates == "test" else np.ones(len(tv), dtype=bool)
    frames = [precision_at_k(tv.vectors, tv.genre, tv.artist, ks=ks, queries=tv.test, candidates=pool,
                             exclude_same_artist=flag) for flag in (False, True)]
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "embedding", embedder.name)
    out.insert(1, "split", getattr(split, "name", ""))
    out.insert(2, "candidates", candidates)
    return out


# --------------------------------------------------------------------------------------------
# A library of the user's files, cached
# --------------------------------------------------------------------------------------------

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


def _stat(path: Path) -> tuple[int, int]:
    st = path.stat()
    return int(st.st_size), int(st.st_mtime_ns)


@dataclass
class Library:
    """Embeddings of the audio files of a folder.

    Attributes
    ----------
    folder : Path
    paths : list of Path
        Usable files, sorted.
    vectors : np.ndarray, shape (n, dim)
        Raw track vectors (see :class:`FileEmbedding`).
    n_segments : np.ndarray of int, shape (n,)
    durations : np.ndarray, shape (n,)
    skipped : list of Skipped
        Files that gave no embedding, with the reason.
    ignored : list of Path
        Hidden files and files without an audio extension.
    info : dict
        ``cache`` (``"hit"``, ``"updated"``, ``"miss"``, ``"off"``), ``cache_path``, ``reused``,
        ``computed``, ``seconds``.
    """

    folder: Path
    paths: list[Path]
    vectors: np.ndarray
    n_segments: np.ndarray
    durations: np.ndarray
    skipped: list[Skipped] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.paths)


def library_cache_path(folder: str | os.PathLike, embedder: Embedder, *,
                       cache_dir: str | os.PathLike | None = None) -> Path:
    """Cache file of a folder's embeddings: ``<cache_dir>/similar/<name>-<hash>.npz``.

    The hash covers the folder's absolute path, the embedder's name and fingerprint and
    :data:`CACHE_VERSION`; inside, every entry also records its file's size and modification time,
    so a changed file is embedded again. ``cache_dir`` defaults to
    :func:`mgc_helpers.core.paths.cache_dir` (``$MGC_CACHE_DIR`` or ``data/cache`` of the project).
    """
    from ..core.paths import cache_dir as default_cache_dir

    key = hashlib.sha256(json.dumps([str(Path(folder).expanduser().resolve()), embedder.name,
                                     embedder.fingerprint, CACHE_VERSION]).encode()).hexdigest()[:20]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in embedder.name)
    return default_cache_dir(cache_dir) / "similar" / f"{safe}-{key}.npz"


def _read_library_cache(path: Path, fingerprint: str) -> dict[str, dict[str, Any]]:
    """``{path: entry}`` from a cache file; an empty dict when absent or unusable (with a warning)."""
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != _FORMAT or str(data["fingerprint"]) != fingerprint:
                raise ValueError("written for another embedder or version")
            entries: dict[str, dict[str, Any]] = {}
            for i, p in enumerate(data["path"].tolist()):
                entries[p] = {"size": int(data["size"][i]), "mtime": int(data["mtime"][i]),
                              "vector": data["vector"][i], "n_segments": int(data["n_segments"][i]),
                              "duration": float(data["duration"][i]), "error": str(data["error"][i])}
            return entries
    except Exception as exc:  # a truncated or foreign file: rebuild
        warnings.warn(f"library cache {path} is unusable ({type(exc).__name__}: {exc}); rebuilding it",
                      LibraryCacheWarning, stacklevel=3)
        return {}


def _write_library_cache(path: Path, fingerprint: str, entries: dict[str, dict[str, Any]], dim: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = sorted(entries)
    tmp = path.with_name(path.stem + f".tmp{os.getpid()}.npz")
    try:
        np.savez(tmp, format=np.array(_FORMAT), fingerprint=np.array(fingerprint),
                 path=np.array(names, dtype=str) if names else np.zeros(0, dtype="<U1"),
                 size=np.array([entries[n]["size"] for n in names], dtype=np.int64),
                 mtime=np.array([entries[n]["mtime"] for n in names], dtype=np.int64),
                 vector=np.array([entries[n]["vector"] for n in names], dtype=np.float64).reshape(len(names), dim),
                 n_segments=np.array([entries[n]["n_segments"] for n in names], dtype=np.int64),
                 duration=np.array([entries[n]["duration"] for n in names], dtype=np.float64),
                 error=np.array([entries[n]["error"] for n in names], dtype=str) if names
                 else np.zeros(0, dtype="<U1"))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def build_library(folder: str | os.PathLike, embedder: Embedder, *, cache: bool = True,
                  cache_dir: str | os.PathLike | None = None,
                  progress: bool | Callable[[str], None] = False) -> Library:
    """Embed every audio file under ``folder`` (recursively), reusing cached embeddings.

    Nothing is ever written inside ``folder``: the cache lives in :func:`library_cache_path`. Only
    new or changed files (other size or modification time) are embedded; files that failed keep
    their reason in the cache and are not decoded again until they change.

    Explained in ``14_retrieval.ipynb``.

    Raises
    ------
    FileNotFoundError
        If ``folder`` is not a folder.
    ValueError
        If it holds no audio file, or none that could be used (the message gives the reasons).
    """
    from ..predict.run import find_audio_files

    start = time.perf_counter()
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"library {folder} is not a folder")
    files, skipped, ignored = find_audio_files([folder])
    if not files:
        raise ValueError(f"library {folder} holds no audio file (looked for .wav, .flac, .ogg, .au, .mp3 ...; "
                         f"{len(ignored)} other file(s) ignored)")
    cache_path = library_cache_path(folder, embedder, cache_dir=cache_dir)
    old = _read_library_cache(cache_path, embedder.fingerprint) if cache else {}
    say = print if progress is True else (progress or None)
    entries: dict[str, dict[str, Any]] = {}
    reused = computed = 0
    for n, path in enumerate(files, start=1):
        key = str(path.resolve())
        size, mtime = _stat(path)
        entry = old.get(key)
        if entry is not None and entry["size"] == size and entry["mtime"] == mtime:
            entries[key] = entry
            reused += 1
            continue
        try:
            emb = embedder.embed_file(path)
            entries[key] = {"size": size, "mtime": mtime, "vector": np.asarray(emb.vector, dtype=np.float64),
                            "n_segments": emb.n_segments, "duration": emb.duration, "error": ""}
        except AudioError as exc:
            entries[key] = {"size": size, "mtime": mtime, "vector": np.zeros(embedder.dim),
                            "n_segments": 0, "duration": 0.0, "error": exc.reason}
        computed += 1
        if say is not None:
            say(f"[{n}/{len(files)}] {path.name}")
    if cache and (computed or set(entries) != set(old)):
        try:
            dim = len(next(iter(entries.values()))["vector"])  # not embedder.dim: a lazy model stays unloaded
            _write_library_cache(cache_path, embedder.fingerprint, entries, dim)
        except OSError as exc:
            warnings.warn(f"cannot write the library cache {cache_path}: {exc.strerror or exc}",
                          LibraryCacheWarning, stacklevel=2)
    paths, vectors, counts, durations = [], [], [], []
    for path in files:
        entry = entries[str(path.resolve())]
        if entry["error"]:
            skipped.append(Skipped(path, entry["error"]))
            continue
        paths.append(path)
        vectors.append(entry["vector"])
        counts.append(entry["n_segments"])
        durations.append(entry["duration"])
    if not paths:
        reasons = "; ".join(f"{s.path.name}: {s.reason}" for s in skipped[:5])
        raise ValueError(f"library {folder}: no usable audio file ({len(skipped)} skipped: {reasons})")
    state = "off" if not cache else "hit" if not computed else "miss" if not reused else "updated"
    return Library(folder, paths, np.array(vectors, dtype=np.float64), np.array(counts, dtype=np.int64),
                   np.array(durations), skipped, ignored,
                   {"cache": state, "cache_path": cache_path if cache else None, "reused": reused,
                    "computed": computed, "seconds": time.perf_counter() - start})


@dataclass
class Hit:
    """One similar track: rank (1 = most similar), file and cosine similarity."""

    rank: int
    path: Path
    similarity: float


@dataclass
class SimilarResult:
    """The answer of :func:`find_similar`."""

    query: Path
    hits: list[Hit]
    embedding: str
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"query": str(self.query), "embedding": self.embedding,
                "hits": [{"rank": h.rank, "path": str(h.path), "similarity": round(h.similarity, 4)}
                         for h in self.hits],
                "notes": list(self.notes)}

    def format(self) -> str:
        """A plain text table, then the notes."""
        lines = [f"tracks most similar to {self.query} ({self.embedding} embedding, cosine similarity):"]
        lines += [f"{h.rank:3d}. {h.similarity:6.3f}  {h.path}" for h in self.hits]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or os.path.samefile(a, b)
    except OSError:
        return False


def find_similar(query: str | os.PathLike, library: Library, embedder: Embedder, *, k: int = 10) -> SimilarResult:
    """The ``k`` tracks of ``library`` most similar to the audio file ``query``.

    The query is embedded with ``embedder`` (or its cached vector is used when it is in the
    library, in which case it is left out of its own hits, with a note). When ``k`` exceeds the
    other tracks of the library, all of them are returned, with a note. For embedders with
    ``standardize``, the standardisation statistics are the library's.

    Explained in ``14_retrieval.ipynb``.

    Raises
    ------
    AudioError
        If the query cannot be used (the reasons of ``mgc predict``).
    ValueError
        If ``k`` < 1.
    """
    if int(k) < 1:
        raise ValueError(f"k must be at least 1, got {k!r}")
    start = time.perf_counter()
    query = Path(query).expanduser()
    notes: list[str] = []
    inside = [i for i, p in enumerate(library.paths) if _same_file(p, query)]
    if inside:
        vector = library.vectors[inside[0]]
        notes.append("the query is in the library: it is left out of its own results")
    else:
        if not query.exists():
            raise AudioError(query, "no such file or folder")
        if query.is_dir():
            raise AudioError(query, "is a folder: the query must be one audio file")
        skipped = [s for s in library.skipped if _same_file(s.path, query)]
        if skipped:
            raise AudioError(query, skipped[0].reason)
        emb = embedder.embed_file(query)
        vector = emb.vector
        notes += emb.notes
    space = VectorSpace.fit(library.vectors, standardize=embedder.standardize)
    vectors = space.transform(library.vectors)
    q = space.transform(vector[None, :])
    exclude = np.zeros((1, len(library)), dtype=bool)
    exclude[0, inside] = True
    available = len(library) - len(inside)
    if available == 0:
        raise ValueError(f"library {library.folder} holds no track besides the query")
    if int(k) > available:
        notes.append(f"asked for {int(k)} tracks but the library holds {available} other usable "
                     f"track(s): showing all of them")
    index, sims = nearest_neighbors(q, vectors, int(k), exclude=exclude)
    hits = [Hit(rank, library.paths[i], float(s))
            for rank, (i, s) in enumerate(((i, s) for i, s in zip(index[0], sims[0], strict=False) if i >= 0), start=1)]
    return SimilarResult(query, hits, embedder.name, notes, time.perf_counter() - start)


# --------------------------------------------------------------------------------------------
# Maps and thumbnails
# --------------------------------------------------------------------------------------------

def map_2d(vectors: np.ndarray, *, method: str = "pca", seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """2-D coordinates of track vectors for a map (nearby points = similar tracks).

    Explained in ``14_retrieval.ipynb``.

    Parameters
    ----------
    vectors : np.ndarray, shape (t, d)
        Unit vectors (from :meth:`VectorSpace.transform`).
    method : {"pca", "tsne"}
        PCA keeps global distances (the two directions of largest variance); t-SNE keeps
        neighbourhoods (clusters are meaningful, distances between clusters are not).
    seed : int
        Seed of t-SNE's initialisation (PCA is deterministic; its signs are fixed by scikit-learn).
    perplexity : float
        t-SNE's neighbourhood size; lowered to ``(t - 1) / 3`` for small sets.

    Returns
    -------
    np.ndarray, shape (t, 2)
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) < 2:
        raise ValueError(f"need at least 2 vectors of shape (t, d), got {vectors.shape}")
    if method == "pca":
        from sklearn.decomposition import PCA

        n = min(2, *vectors.shape)
        coords = PCA(n_components=n).fit_transform(vectors)
        return np.pad(coords, ((0, 0), (0, 2 - n)))
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(perplexity, max(1.0, (len(vectors) - 1) / 3)))
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=int(seed)).fit_transform(vectors)
    raise ValueError(f"unknown map method {method!r}; choose 'pca' or 'tsne'")


@dataclass(frozen=True)
class Thumbnail:
    """The segment chosen to represent a track.

    Attributes
    ----------
    index : int
        Segment number (0 = first).
    start, end : float
        Seconds into the file.
    genre : str
        The genre the choice is about (the track's predicted genre, or the segment's own).
    probability : float
        That genre's probability in the chosen segment.
    """

    index: int
    start: float
    end: float
    genre: str
    probability: float


def thumbnail(segment_probabilities: np.ndarray, genres: Sequence[str], *, segment_seconds: float = 3.0,
              by: str = "track_genre") -> Thumbnail:
    """The 3-second segment the model is most sure of: a track's "thumbnail".

    Explained in ``14_retrieval.ipynb``.

    Parameters
    ----------
    segment_probabilities : np.ndarray, shape (n_segments, n_genres)
        Softmax output of each segment in time order (``TrackPrediction.segment_probabilities``).
    genres : sequence of str
    segment_seconds : float
        Length of one segment (``TrackPrediction.segment_seconds``).
    by : {"track_genre", "max"}
        ``"track_genre"`` (default): the segment with the highest probability of the *track's*
        genre (argmax of the mean probability, as :func:`mgc_helpers.predict.run.predict_file` decides
        it), so the thumbnail sounds like what the track is said to be. ``"max"``: the segment with
        the highest softmax output of any genre, which can pick an untypical passage (a quiet intro
        that looks very "classical" in a rock song).

    Returns
    -------
    Thumbnail
        Ties go to the earliest segment.
    """
    proba = np.asarray(segment_probabilities, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[0] == 0 or proba.shape[1] != len(genres):
        raise ValueError(f"segment probabilities must have shape (n_segments >= 1, {len(genres)}), got {proba.shape}")
    if by == "track_genre":
        g = int(np.argmax(proba.mean(axis=0)))
        i = int(np.argmax(proba[:, g]))
    elif by == "max":
        i, g = (int(v) for v in np.unravel_index(int(np.argmax(proba)), proba.shape))
    else:
        raise ValueError(f"unknown thumbnail rule {by!r}; choose 'track_genre' or 'max'")
    return Thumbnail(i, i * segment_seconds, (i + 1) * segment_seconds, str(genres[g]), float(proba[i, g]))


def prediction_thumbnail(prediction: TrackPrediction, *, by: str = "track_genre") -> Thumbnail:
    """:func:`thumbnail` of a :class:`~mgc_helpers.predict.run.TrackPrediction` (from ``predict_file``)."""
    return thumbnail(prediction.segment_probabilities, prediction.genres,
                     segment_seconds=prediction.segment_seconds, by=by)
