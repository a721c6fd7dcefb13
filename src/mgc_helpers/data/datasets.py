"""Finding the clips of a genre dataset on disk: GTZAN (either common layout) or the synthetic one.

A dataset is a folder of genre folders, one audio clip per file. :func:`load_dataset` lists the
clips without decoding them (a cheap header check catches unreadable files), takes the labels from
the sorted genre names, and attaches an artist to each clip where one is known:

* the **synthetic** dataset (``mgc_helpers.data.synth``) records its artists in ``metadata.csv``;
* for **GTZAN** the artists come from the artist-filtered fold lists of Foleis and Tavares
  (``*_groups.txt``, packaged with :mod:`mgc_helpers.data.gtzan_lists`); the 52 clips those lists leave out
  (repeats and distorted clips) have no known artist.

Policy for problem files (nothing is dropped silently):

* hidden files (``.DS_Store``, ``._blues.00000.wav``...) and files that are not audio are
  *ignored*: counted in :attr:`Dataset.ignored` and in the summary, never an error;
* a file whose header cannot be read (the WAV copy's ``jazz.00054.wav``), or that holds no
  samples, becomes a :class:`Skipped` entry with the reason;
* an empty genre folder is reported as a :class:`Skipped` entry and keeps its label when it has
  a GTZAN genre name; a folder without audio and with another name (``cache/``, ``results/``) is
  not a genre: it is *ignored* and listed in the summary;
* clips that decode badly or are too short are found during extraction
  (:func:`mgc_helpers.data.features.extract_features`), which reports them per file.

Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.config import label_mapping
from ..core.records import Skipped
from ..signal.audio import AUDIO_EXTENSIONS, AudioError, audio_info
from .gtzan_lists import gtzan_artists

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..core.profiles import Profile

__all__ = [
    "DATASET_NAMES",
    "LAYOUTS",
    "Dataset",
    "DatasetError",
    "Skipped",
    "Track",
    "example_tracks",
    "fetch_gtzan",
    "load_dataset",
    "prepare_dataset",
]

#: Dataset names accepted by :func:`load_dataset` and :func:`prepare_dataset`.
DATASET_NAMES: tuple[str, ...] = ("synthetic", "gtzan")

#: Folder layouts :func:`load_dataset` recognises.
LAYOUTS: dict[str, str] = {
    "genres_original": "GTZAN WAV copy: genres_original/<genre>/<genre>.000NN.wav",
    "genres": "original GTZAN: genres/<genre>/<genre>.000NN.au",
    "synthetic": "synthetic dataset: metadata.csv, synth.json, genres_original/<genre>/<genre>.000NN.wav",
}

_SYNTH_MARKERS = ("synth.json", "metadata.csv")
_GTZAN_NAME = re.compile(r"^(?P<genre>[a-z]+)\.(?P<number>\d+)$")


class DatasetError(ValueError):
    """A dataset folder cannot be used; the message names the folder and what was expected."""


@dataclass(frozen=True)
class Track:
    """One clip of a dataset.

    Parameters
    ----------
    track_id : str
        ``"<genre>.<number>"`` as in GTZAN's file names, e.g. ``"blues.00007"``.
    genre : str
        Name of the genre folder the clip is in.
    path : Path
        The audio file.
    artist : str or None
        Artist id where known (synthetic metadata, GTZAN artist lists), else ``None``.
    """

    track_id: str
    genre: str
    path: Path
    artist: str | None = None


@dataclass
class Dataset:
    """The clips of one dataset, in a fixed order.

    Parameters
    ----------
    name : str
        ``"synthetic"`` or ``"gtzan"``.
    root : Path
        The folder given to :func:`load_dataset`.
    layout : str
        One of :data:`LAYOUTS`.
    genres : tuple of str
        Sorted genre names; a genre's label is its index here.
    tracks : list of Track
        Usable clips, sorted by ``track_id``.
    skipped : list of Skipped
        Unreadable files and empty genre folders, with reasons.
    ignored : list of Path
        Hidden and non-audio files, and folders that are not genres (no audio file and not a
        GTZAN genre name, such as a ``cache/`` or ``results/`` folder), that were passed over.
    audio_root : Path or None
        The folder that holds the genre folders.
    """

    name: str
    root: Path
    layout: str
    genres: tuple[str, ...]
    tracks: list[Track]
    skipped: list[Skipped] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)
    audio_root: Path | None = None

    def __len__(self) -> int:
        return len(self.tracks)

    @property
    def mapping(self) -> dict[str, int]:
        """Genre name -> integer label (sorted names)."""
        return label_mapping(self.genres)

    def label_of(self, genre: str) -> int:
        """Integer label of ``genre`` (its index among the sorted genre names).

        Raises
        ------
        ValueError
            If the genre is not part of the dataset.
        """
        try:
            return self.mapping[genre]
        except KeyError:
            raise ValueError(f"unknown genre {genre!r}; this dataset has {list(self.genres)}") from None

    def to_frame(self) -> pd.DataFrame:
        """One row per track: ``track_id, genre, label, artist, path``."""
        import pandas as pd

        mapping = self.mapping
        return pd.DataFrame({
            "track_id": [t.track_id for t in self.tracks],
            "genre": [t.genre for t in self.tracks],
            "label": [mapping[t.genre] for t in self.tracks],
            "artist": [t.artist for t in self.tracks],
            "path": [str(t.path) for t in self.tracks],
        })

    def summary(self) -> str:
        """A few lines for logs and notebooks: counts, then every skipped file with its reason."""
        per_genre = {g: 0 for g in self.genres}
        for t in self.tracks:
            per_genre[t.genre] += 1
        counts = sorted(set(per_genre.values()))
        spread = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        artists = {t.artist for t in self.tracks if t.artist is not None}
        unknown = sum(t.artist is None for t in self.tracks)
        lines = [
            f"{self.name} dataset ({self.layout} layout) in {self.root}",
            f"{len(self.tracks)} tracks in {len(self.genres)} genres ({spread} per genre), "
            f"{len(artists)} known artists" + (f", {unknown} tracks without artist" if unknown else ""),
        ]
        lines.append(f"skipped {len(self.skipped)} file(s)" + (":" if self.skipped else ""))
        lines += [f"  {_short(s.path, self.root)}: {s.reason}" for s in self.skipped]
        if self.ignored:
            shown = ", ".join(_short(p, self.root) for p in self.ignored[:5])
            more = f" and {len(self.ignored) - 5} more" if len(self.ignored) > 5 else ""
            lines.append(f"ignored {len(self.ignored)} hidden or non-audio file(s) or non-genre folder(s): "
                         f"{shown}{more}")
        return "\n".join(lines)


def _short(path: Path, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def _hidden(path: Path) -> bool:
    return path.name.startswith(".") or path.name.startswith("__MACOSX")


def _is_audio(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS


def _holds_audio(folder: Path) -> bool:
    return any(p.is_file() and not _hidden(p) and _is_audio(p) for p in folder.iterdir())


def _genre_folders(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not _hidden(p))


def _looks_like_genre_root(folder: Path) -> bool:
    """Holds at least one genre folder with audio, or folders named like the GTZAN genres."""
    from ..core.config import GENRES

    subfolders = _genre_folders(folder)
    return any(_holds_audio(p) for p in subfolders) or (
        bool(subfolders) and {p.name for p in subfolders} <= set(GENRES))


def _expected(root: Path) -> str:
    return (f"expected one of: {root}/genres_original/<genre>/<genre>.000NN.wav (GTZAN WAV copy), "
            f"{root}/genres/<genre>/<genre>.000NN.au (original GTZAN), <genre> folders with audio files "
            f"directly in {root}, or a synthetic dataset (metadata.csv, synth.json, genres_original/)")


def _find_audio_root(root: Path, name: str | None) -> tuple[Path, str, str]:
    """Return ``(audio_root, layout, name)`` for a dataset folder, or raise a clear error."""
    if not root.exists():
        raise FileNotFoundError(f"dataset folder {root} does not exist")
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder; {_expected(root)}")
    visible = [p for p in root.iterdir() if not _hidden(p)]
    if not visible:
        raise DatasetError(f"dataset folder {root} is empty; {_expected(root)}")

    synthetic = any((root / m).is_file() for m in _SYNTH_MARKERS)
    if name == "synthetic" or (name is None and synthetic):
        if not synthetic:
            raise DatasetError(f"{root} is not a synthetic dataset: it has neither metadata.csv nor synth.json "
                               "(make one with mgc_helpers.data.synth.dataset.generate_dataset)")
        audio_root = root / "genres_original"
        if not audio_root.is_dir():
            raise DatasetError(f"synthetic dataset {root} has no genres_original/ folder; regenerate it with "
                               "mgc_helpers.data.synth.dataset.generate_dataset")
        return audio_root, "synthetic", "synthetic"
    if synthetic:  # name == "gtzan"
        raise DatasetError(f"{root} holds the synthetic dataset (it has metadata.csv/synth.json), not GTZAN; "
                           "load it with name='synthetic'")

    for base in (root, root / "Data", root / "gtzan_genre", root / "gtzan"):
        for layout in ("genres_original", "genres"):
            candidate = base / layout
            if candidate.is_dir() and _looks_like_genre_root(candidate):
                return candidate, layout, "gtzan"
    if _looks_like_genre_root(root):
        files = [p for g in _genre_folders(root) for p in g.iterdir() if p.is_file() and _is_audio(p)]
        n_au = sum(p.suffix.lower() == ".au" for p in files)
        return root, ("genres" if files and 2 * n_au > len(files) else "genres_original"), "gtzan"
    found = ", ".join(sorted(p.name + ("/" if p.is_dir() else "") for p in visible)[:8])
    raise DatasetError(f"unknown dataset layout in {root} (found: {found}); {_expected(root)}")


def _track_id(path: Path, genre: str) -> str:
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    match = _GTZAN_NAME.match(stem)
    if match and match["genre"] == genre:
        return f"{genre}.{int(match['number']):05d}"
    return stem if stem.startswith(f"{genre}.") else f"{genre}.{stem}"


def _scan(audio_root: Path) -> tuple[tuple[str, ...], list[Track], list[Skipped], list[Path]]:
    """List the genre folders and their clips, checking each file's header."""
    genres: list[str] = []
    tracks: list[Track] = []
    skipped: list[Skipped] = []
    ignored: list[Path] = [p for p in sorted(audio_root.iterdir()) if not p.is_dir() or _hidden(p)]
    seen: dict[str, Path] = {}
    from ..core.config import GENRES

    for folder in _genre_folders(audio_root):
        genre = folder.name
        if genre not in GENRES and not _holds_audio(folder):
            ignored.append(folder)  # a cache, a results folder...: never an extra genre
            continue
        genres.append(genre)
        n_audio = 0
        for path in sorted(folder.iterdir()):
            if path.is_symlink() and not path.exists() and not _hidden(path):
                skipped.append(Skipped(path, f"broken symbolic link (points to {os.readlink(path)}, "
                                             "which does not exist)"))
                continue
            if _hidden(path) or not path.is_file() or not _is_audio(path):
                ignored.append(path)
                continue
            n_audio += 1
            track_id = _track_id(path, genre)
            if track_id in seen:
                skipped.append(Skipped(path, f"duplicate of {seen[track_id].name} (same track id {track_id})"))
                continue
            try:
                info = audio_info(path)
            except AudioError as exc:
                skipped.append(Skipped(path, exc.reason))
                continue
            if info.frames == 0:
                skipped.append(Skipped(path, "no audio samples"))
                continue
            seen[track_id] = path
            tracks.append(Track(track_id, genre, path))
        if n_audio == 0:
            skipped.append(Skipped(folder, "empty genre folder: no audio files (the genre keeps its label)"))
    tracks.sort(key=lambda t: t.track_id)
    return tuple(sorted(genres)), tracks, skipped, ignored


