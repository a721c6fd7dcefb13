"""Writing the synthetic dataset in GTZAN's layout.

``generate_dataset(root)`` writes ``root/genres_original/<genre>/<genre>.000NN.wav`` (22050 Hz,
mono, 16-bit PCM), ``root/metadata.csv`` (one row per clip: track id, genre, artist, tempo, key,
seed, path and the clip's musical description) and ``root/synth.json`` (the parameters and the
generator version). The same arguments always give byte-identical files, whatever ``n_jobs``:
each clip depends only on its own seed, derived from ``(seed, genre, index)`` with
:class:`numpy.random.SeedSequence`. A finished dataset is reused; an interrupted one is completed.
Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import json
import math
import os
import re
import time
import wave
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...core.config import GENRES
from .arrangement import ClipPlan, plan_clip
from .artists import N_ARTISTS, artist_ids
from .mixing import render_plan

if TYPE_CHECKING:
    import pandas as pd

#: Bumped whenever the generator's output changes, so that stale datasets are re-rendered.
GENERATOR_VERSION = "2"
#: Sample rate of the written files (GTZAN's).
SAMPLE_RATE = 22050
MANIFEST = "synth.json"
METADATA = "metadata.csv"
_WAV_HEADER = 44
_MAX_CLIPS = 100_000  # track ids have five digits


def synthetic_dir(data_dir: str | os.PathLike[str], *, clips_per_genre: int, seed: int = 0,
                  duration: float = 30.0) -> Path:
    """Folder of a synthetic dataset of the given size inside ``data_dir``.

    Examples
    --------
    >>> synthetic_dir("data", clips_per_genre=50).as_posix()
    'data/synthetic-50x30s-seed0'

    Explained in ``06_dataset.ipynb``.
    """
    return Path(data_dir) / f"synthetic-{clips_per_genre}x{duration:g}s-seed{seed}"


def clip_seed(seed: int, genre: str, index: int) -> int:
    """The seed of clip ``index`` of ``genre`` (32 bits, from a SeedSequence of the three).

    Examples
    --------
    >>> clip_seed(0, "rock", 3) == clip_seed(0, "rock", 3) != clip_seed(1, "rock", 3)
    True

    Explained in ``06_dataset.ipynb``.
    """
    ss = np.random.SeedSequence([int(seed), zlib.crc32(genre.encode()), int(index)])
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def artist_for_clip(genre: str, index: int, *, seed: int = 0) -> str:
    """The artist of clip ``index``: every artist once in the first clips, then uneven shares.

    As in GTZAN, some artists have many clips and others few. The choice depends only on
    ``(seed, genre, index)``, so a bigger dataset extends a smaller one.

    Explained in ``06_dataset.ipynb``.
    """
    ids = artist_ids(genre)
    base = np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(genre.encode()), 7]))
    order = base.permutation(N_ARTISTS)
    if index < N_ARTISTS:
        return ids[int(order[index])]
    weights = 1.0 / (1.0 + 0.45 * np.arange(N_ARTISTS))
    seeds = np.random.SeedSequence([int(seed), zlib.crc32(genre.encode()), 8, int(index)])
    rng = np.random.default_rng(seeds)
    return ids[int(order[rng.choice(N_ARTISTS, p=weights / weights.sum())])]


def _check_params(clips_per_genre: Any, duration: Any, seed: Any, n_jobs: Any) -> None:
    """A :class:`ValueError` naming the first bad parameter of :func:`generate_dataset`."""
    if not isinstance(clips_per_genre, (int, np.integer)) or isinstance(clips_per_genre, bool) \
            or not 1 <= clips_per_genre <= _MAX_CLIPS:
        raise ValueError(f"clips_per_genre must be an integer from 1 to {_MAX_CLIPS}, "
                         f"got {clips_per_genre!r}")
    if isinstance(duration, bool) or not isinstance(duration, (int, float, np.floating, np.integer)) \
            or not math.isfinite(duration) or not 0.1 <= duration <= 600:
        raise ValueError(f"duration must be a number of seconds from 0.1 to 600, got {duration!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if n_jobs is not None and (not isinstance(n_jobs, (int, np.integer)) or isinstance(n_jobs, bool)
                               or n_jobs == 0 or n_jobs < -1):
        raise ValueError(f"n_jobs must be None, -1 or a positive integer, got {n_jobs!r}")


def write_wav(path: str | os.PathLike[str], y: np.ndarray, *, sr: int = SAMPLE_RATE) -> int:
    """Write mono float samples in [-1, 1] as 16-bit PCM WAV, atomically; return the file size.

    The samples are rounded to integers by ``round(32767 * y)`` so the bytes do not depend on the
    audio library. A temporary file is renamed into place, so a file that exists is complete.

    Explained in ``06_dataset.ipynb``.
    """
    path = Path(path)
    pcm = np.round(np.clip(y, -1.0, 1.0) * 32767.0).astype("<i2")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with wave.open(str(tmp), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(int(sr))
            out.writeframes(pcm.tobytes())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path.stat().st_size


def _track_id(genre: str, index: int) -> str:
    return f"{genre}.{index:05d}"


def _rel_path(genre: str, index: int) -> str:
    return f"genres_original/{genre}/{_track_id(genre, index)}.wav"


def _row(genre: str, index: int, seed: int, duration: float) -> tuple[dict[str, Any], ClipPlan]:
    """The metadata row and the plan of clip ``index`` of ``genre``."""
    artist = artist_for_clip(genre, index, seed=seed)
    cseed = clip_seed(seed, genre, index)
    plan = plan_clip(genre, artist=artist, seed=cseed, duration=duration)
    row = {"track_id": _track_id(genre, index), "genre": genre, "artist": artist, **plan.info(),
           "seed": cseed, "duration": float(duration), "path": _rel_path(genre, index)}
    return row, plan


def _render_one(root: str, genre: str, index: int, seed: int, duration: float) -> dict[str, Any]:
    """Render clip ``index`` of ``genre``, write its WAV file and return its metadata row."""
    row, plan = _row(genre, index, seed, duration)
    y = render_plan(plan, sr=SAMPLE_RATE)  # no BLAS calls: one thread whatever the thread limits
    if not np.all(np.isfinite(y)):  # pragma: no cover - guarded in render_plan
        raise RuntimeError(f"{row['track_id']}: rendered samples are not finite")
    row["size"] = write_wav(Path(root) / row["path"], y)
    return row


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _read_manifest(root: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _params(clips_per_genre: int, duration: float, seed: int) -> dict[str, Any]:
    # "generator" is the generator's name in synth.json, not a module path: it stays "mgc_helpers.synth"
    # (its name before it moved to mgc_helpers.data.synth), so existing datasets stay valid, byte for byte.
    return {"generator": "mgc_helpers.synth", "version": GENERATOR_VERSION,
            "clips_per_genre": int(clips_per_genre), "duration": float(duration), "seed": int(seed),
            "sample_rate": SAMPLE_RATE, "genres": list(GENRES), "artists_per_genre": N_ARTISTS}


def read_metadata(root: str | os.PathLike[str]) -> pd.DataFrame:
    """Read ``root/metadata.csv`` with stable column types (text stays text; ``06_dataset.ipynb``)."""
    import pandas as pd

    path = Path(root) / METADATA
    frame = pd.read_csv(path, dtype={"track_id": str, "genre": str, "artist": str, "key": str,
                                     "path": str, "progression": str, "sections": str,
                                     "borrowed": str, "meter": str, "bass": str, "chords": str,
                                     "lead": str, "drums": str},
                        keep_default_na=False)
    if "duration" in frame:
        frame["duration"] = frame["duration"].astype(float)
    return frame


def generate_dataset(root: str | os.PathLike[str], *, clips_per_genre: int = 100, duration: float = 30.0,
                     seed: int = 0, n_jobs: int | None = None, progress: bool = False) -> pd.DataFrame:
    """Write (or reuse) a GTZAN-shaped synthetic dataset in ``root`` and return its metadata.

    Parameters
    ----------
    root : path-like
        Dataset folder (created if needed), e.g. from :func:`synthetic_dir`.
    clips_per_genre : int
        Clips per genre (GTZAN: 100).
    duration : float
        Clip length in seconds (GTZAN: 30).
    seed : int
        Dataset seed; each clip's seed is derived from ``(seed, genre, index)``.
    n_jobs : int or None
        Parallel worker processes (joblib, one thread each); ``None`` uses every CPU core,
        1 renders in this process. The files do not depend on it.
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per clip sorted by ``track_id``; columns ``track_id, genre, artist, tempo, key,
        meter, swing, progression, sections, drums, bass, chords, lead, borrowed, lofi, seed,
        duration, path, size``. ``frame.attrs["synth"]`` tells how many clips were written and
        reused and how long it took.

    Raises
    ------
    ValueError
        For a bad parameter (named in the message).
    OSError
        If ``root`` cannot be created or written.

    Examples
    --------
    >>> import tempfile
    >>> meta = generate_dataset(tempfile.mkdtemp(), clips_per_genre=1, duration=1.0, n_jobs=1)
    >>> len(meta), meta.loc[0, "track_id"], meta.attrs["synth"]["written"]
    (10, 'blues.00000', 10)

    Explained in ``06_dataset.ipynb``.
    """
    _check_params(clips_per_genre, duration, seed, n_jobs)
    t_start = time.perf_counter()
    root = _make_folders(Path(root).expanduser())
    params = _params(clips_per_genre, duration, seed)
    manifest = _read_manifest(root)
    if manifest is None or manifest.get("generator") != params["generator"]:
        foreign = _foreign_audio(root)
        if foreign:
            raise OSError(f"{root} already holds audio not written by mgc_helpers.data.synth (e.g. {foreign}); "
                          "choose an empty or new folder")
    same = manifest is not None and {k: manifest.get(k) for k in params} == params
    expected = _WAV_HEADER + 2 * int(round(duration * SAMPLE_RATE))
    keys = [(g, i) for g in GENRES for i in range(clips_per_genre)]
    if manifest is not None and same and _complete(root, manifest, keys, expected):
        frame = read_metadata(root)
        frame.attrs["synth"] = _stats(0, len(keys), t_start, len(keys) * duration)
        return frame

    _write_text(root / MANIFEST, json.dumps({**params, "complete": False}, indent=1) + "\n")
    if not same:
        _remove_stale(root)
    todo = [(g, i) for g, i in keys if not (same and _size(root / _rel_path(g, i)) == expected)]
    pending = set(todo)
    rows = [_row(g, i, seed, duration)[0] | {"size": expected} for g, i in keys if (g, i) not in pending]
    rows += _render_all(root, todo, seed=seed, duration=duration, n_jobs=n_jobs, progress=progress)
    frame = _write_metadata(root, rows, params)
    frame.attrs["synth"] = _stats(len(todo), len(keys) - len(todo), t_start, len(keys) * duration)
    return frame


def _make_folders(root: Path) -> Path:
    """Create ``root`` and its genre folders; an :class:`OSError` that names ``root`` if that fails."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        for genre in GENRES:
            (root / "genres_original" / genre).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot create dataset folder {root}: {exc.strerror or exc}") from None
    if not os.access(root, os.W_OK):
        raise OSError(f"dataset folder {root} is not writable")
    return root


