"""One set-up for every data chapter: parameters, folders, dataset, features and split.

Chapters 06-14 declare the same papermill parameters (:data:`PARAMETERS`) and pass them to
:func:`setup`, which resolves the profile and the folders, and then gives each chapter the same
dataset, the same cached features and the same split:

>>> chapter = setup(dataset="synthetic", profile="quick", seed=0)   # doctest: +SKIP
>>> chapter.segments, chapter.split("segment")                      # doctest: +SKIP

Where things go (see :mod:`mgc_helpers.core.paths`):

* the dataset is read from (or, for the synthetic one, generated in) ``data_dir``;
* features are cached in ``cache_dir/features`` (``MGC_CACHE_DIR`` or ``data/cache``), never
  inside a dataset folder;
* models, tables, predictions and figures go to ``results_dir``, which by default is named after
  the run (``results/default``, ``results/default-epochs5``...), so a run with other settings
  never overwrites another run's models.

Chapters that write example files (a reader's "own" audio, a music library) write them to a
:func:`scratch_folder`, which is removed when the notebook's kernel exits.

Explained in ``07_mlp.ipynb`` (the parameters cell) and used by every chapter from 06 on.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import paths
from ..core.profiles import Profile, get_profile

if TYPE_CHECKING:  # pragma: no cover
    from ..data.datasets import Dataset
    from ..data.segments import SegmentSet
    from ..data.splits import Split
    from ..models.training import TrainedModel

__all__ = ["PARAMETERS", "Chapter", "scratch_folder", "setup"]

#: The parameters every data chapter declares, in this order, and ``mgc reproduce`` fills in.
PARAMETERS: tuple[str, ...] = ("dataset", "data_dir", "results_dir", "profile", "epochs", "seed")


@dataclass
class Chapter:
    """The resolved parameters and folders of one chapter run, and its data, made once.

    Attributes
    ----------
    dataset : {"synthetic", "gtzan"}
        Which data the chapter uses.
    profile : Profile
        Run sizes, with ``epochs`` already overridden when the parameter was given.
    seed : int
        Seed of the dataset, the split, the weights and the mini-batches.
    epochs : int or None
        The ``epochs`` parameter as given (``None``: the profile's).
    data_dir, results_dir, cache_dir : Path
        Where the data are read, results written and caches kept.
    """

    dataset: str
    profile: Profile
    seed: int
    epochs: int | None
    data_dir: Path
    results_dir: Path
    cache_dir: Path
    _splits: dict[str, Split] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ folders
    @property
    def figures(self) -> Path:
        """``results_dir/figures``."""
        return self.results_dir / "figures"

    @property
    def tables(self) -> Path:
        """``results_dir/tables`` (made on first use)."""
        folder = self.results_dir / "tables"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def predictions(self) -> Path:
        """``results_dir/predictions``."""
        return self.results_dir / "predictions"

    def model_path(self, name: str) -> Path:
        """File stem of a model of this run: ``results_dir/models/<name>``."""
        from ..models.training import model_path

        return model_path(self.results_dir, name)

    # ------------------------------------------------------------------ data
    @cached_property
    def data(self) -> Dataset:
        """The dataset's clips (generated first for the synthetic dataset)."""
        from ..data.datasets import prepare_dataset

        return prepare_dataset(self.dataset, data_dir=self.data_dir, profile=self.profile, seed=self.seed)

    @cached_property
    def segments(self) -> SegmentSet:
        """MFCC segments of every usable clip, from the feature cache after the first run."""
        from ..data.features import extract_features

        return extract_features(self.data, cache_dir=self.cache_dir / "features")

    def split(self, protocol: str = "segment", *, seed: int | None = None) -> Split:
        """The split of :attr:`segments` by ``protocol`` (default: the paper's random segments)."""
        from ..data.splits import make_split

        seed = self.seed if seed is None else int(seed)
        key = f"{protocol}/{seed}"
        if key not in self._splits:
            self._splits[key] = make_split(self.segments, protocol, seed=seed)
        return self._splits[key]

    # ------------------------------------------------------------------ models
    def train_or_load(self, model: str, *, protocol: str = "segment",
                      name: str | None = None, **kwargs: Any) -> tuple[TrainedModel, bool]:
        """Train ``model`` with this run's settings, or reuse the one saved with exactly these settings.

        The model is saved as ``results_dir/models/<name or model>``; the settings compared are
        those of :func:`mgc_helpers.models.training.train_or_load` (epochs, batch size, seed, split,
        data fingerprint, options), so a model is never reused across settings, and a chapter
        never replaces a model of this run by one trained differently.

        Returns
        -------
        (TrainedModel, bool)
            The model, and whether it was reused.
        """
        from ..models.training import train_or_load

        kwargs.setdefault("progress", True)
        return train_or_load(self.segments, self.split(protocol), model=model,
                             path=self.model_path(name or model), epochs=self.profile.epochs,
                             batch_size=self.profile.batch_size, seed=self.seed, profile=self.profile.name,
                             **kwargs)

    def describe(self) -> str:
        """One line for the chapter's first output."""
        p = self.profile
        return (f"dataset {self.dataset!r}, profile {p.name!r} ({p.epochs} epochs, batch size {p.batch_size}), "
                f"seed {self.seed}")


def _choose_progress_bars_quietly() -> None:
    """Import ``tqdm.auto`` now, without the warning it gives in a Jupyter kernel that lacks ipywidgets.

    librosa's resampling imports pooch, whose downloader imports ``tqdm.auto``; in a kernel without
    ipywidgets that import warns "IProgress not found" once, in whichever cell first resamples.
    The book shows no progress bar of pooch's, and the project's own bars are plain ``tqdm``
    ones, so the warning would tell its reader nothing.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import tqdm.auto  # noqa: F401


def setup(dataset: str = "synthetic", data_dir: str | os.PathLike[str] | None = None,
          results_dir: str | os.PathLike[str] | None = None, profile: str | None = None,
          epochs: int | None = None, seed: int = 0) -> Chapter:
    """Check a chapter's parameters and resolve its profile and folders.

    Parameters
    ----------
    dataset : {"synthetic", "gtzan"}
        ``"synthetic"``: the embedded dataset, generated on first use; ``"gtzan"``: your copy.
    data_dir : path-like or None
        Data folder (``None``: ``MGC_DATA_DIR`` or ``data/`` of the project).
    results_dir : path-like or None
        Results folder (``None``: ``MGC_RESULTS_DIR`` or ``results/<run>`` named by
        :func:`mgc_helpers.core.paths.run_name`).
    profile : {"quick", "default", "paper"} or None
        Run sizes (``None``: ``MGC_PROFILE`` or ``"default"``).
    epochs : int or None
        Overrides the profile's number of epochs.
    seed : int
        Non-negative seed.

    Returns
    -------
    Chapter

    Raises
    ------
    ValueError
        For an unknown dataset or profile, or a bad number of epochs or seed; the message lists
        the valid choices.

    Examples
    --------
    >>> chapter = setup(profile="quick", epochs=2, results_dir="/tmp/r")
    >>> chapter.profile.epochs, str(chapter.results_dir)
    (2, '/tmp/r')
    """
    from ..data.datasets import DATASET_NAMES

    if dataset not in DATASET_NAMES:
        raise ValueError(f"dataset must be one of {list(DATASET_NAMES)}, got {dataset!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    prof = get_profile(profile, epochs=epochs)
    _choose_progress_bars_quietly()
    return Chapter(
        dataset=dataset, profile=prof, seed=seed, epochs=epochs,
        data_dir=paths.data_dir(data_dir),
        results_dir=paths.results_dir(results_dir, profile=prof.name, dataset=dataset, epochs=epochs, seed=seed),
        cache_dir=paths.cache_dir(),
    )


def scratch_folder(prefix: str = "mgc-") -> Path:
    """A new, empty temporary folder for a chapter's example files, removed when Python exits.

    The folder lies in the system's temporary folder (:func:`tempfile.mkdtemp`), never in the
    project, the data or the results; it is removed with everything in it when the process (the
    notebook's kernel) exits normally.

    Parameters
    ----------
    prefix : str
        Start of the folder's name, to tell it apart (``"my-music-"``).

    Returns
    -------
    Path
        The folder, which exists and is empty.

    Examples
    --------
    >>> folder = scratch_folder("example-")
    >>> folder.is_dir(), list(folder.iterdir()), folder.name.startswith("example-")
    (True, [], True)
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder
