"""Lint and type-check the helper package (issue 10): ``ruff check src`` and ``mypy src``.

The rules live in ``pyproject.toml`` (``[tool.ruff]``; ``[tool.mypy]``, under which every function
must be annotated). Each check is skipped, with a message, only where its tool is not installed
(both are in the ``dev`` extra and in ``environment.yml``).
"""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = "src"


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_passes_on_the_package():
    if importlib.util.find_spec("ruff") is not None:
        ruff = [sys.executable, "-m", "ruff"]
    elif shutil.which("ruff"):
        ruff = [str(shutil.which("ruff"))]
    else:
        pytest.skip("ruff is not installed (pip install -e '.[dev]' or conda env update -f environment.yml)")
    result = _run([*ruff, "check", "--no-cache", SRC])
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_passes_on_the_package(tmp_path):
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (pip install -e '.[dev]' or conda env update -f environment.yml)")
    result = _run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy"), SRC])
    assert result.returncode == 0, result.stdout + result.stderr
