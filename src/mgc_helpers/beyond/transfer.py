"""Transfer learning: a linear probe on musicnn's embedding, and musicnn's zero-shot genres, as models.

musicnn (:mod:`mgc_helpers.beyond.musicnn`) was trained on the tagged subset of the Million Song Dataset (about
200,000 training tracks and their 50 most frequent Last.fm tags).
Its 200-d penultimate layer, computed for every 3-s patch, is a description of music that a linear
classifier can read genres from (*transfer learning*, the paper's future work). This module makes
two classifiers of it that behave like the book's other models, so the same splits, protocols,
seeds and metrics apply (:func:`mgc_helpers.models.evaluation.evaluate`):

* :class:`ProbeModel`, the **linear probe**: a multinomial logistic regression (scikit-learn,
  after standardisation with the training part's mean and standard deviation) on the embedding of
  each 3-s patch. It is trained **per segment**, like the paper's models and the MFCC baseline: a
  track's patch ``k`` (seconds ``3k`` to ``3k + 3``) stands for its MFCC segment ``k``
  (:func:`segment_embeddings`), so the *segment* protocol's random split of segments applies
  unchanged, and track-level results are the mean of a track's segment probabilities, as for the
  other models. Its prediction needs only NumPy (the weights are stored, not a pickle).
* :class:`~mgc_helpers.beyond.zeroshot.ZeroShotModel`: no training at all; each patch's 50 tag
  probabilities are mapped to the seven genres that have a tag
  (:func:`mgc_helpers.beyond.zeroshot.genre_scores`) and normalised to sum
  to 1; classical, disco and reggae get probability 0, so their segments are always wrong.

:func:`run_transfer_protocols` runs both on the protocol grid (rows in the format of
:func:`mgc_helpers.models.experiments.run_protocols`). :func:`save_probe` writes a probe as a small
``.npz`` (:data:`PROBE_KIND`, format :data:`PROBE_FORMAT`) that ``mgc predict --model PATH.npz``
accepts (the probe is a classifier of the one prediction path, its front end musicnn's embedding,
:mod:`mgc_helpers.predict.classifier`); :func:`load_probe` checks it.

Explained in ``13_transfer.ipynb``.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .musicnn import EMBEDDING_SIZE, weights_sha256
from .musicnn_front import MusicnnFrontEnd
from .zeroshot import ZeroShotModel, as_rows

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..data.segments import SegmentSet
    from ..data.splits import Split
    from .musicnn_dataset import DatasetEmbeddings

__all__ = [
    "EMBEDDING_NAME",
    "MODEL_NAMES",
    "PROBE_FORMAT",
    "PROBE_KIND",
    "ProbeFileError",
    "ProbeModel",
    "embedded_segments",
    "load_probe",
    "run_transfer_protocols",
    "save_probe",
    "segment_embeddings",
    "train_probe",
]

#: ``kind`` recorded in a probe file; :func:`load_probe` refuses any other.
PROBE_KIND = "mgc-musicnn-probe"
#: Version of the probe file format.
PROBE_FORMAT = 1
#: What the probe reads.
EMBEDDING_NAME = "msd_musicnn penultimate layer (200-d, one per 3-s patch)"
#: Grid names (the ``model`` column of a protocol grid) and display names.
MODEL_NAMES: dict[str, str] = {"musicnn_probe": "musicnn embedding + logistic regression (probe)",
                               "musicnn_zeroshot": "musicnn tags, zero-shot"}
#: Solver iterations of the probe's logistic regression.
MAX_ITER = 2000


class ProbeFileError(ValueError):
    """A file given as a probe is missing, damaged, or not a probe of this musicnn."""


# --------------------------------------------------------------------------------------------
# Segments and patches
# --------------------------------------------------------------------------------------------

def segment_embeddings(segments: SegmentSet, embeddings: DatasetEmbeddings, *,
                       what: str = "embedding") -> tuple[np.ndarray, int]:
    """The musicnn patch that stands for each MFCC segment.

    Segment ``k`` of a track covers seconds ``3k`` to ``3k + 3``; musicnn's patch ``k`` covers
    ``2.992 k`` to ``2.992 (k + 1)`` (187 frames of 16 ms), so they are the same 3 s up to a
    drift of 0.08 s at the end of a 30-s clip. A segment without a patch of its index (a track
    with fewer patches, which happens when a clip is a few milliseconds shorter than its segments
    need) takes the track's last patch; the count is returned.

    Parameters
    ----------
    segments : SegmentSet
    embeddings : DatasetEmbeddings
        From :func:`mgc_helpers.beyond.musicnn_dataset.embed_dataset` on the same dataset.
    what : {"embedding", "tags"}
        The 200-d penultimate layer or the 50 tag probabilities.

    Returns
    -------
    values : np.ndarray, float32, shape (n_segments, 200) or (n_segments, 50)
    n_substituted : int
        Segments that took their track's last patch.

    Raises
    ------
    ValueError
        If a track of the segments has no embedding (it failed in musicnn but not in the MFCC
        pipeline): the message names the tracks.
    """
    if what not in ("embedding", "tags"):
        raise ValueError(f"what must be 'embedding' or 'tags', got {what!r}")
    source = embeddings.patch_X if what == "embedding" else embeddings.patch_tags
    rows = {str(t): r for r, t in enumerate(np.asarray(embeddings.track).astype(str))}
    missing = sorted(set(np.asarray(segments.track).astype(str)) - set(rows))
    if missing:
        raise ValueError(f"{len(missing)} track(s) have MFCC segments but no musicnn embedding: "
                         f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    n_tracks = len(rows)
    first = np.full(n_tracks, -1, dtype=np.int64)
    count = np.zeros(n_tracks, dtype=np.int64)
    pt = np.asarray(embeddings.patch_track, dtype=np.int64)
    if len(pt) == 0 or np.any(np.diff(pt) < 0):
        raise ValueError("the embeddings hold no patches in track order (made by an older musicnn cache?)")
    np.add.at(count, pt, 1)
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    first[count > 0] = starts[count > 0]
    track_rows = np.array([rows[str(t)] for t in np.asarray(segments.track).astype(str)], dtype=np.int64)
    seg = np.asarray(segments.segment, dtype=np.int64)
    n = count[track_rows]
    if np.any(n == 0):
        raise ValueError("a track of the segments has no musicnn patch")
    substituted = seg >= n
    index = first[track_rows] + np.minimum(seg, n - 1)
    return np.asarray(source, dtype=np.float32)[index], int(substituted.sum())


def embedded_segments(segments: SegmentSet, embeddings: DatasetEmbeddings, *, what: str = "embedding") -> SegmentSet:
    """The segments with ``X`` replaced by their musicnn patch, shape ``(n, 1, 200)`` (or ``(n, 1, 50)``).

    Labels, tracks, artists and positions stay those of ``segments``, so every split of the MFCC
    segments (:func:`mgc_helpers.data.splits.make_split`) and :func:`mgc_helpers.models.evaluation.evaluate`
    apply unchanged. ``info["substituted"]`` counts the segments that took their track's last patch.
    """
    values, substituted = segment_embeddings(segments, embeddings, what=what)
    out = replace(segments, X=values[:, None, :], info={"substituted": substituted, "what": what})
    return out


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------

@dataclass
class ProbeModel:
    """A linear probe: standardisation, then a multinomial logistic regression, in NumPy.

    ``predict_proba`` gives ``softmax(((x - mean) / scale) @ coef.T + intercept)`` over the
    genres seen in training (the others get 0), the very arithmetic of scikit-learn's
    ``LogisticRegression.predict_proba`` after its ``StandardScaler``.

    Attributes
    ----------
    mean, scale : np.ndarray, shape (200,)
    coef : np.ndarray, shape (k, 200)
        ``k`` classes seen in training (one row for two classes, as scikit-learn stores it).
    intercept : np.ndarray, shape (k,)
    classes : np.ndarray of int, shape (k',)
        Labels (indices into ``genres``) of the classes seen.
    genres : tuple of str
        Sorted genre names; column ``j`` of :meth:`predict_proba` is ``genres[j]``.
    meta : dict
        What it was trained on and with (see :func:`save_probe`).
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    classes: np.ndarray
    genres: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    name: str = "musicnn_probe"

    @property
    def n_classes(self) -> int:
        return len(self.genres)

    def predict_proba(self, X: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Genre probabilities ``(n, n_genres)`` of embeddings ``(n, 200)`` or ``(n, 1, 200)``.

        ``batch_size`` is accepted (and ignored) for the same call as the deep models.
        """
        Z = (as_rows(X, EMBEDDING_SIZE) - self.mean) / self.scale
        logits = Z @ self.coef.T + self.intercept
        if self.coef.shape[0] == 1:  # two classes: scikit-learn's binary form
            logits = np.concatenate([np.zeros_like(logits), logits], axis=1)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        out = np.zeros((len(p), self.n_classes))
        out[:, self.classes] = p
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted labels (argmax of :meth:`predict_proba`)."""
        return self.predict_proba(X).argmax(axis=1)

    @property
    def front_end(self) -> MusicnnFrontEnd:
        """musicnn's embedding of each 3-s patch (what the probe was trained on)."""
        return MusicnnFrontEnd("embedding")

    def caveat(self) -> str:
        """What a reader must know about the probe's answers ("" if nothing)."""
        if self.meta.get("dataset") == "synthetic":
            return ("this probe was trained on the book's synthetic dataset: its genres are the synthesiser's "
                    "styles, not real music. For real music, run 13_transfer on your GTZAN copy "
                    "(`mgc reproduce --dataset gtzan --data-dir DIR`) and use its musicnn_probe.npz")
        return ""

    def describe(self) -> str:
        m = self.meta
        return (f"linear probe on musicnn's embedding, trained on {m.get('n_train', '?')} segments of the "
                f"{m.get('dataset', '?')} dataset ({len(self.genres)} genres)")


def train_probe(segments: SegmentSet, index: np.ndarray | None = None, *, seed: int = 0, C: float = 1.0,
                max_iter: int = MAX_ITER, dataset: str = "") -> ProbeModel:
    """Fit the linear probe on embedded segments (:func:`embedded_segments`).

    Explained in ``13_transfer.ipynb``.

    Parameters
    ----------
    segments : SegmentSet
        With ``X`` of shape ``(n, 1, 200)``.
    index : array of int or None
        Rows to train on (``split.train``); ``None``: all.
    seed : int
        ``random_state`` of the solver (lbfgs is deterministic; recorded for the grid).
    C : float
        Inverse regularisation strength.
    max_iter : int
    dataset : str
        Recorded in the metadata (``segments.dataset`` when empty).

    Raises
    ------
    ValueError
        For an empty training part or one with a single genre.
    """
    import warnings

    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    index = np.arange(len(segments.y)) if index is None else np.asarray(index, dtype=np.int64)
    if index.size == 0:
        raise ValueError("the probe's training part is empty")
    X = as_rows(np.asarray(segments.X)[index], EMBEDDING_SIZE)
    y = np.asarray(segments.y, dtype=np.int64)[index]
    if np.unique(y).size < 2:
        raise ValueError("the probe's training part holds a single genre")
    start = time.perf_counter()
    scaler = StandardScaler().fit(X)
    clf = LogisticRegression(C=C, max_iter=int(max_iter), random_state=int(seed))
    # one BLAS thread: for matrices this small, threads cost more than they bring (20x slower measured on a
    # busy 2-core machine), and the fit is the same
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(1):
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(scaler.transform(X), y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    meta = {"kind": PROBE_KIND, "format": PROBE_FORMAT, "embedding": EMBEDDING_NAME,
            "musicnn_weights_sha256": weights_sha256(), "dataset": dataset or segments.dataset,
            "n_train": int(index.size), "seed": int(seed), "converged": converged,
            "sklearn": {"version": sklearn.__version__, "scaler": "StandardScaler()",
                        "classifier": f"LogisticRegression(C={C}, max_iter={int(max_iter)}, "
                                      f"random_state={int(seed)})"},
            "fit_seconds": round(time.perf_counter() - start, 3)}
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    probe = ProbeModel(scaler.mean_.astype(np.float64), scale.astype(np.float64), clf.coef_.astype(np.float64),
                       clf.intercept_.astype(np.float64), np.asarray(clf.classes_, dtype=np.int64),
                       tuple(segments.genres), meta)
    probe.meta["train_accuracy"] = float(np.mean(probe.predict(X) == y))
    return probe


# --------------------------------------------------------------------------------------------
# Saving and loading
# --------------------------------------------------------------------------------------------

def save_probe(probe: ProbeModel, path: str | os.PathLike, **extra: Any) -> Path:
    """Write a probe as an ``.npz`` that ``mgc predict --model PATH`` accepts.

    The file holds the arrays (``mean``, ``scale``, ``coef``, ``intercept``, ``classes``,
    ``genres``) and ``meta``, a JSON string: ``kind`` (:data:`PROBE_KIND`), ``format``,
    ``embedding``, ``musicnn_weights_sha256`` (the probe is only valid on embeddings of these
    weights), ``dataset``, ``n_train``, ``seed``, ``sklearn`` (version and parameters) and the
    keyword arguments given here (e.g. the protocol grid's accuracies). No pickle: it is read with
    ``allow_pickle=False``. Written atomically.

    Raises
    ------
    ValueError
        If ``path`` does not end in ``.npz``.
    """
    from ..data.segments import write_npz

    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise ValueError(f"{path}: a probe file must end in .npz")
    meta = {**probe.meta, **extra}
    write_npz(path, {"mean": probe.mean, "scale": probe.scale, "coef": probe.coef, "intercept": probe.intercept,
                      "classes": probe.classes, "genres": np.array(probe.genres, dtype=str),
                      "meta": np.array(json.dumps(meta, sort_keys=True, default=str))})
    return path


def load_probe(path: str | os.PathLike) -> ProbeModel:
    """Read and check a probe written by :func:`save_probe`.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ProbeFileError
        If it is not an ``.npz``, is damaged, is not a probe (``kind``), has a newer format, has
        inconsistent shapes, or was trained on embeddings of other musicnn weights; the message
        names the file and the reason.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such probe file")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except Exception as exc:
        raise ProbeFileError(f"{path}: not a readable .npz probe file ({type(exc).__name__}: {exc})") from None
    try:
        meta = json.loads(str(arrays["meta"]))
    except (KeyError, ValueError):
        raise ProbeFileError(f"{path}: has no probe metadata; not a musicnn probe made by the book "
                             f"(13_transfer.ipynb)") from None
    if not isinstance(meta, dict) or meta.get("kind") != PROBE_KIND:
        raise ProbeFileError(f"{path}: its kind is {meta.get('kind') if isinstance(meta, dict) else None!r}, "
                             f"not {PROBE_KIND!r}")
    if int(meta.get("format", 0)) > PROBE_FORMAT:
        raise ProbeFileError(f"{path}: probe format {meta.get('format')} is newer than this code reads "
                             f"({PROBE_FORMAT}); update mgc-book")
    try:
        genres = tuple(str(g) for g in arrays["genres"])
        probe = ProbeModel(arrays["mean"].astype(np.float64), arrays["scale"].astype(np.float64),
                           np.atleast_2d(arrays["coef"]).astype(np.float64), arrays["intercept"].astype(np.float64),
                           arrays["classes"].astype(np.int64), genres, meta)
    except KeyError as exc:
        raise ProbeFileError(f"{path}: probe array {exc} missing") from None
    k = len(probe.classes)
    expected_rows = 1 if k == 2 else k
    if (probe.mean.shape != (EMBEDDING_SIZE,) or probe.scale.shape != (EMBEDDING_SIZE,)
            or probe.coef.shape != (expected_rows, EMBEDDING_SIZE) or probe.intercept.shape != (expected_rows,)
            or k < 2 or probe.classes.min() < 0 or probe.classes.max() >= len(genres)
            or not np.all(np.isfinite(probe.coef)) or not np.all(probe.scale > 0)):
        raise ProbeFileError(f"{path}: inconsistent probe arrays (coef {probe.coef.shape}, {k} classes, "
                             f"{len(genres)} genres)")
    sha = meta.get("musicnn_weights_sha256")
    if sha != weights_sha256():
        raise ProbeFileError(f"{path}: trained on embeddings of musicnn weights {str(sha)[:12]}..., but this "
                             f"installation has {weights_sha256()[:12]}...; retrain it (13_transfer.ipynb)")
    return probe


# --------------------------------------------------------------------------------------------
# The protocol grid
# --------------------------------------------------------------------------------------------

def _run_cell(key: dict[str, Any], segments: SegmentSet, emb: SegmentSet, tags: SegmentSet,
              split_fn: Callable[..., Split], split_kwargs: dict[str, Any], C: float) -> dict[str, Any]:
    """Fit (the probe) and test one cell of the grid; its result row."""
    from ..models import evaluation as E
    from ..models import experiments as X

    start = time.perf_counter()
    split = split_fn(segments, key["protocol"], seed=key["seed"], **split_kwargs)
    if key["model"] == "musicnn_probe":
        model: Any = train_probe(emb, split.train, seed=key["seed"], C=C)
        ev = E.evaluate(model, emb, split.test)
        train_accuracy = model.meta["train_accuracy"]
    else:
        ev = E.evaluate(ZeroShotModel(tuple(segments.genres)), tags, split.test)
        train_accuracy = float("nan")
    metrics = ev.metrics()
    return {**key, **{m: metrics[m] for m in X.GRID_METRICS},
            "n_train": len(split.train), "n_valid": len(split.valid), "n_test": len(split.test),
            "n_test_tracks": metrics["n_tracks"], "final_train_accuracy": train_accuracy,
            "seconds": round(time.perf_counter() - start, 2)}


def run_transfer_protocols(segments: SegmentSet, embeddings: DatasetEmbeddings, *,
                           protocols: Sequence[str] = ("segment", "track", "artist"),
                           seeds: Sequence[int] = (0, 1, 2), C: float = 1.0,
                           out: str | os.PathLike | None = None,
                           split_fn: Callable[..., Split] | None = None,
                           split_kwargs: Mapping[str, Any] | None = None,
                           progress: bool | Callable[[str], None] = False) -> pd.DataFrame:
    """The protocol grid of :func:`mgc_helpers.models.experiments.run_protocols` for the probe and zero-shot.

    The splits are those of the MFCC ``segments`` (``split_fn(segments, protocol, seed=seed)``,
    default :func:`mgc_helpers.data.splits.make_split`), so every cell tests on exactly the segments the
    deep models and the MFCC baseline are tested on. Rows carry the same keys (``model`` is
    ``"musicnn_probe"`` or ``"musicnn_zeroshot"``, ``epochs`` and ``batch_size`` 0, the MFCC
    segments' fingerprints) and metrics; runs already in the CSV ``out`` are kept.

    Explained in ``13_transfer.ipynb``.
    """
    from ..models import experiments as X

    if split_fn is None:
        from ..data.splits import make_split

        split_fn = make_split
    data = X.data_keys(segments)
    emb = embedded_segments(segments, embeddings)
    tags = embedded_segments(segments, embeddings, what="tags")
    keys = [{"model": m, "protocol": p, "seed": int(s), "epochs": 0, "batch_size": 0,
             "standardize": m == "musicnn_probe", **data} for m in MODEL_NAMES for p in protocols for s in seeds]
    # a second of work per cell: here, not in worker processes that would each need the embeddings
    return X.run_grid(keys, _run_cell, args=(segments, emb, tags, split_fn, dict(split_kwargs or {}), C), out=out,
                      progress=progress, jobs=1)
