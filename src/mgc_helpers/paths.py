"""Where data, caches and results live.

Notebooks take ``data_dir`` and ``results_dir`` parameters; left at ``None`` they resolve here:
the environment variables ``MGC_DATA_DIR`` / ``MGC_RESULTS_DIR`` if set, otherwise ``data/`` and
``results/<profile>/`` in the project folder (found by walking up from the working directory to the
folder holding ``_config.yml`` and ``pyproject.toml``), otherwise ``~/mgc-book``.
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


def results_dir(value: str | os.PathLike | None = None, *, profile: str = "default") -> Path:
    """Folder for trained models, histories, tables and figures of one profile."""
    if value is not None:
        return Path(value).expanduser()
    env = os.environ.get(RESULTS_ENV)
    return Path(env).expanduser() if env else _base() / "results" / profile


def cache_dir(value: str | os.PathLike | None = None) -> Path:
    """Folder for caches about the user's own files (``mgc similar``'s library embeddings).

    ``value`` if given, else ``$MGC_CACHE_DIR``, else ``$XDG_CACHE_HOME/mgc-book`` or
    ``~/.cache/mgc-book``. Never inside the user's music folders.
    """
    if value is not None:
        return Path(value).expanduser()
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "mgc-book"