def _synthetic_artists(root: Path, tracks: list[Track], skipped: list[Skipped]) -> list[Track]:
    import pandas as pd

    meta_path = root / "metadata.csv"
    if not meta_path.is_file():
        return tracks
    try:
        meta = pd.read_csv(meta_path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise DatasetError(f"{meta_path}: cannot be read ({type(exc).__name__}: {exc})") from None
    missing = {"track_id", "genre", "artist"} - set(meta.columns)
    if missing:
        raise DatasetError(f"{meta_path} lacks the column(s) {sorted(missing)}")
    artists = dict(zip(meta["track_id"], meta["artist"], strict=False))
    present = {t.track_id for t in tracks} | {_track_id(Path(s.path), Path(s.path).parent.name) for s in skipped}
    for row in meta.itertuples(index=False):
        if row.track_id not in present:
            rel = getattr(row, "path", "") or f"genres_original/{row.genre}/{row.track_id}.wav"
            skipped.append(Skipped(root / rel, "listed in metadata.csv but the file is missing"))
    return [Track(t.track_id, t.genre, t.path, artists.get(t.track_id) or None) for t in tracks]


def _gtzan_artists(tracks: list[Track]) -> list[Track]:
    artists = gtzan_artists()
    return [Track(t.track_id, t.genre, t.path, artists.get(t.track_id)) for t in tracks]


def load_dataset(root: str | os.PathLike, *, name: str | None = None) -> Dataset:
    """List the clips of a dataset folder.

    Parameters
    ----------
    root : path-like
        A synthetic dataset folder (``metadata.csv``, ``synth.json``, ``genres_original/``), or a GTZAN
        copy: the folder holding ``genres_original/`` (WAV copy; also found under ``Data/``) or
        ``genres/`` (original ``.au`` files), or the folder that directly holds the genre folders.
    name : {None, "synthetic", "gtzan"}
        ``None`` detects the synthetic dataset by its ``metadata.csv``/``synth.json``, else GTZAN.

    Returns
    -------
    Dataset
        Tracks sorted by ``track_id``, genres sorted, problem files in ``skipped``/``ignored``.

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    DatasetError
        If ``root`` is empty, has an unknown layout (the message says what was expected), or holds
        no audio at all; if ``name`` contradicts what the folder holds.
    ValueError
        If ``name`` is not one of :data:`DATASET_NAMES`.

    Examples
    --------
    >>> import numpy as np, soundfile as sf, tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for g in ("rock", "blues"):
    ...     (root / "genres_original" / g).mkdir(parents=True)
    ...     sf.write(root / "genres_original" / g / f"{g}.00000.wav", np.zeros(2205), 22050)
    >>> ds = load_dataset(root)
    >>> ds.layout, ds.genres, [t.track_id for t in ds.tracks]
    ('genres_original', ('blues', 'rock'), ['blues.00000', 'rock.00000'])

    Explained in ``06_dataset.ipynb``.
    """
    if name is not None and name not in DATASET_NAMES:
        raise ValueError(f"unknown dataset name {name!r}; choose one of {list(DATASET_NAMES)} or None (auto)")
    root = Path(root).expanduser()
    audio_root, layout, name = _find_audio_root(root, name)
    genres, tracks, skipped, ignored = _scan(audio_root)
    if not genres:
        raise DatasetError(f"no genre folders in {audio_root}; {_expected(root)}")
    if not tracks and not any(s.path.is_file() for s in skipped):
        raise DatasetError(f"the genre folders in {audio_root} hold no audio files "
                           f"(looked for {', '.join(AUDIO_EXTENSIONS)})")
    if name == "synthetic":
        tracks = _synthetic_artists(root, tracks, skipped)
    else:
        tracks = _gtzan_artists(tracks)
    return Dataset(name=name, root=root, layout=layout, genres=genres, tracks=tracks,
                   skipped=skipped, ignored=ignored, audio_root=audio_root)


def example_tracks(dataset: Dataset, *, min_seconds: float) -> tuple[dict[str, Track], list[str]]:
    """One clip per genre to show a reader: the first at least ``min_seconds`` long, else the longest.

    Real copies have short clips and missing genres, so a chapter picks what it shows from what
    exists and says what it could not find.

    Returns
    -------
    examples : dict
        ``{genre: Track}`` for every genre that has a usable clip, in genre order.
    notes : list of str
        One line per genre without any clip, or without a clip of ``min_seconds``.

    Explained in ``06_dataset.ipynb``.
    """
    examples: dict[str, Track] = {}
    notes: list[str] = []
    for genre in dataset.genres:
        candidates = [t for t in dataset.tracks if t.genre == genre]
        if not candidates:
            notes.append(f"{genre}: no usable clip")
            continue
        durations: list[tuple[float, Track]] = []
        for track in candidates:
            try:
                seconds = audio_info(track.path).duration
            except AudioError:
                continue
            durations.append((seconds, track))
            if seconds >= min_seconds:
                break
        if not durations:
            notes.append(f"{genre}: no clip with a readable header")
            continue
        seconds, track = next(((d, t) for d, t in durations if d >= min_seconds), max(durations, key=lambda x: x[0]))
        if seconds < min_seconds:
            notes.append(f"{genre}: no clip of {min_seconds:g} s; showing the longest, "
                         f"{track.track_id} ({seconds:.1f} s)")
        examples[genre] = track
    return examples, notes


def _resolve_profile(profile: str | Profile | None) -> Profile:
    from ..core.profiles import Profile, get_profile

    return profile if isinstance(profile, Profile) else get_profile(profile)


def prepare_dataset(dataset: str = "synthetic", *, data_dir: str | os.PathLike | None = None,
                    profile: str | Profile | None = None, seed: int = 0, progress: bool = False) -> Dataset:
    """Make sure a dataset is on disk and list it: what every chapter calls first.

    Parameters
    ----------
    dataset : {"synthetic", "gtzan"}
        ``"synthetic"`` generates (or reuses) the embedded dataset with the profile's
        ``clips_per_genre``; ``"gtzan"`` loads your own GTZAN copy from ``data_dir/gtzan``
        (or ``data_dir`` itself).
    data_dir : path-like or None
        Data folder; ``None`` resolves through :func:`mgc_helpers.core.paths.data_dir`.
    profile : str, Profile or None
        Run profile (sizes); ``None`` reads ``MGC_PROFILE``.
    seed : int
        Seed of the synthetic dataset.
    progress : bool
        Show a progress bar while generating.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        For an unknown dataset name (the message lists the choices).
    FileNotFoundError
        For ``"gtzan"`` when no copy is found in ``data_dir``.

    Explained in ``06_dataset.ipynb``.
    """
    from ..core import paths

    if dataset not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {list(DATASET_NAMES)}")
    base = paths.data_dir(data_dir)
    if dataset == "synthetic":
        from .synth.dataset import generate_dataset, synthetic_dir

        prof = _resolve_profile(profile)
        root = synthetic_dir(base, clips_per_genre=prof.clips_per_genre, seed=seed)
        generate_dataset(root, clips_per_genre=prof.clips_per_genre, seed=seed, progress=progress)
        return load_dataset(root, name="synthetic")
    root = base / "gtzan" if (base / "gtzan").is_dir() else base
    if not root.is_dir():
        raise FileNotFoundError(f"no GTZAN copy found: {base} does not exist; put your copy in "
                                f"{base / 'gtzan'} (see data/README.md)")
    try:
        return load_dataset(root, name="gtzan")
    except DatasetError as exc:
        raise DatasetError(f"no usable GTZAN copy in {root} ({exc}); put your copy in {base / 'gtzan'} "
                           "(see data/README.md)") from None


def fetch_gtzan(data_home: str | os.PathLike) -> Path:
    """Download GTZAN with mirdata (optional; needs internet and the ``gtzan`` extra).

    Nothing in the book depends on this: the chapters use the synthetic dataset unless you point
    them at a copy you already have.

    Parameters
    ----------
    data_home : path-like
        Folder mirdata downloads into.

    Returns
    -------
    Path
        ``data_home``, ready for :func:`load_dataset`.

    Raises
    ------
    ImportError
        If mirdata is not installed (``pip install "mgc-helpers[gtzan]"``).
    """
    try:
        import mirdata
    except ImportError:
        raise ImportError("fetch_gtzan needs mirdata, which is not installed; install it with "
                          "pip install \"mgc-helpers[gtzan]\" (or pip install mirdata)") from None
    data_home = Path(data_home).expanduser()
    gtzan = mirdata.initialize("gtzan_genre", data_home=str(data_home))
    gtzan.download()
    return data_home
