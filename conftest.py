"""Shared pytest set-up for the unit tests and the nbval notebook runs.

* Notebook kernels inherit this environment, so nbval executes every notebook under the ``quick``
  profile unless ``MGC_PROFILE`` is already set.
* Data, caches and results of the whole session go to one temporary folder (``MGC_DATA_DIR``,
  ``MGC_CACHE_DIR``, ``MGC_RESULTS_DIR``), removed at the end: the test suite never writes into the
  checkout, and never leaves a model that ``mgc predict`` could pick up.
* At the end of the session the checkout is compared with its state at the start; a file or folder
  the tests created there fails the run, with its name. The one exception is the screenshot folder
  that ``MGC_SCREENSHOTS`` asks for (``.ci/run`` sets it to ``_build/screenshots``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="mgc-tests-"))
os.environ.setdefault("MGC_PROFILE", "quick")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["MGC_DATA_DIR"] = str(_SESSION_DIR / "data")
os.environ["MGC_CACHE_DIR"] = str(_SESSION_DIR / "cache")
os.environ["MGC_RESULTS_DIR"] = str(_SESSION_DIR / "results")


def _untracked() -> set[str] | None:
    """Untracked and ignored files of the checkout (the virtual environment left out), or None outside git."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--ignored=traditional", "--untracked-files=all",
                              "--", ".", ":(exclude).venv", ":(exclude)**/__pycache__"],
                             cwd=ROOT, capture_output=True, text=True, check=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {line[3:] for line in out.splitlines()
            if line[:2] in ("??", "!!") and "__pycache__" not in line and ".ipynb_checkpoints" not in line}


_BEFORE = _untracked()


def _requested_output(entry: str) -> bool:
    """Whether ``entry`` is (or holds only) the screenshot folder a caller asked for with MGC_SCREENSHOTS.

    ``.ci/run`` sets ``MGC_SCREENSHOTS=_build/screenshots`` so that a person can look at the book;
    that folder is the one thing the tests may write into the checkout, and only when asked to.
    """
    target = os.environ.get("MGC_SCREENSHOTS")
    if not target:
        return False
    try:
        rel = Path(target).resolve().relative_to(ROOT).as_posix().rstrip("/") + "/"
    except ValueError:
        return False
    entry = entry.rstrip("/") + "/"
    return rel.startswith(entry) or entry.startswith(rel)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)
    if _BEFORE is None:
        return
    after = _untracked()
    new = sorted(p for p in (after or set()) - _BEFORE if not _requested_output(p))
    if new:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = ("the test suite wrote into the checkout (tests must use temporary folders): "
                   + ", ".join(new))
        if reporter is not None:
            reporter.write_line(message, red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
