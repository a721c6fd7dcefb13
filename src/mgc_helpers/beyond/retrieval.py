"""Similar songs by cosine similarity: unit vectors, nearest neighbours, genre precision@k, maps.

Track vectors (from the embedders of :mod:`mgc_helpers.beyond.embedders`) are turned into unit
vectors by :class:`VectorSpace`: optionally each dimension is standardised first (statistics of a
reference set: the training tracks in an evaluation, the library itself in ``mgc similar``), which
the MFCC statistics need because their dimensions have very different scales (the mean of
coefficient 0 is in the hundreds), then L2-normalised. :func:`nearest_neighbors` finds the most
similar ones.

:func:`retrieval_precision` measures genre precision@k on test tracks, with and without hits by the
query's own artist (see :func:`precision_at_k` why the second is the honest number);
:class:`TrackVectors` holds a segment set's unit track vectors under a split; :func:`map_2d` gives
coordinates for a map of the embeddings.

Explained in ``14_retrieval.ipynb``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .embedders import Embedder, SegmentEmbedder

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..data.segments import SegmentSet
    from ..data.splits import Split

__all__ = [
    "TrackVectors",
    "VectorSpace",
    "l2_normalize",
    "map_2d",
    "nearest_neighbors",
    "precision_at_k",
    "retrieval_precision",
    "track_embeddings",
    "track_vectors",
]


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
        E.g. a :class:`~mgc_helpers.beyond.embedders.ModelEmbedder` of a model trained on ``split.train``, or
        :class:`~mgc_helpers.beyond.embedders.MfccStatsEmbedder`.
        With ``vectors`` given, only its ``name`` and ``standardize`` are used (a
        :class:`~mgc_helpers.beyond.embedders.MusicnnEmbedder`, whose vectors come from
        :func:`mgc_helpers.beyond.musicnn_dataset.embed_dataset`).
    segments : SegmentSet
        Genre (``y``) and artist (``group``) of each track, and the split's indices.
    split : Split
        Standardisation (for embedders that need it) is fitted on its training tracks.
    vectors : (tracks, raw) or None
        Track ids, shape ``(t,)``, and their raw vectors, shape ``(t, dim)``, computed elsewhere;
        ``None``: :func:`track_embeddings` of ``embedder`` (a
        :class:`~mgc_helpers.beyond.embedders.SegmentEmbedder`). Tracks of ``segments`` missing from
        ``vectors`` (a file the other embedder could not read) are left out.

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
