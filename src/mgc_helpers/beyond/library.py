"""``mgc similar``'s side: a folder's embeddings, cached, and the tracks most similar to a query.

:func:`build_library` embeds every audio file under a folder (with an embedder of
:mod:`mgc_helpers.beyond.embedders`) into a :class:`Library`, reusing the embeddings cached under
:func:`mgc_helpers.core.paths.cache_dir` (:func:`library_cache_path`; nothing is written in the
folder); :func:`find_similar` ranks the library's tracks by cosine similarity to a query
(:mod:`mgc_helpers.beyond.retrieval`) into a :class:`SimilarResult` of :class:`Hit` rows.

Explained in ``14_retrieval.ipynb``.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.records import Skipped
from ..signal.audio import AudioError
from .embedders import CACHE_VERSION, Embedder
from .retrieval import VectorSpace, nearest_neighbors

__all__ = [
    "Hit",
    "Library",
    "LibraryCacheWarning",
    "SimilarResult",
    "build_library",
    "find_similar",
    "library_cache_path",
]

_FORMAT = "mgc-library-1"


class LibraryCacheWarning(UserWarning):
    """A library cache file was unreadable and is being rebuilt."""


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
        Raw track vectors (see :class:`~mgc_helpers.beyond.embedders.FileEmbedding`).
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
    :data:`~mgc_helpers.beyond.embedders.CACHE_VERSION`; inside, every entry also records its file's
    size and modification time, so a changed file is embedded again. ``cache_dir`` defaults to
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
