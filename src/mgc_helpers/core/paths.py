"""Where data, caches and results live.

Notebooks take ``data_dir`` and ``results_dir`` parameters; left at ``None`` they resolve here:
the environment variables ``MGC_DATA_DIR`` / ``MGC_RESULTS_DIR`` if set, otherwise ``data/`` and
``results/<run>/`` in the project folder (found by walking up from the working directory to the
folder holding ``_config.yml`` and ``pyproject.toml``), otherwise ``~/mgc-book``.

``<run>`` names what produced the results (:func:`run_name`): the profile alone for the default
run (``results/default``), with the dataset, epochs and seed added when they differ from the
defaults (``results/default-epochs5-seed1``), so a run with other settings never overwrites the
models another run produced.

Caches (features, embeddings) go to ``MGC_CACHE_DIR`` or ``data/cache/`` of the project, never
inside a dataset folder a user points to.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "MGC_DATA_DIR"
RESULTS_ENV = "MGC_RESULTS_DIR"
CACHE_ENV = "MGC_CACHE_DIR"


def project_root(start: str | os.PathLike | None = None) -> Path | None:
    """The mgc-book checkout containing ``start`` (default: the working directory), or ``None``."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / "pyproject.toml").is_file():
            return folder
    return None


def _base() -> Path:
    root = project_root()
    return root if root is not None else Path.home() / "mgc-book"


def data_dir(value: str | os.PathLike | None = None) -> Path:
    """Folder for datasets and feature caches."""
    if value is not None:
        return Path(value).expanduser()
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser() if env else _base() / "data"


def cache_dir(value: str | os.PathLike | None = None) -> Path:
    """Folder for caches (features, embeddings): ``value``, ``MGC_CACHE_DIR`` or ``data/cache``.

    It does not follow ``data_dir``: a dataset folder of the user's is only ever read.
    """
    if value is not None:
        return Path(value).expanduser()
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else _base() / "data" / "cache"


def run_name(profile: str = "default", *, dataset: str = "synthetic", epochs: int | None = None,
             seed: int = 0) -> str:
    """Name of the results folder of a run: the profile, plus what differs from the defaults.

    Examples
    --------
    >>> run_name("default")
    'default'
    >>> run_name("quick", dataset="gtzan", epochs=5, seed=1)
    'quick-gtzan-epochs5-seed1'
    """
    parts = [profile]
    if dataset != "synthetic":
        parts.append(dataset)
    if epochs is not None:
        parts.append(f"epochs{int(epochs)}")
    if seed:
        parts.append(f"seed{int(seed)}")
    return "-".join(parts)


def results_dir(value: str | os.PathLike | None = None, *, profile: str = "default",
                dataset: str = "synthetic", epochs: int | None = None, seed: int = 0) -> Path:
    """Folder for trained models, histories, tables and figures of one run (see :func:`run_name`)."""
    if value is not None:
        return Path(value).expanduser()
    env = os.environ.get(RESULTS_ENV)
    if env:
        return Path(env).expanduser()
    return _base() / "results" / run_name(profile, dataset=dataset, epochs=epochs, seed=seed)


def default_model_path() -> Path:
    """The model ``mgc predict`` uses without ``--model``: the default profile's CNN.

    That is ``results/default/models/cnn.keras`` of the project (written by ``mgc reproduce``), or
    under ``MGC_RESULTS_DIR`` when set. Nothing else is ever picked silently.
    """
    env = os.environ.get(RESULTS_ENV)
    root = Path(env).expanduser() if env else _base() / "results" / run_name("default")
    return root / "models" / "cnn.keras"