def _complete(root: Path, manifest: dict[str, Any], keys: list[tuple[str, int]], expected: int) -> bool:
    """Whether a finished dataset with these clips, each of ``expected`` bytes, is already there."""
    if not manifest.get("complete") or not (root / METADATA).is_file():
        return False
    files = manifest.get("files", {})
    return all(files.get(_rel_path(g, i)) == expected and _size(root / _rel_path(g, i)) == expected
               for g, i in keys)


def _write_metadata(root: Path, rows: list[dict[str, Any]], params: dict[str, Any]) -> pd.DataFrame:
    """Write ``metadata.csv`` and the finished manifest; the metadata as read back."""
    import pandas as pd

    frame = pd.DataFrame(rows).sort_values("track_id", kind="stable").reset_index(drop=True)
    tmp = root / f".{METADATA}.{os.getpid()}.tmp"
    frame.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")
    os.replace(tmp, root / METADATA)
    files = {path: int(size) for path, size in zip(frame["path"], frame["size"], strict=True)}
    _write_text(root / MANIFEST, json.dumps({**params, "complete": True, "files": files}, indent=1) + "\n")
    return read_metadata(root)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def _stats(written: int, reused: int, t_start: float, audio_seconds: float) -> dict[str, float]:
    return {"written": int(written), "reused": int(reused),
            "seconds": round(time.perf_counter() - t_start, 3), "audio_seconds": float(audio_seconds)}


def _foreign_audio(root: Path) -> str | None:
    """A WAV file under ``root/genres_original`` (present although no manifest of ours is), or None."""
    for path in sorted((root / "genres_original").rglob("*.wav")):
        return path.relative_to(root).as_posix()
    return None


def _remove_stale(root: Path) -> None:
    """Delete clips this generator wrote with other parameters (only files named like ours)."""
    for genre in GENRES:
        pattern = re.compile(rf"^{genre}\.(\d{{5}})\.wav$")
        for path in sorted((root / "genres_original" / genre).iterdir()):
            if pattern.match(path.name):
                path.unlink()
    (root / METADATA).unlink(missing_ok=True)


def _render_all(root: Path, todo: list[tuple[str, int]], *, seed: int, duration: float, n_jobs: int | None,
                progress: bool) -> list[dict[str, Any]]:
    """Render the clips ``todo`` (in worker processes unless ``n_jobs`` is 1); their metadata rows."""
    if not todo:
        return []
    from joblib import Parallel, delayed, parallel_config

    cores = os.cpu_count() or 1
    jobs = cores if n_jobs in (None, -1) else int(n_jobs)
    jobs = max(1, min(jobs, len(todo)))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc="synth", unit="clip")
    rows: list[dict[str, Any]] = []

    def collect(results: Iterable[dict[str, Any]]) -> None:
        for row in results:
            rows.append(row)
            if bar is not None:
                bar.update(1)

    try:
        if jobs == 1:
            collect(_render_one(str(root), g, i, seed, duration) for g, i in todo)
        else:
            with parallel_config(backend="loky", inner_max_num_threads=1):
                collect(Parallel(n_jobs=jobs, return_as="generator_unordered", batch_size=1)(
                    delayed(_render_one)(str(root), g, i, seed, duration) for g, i in todo))
    finally:
        if bar is not None:
            bar.close()
    return rows
