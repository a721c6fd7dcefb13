"""pyproject.toml and environment.yml must name the same packages with the same ranges."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI names
CONDA_TO_PYPI = {"pysoundfile": "soundfile", "distributed": "dask"}
# conda-only entries that are not Python packages of ours
CONDA_ONLY = {"python", "pip"}


def _split(requirement: str) -> tuple[str, str]:
    requirement = requirement.split(";")[0].strip()
    match = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
    assert match, requirement
    name = match.group(1).lower().replace("_", "-")
    return name, match.group(3).replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"]) + list(data["project"]["optional-dependencies"]["dev"])
    out = {}
    for req in reqs:
        name, spec = _split(req)
        name = "tensorflow" if name == "tensorflow-cpu" else name
        out[name] = spec
    return out


def _environment() -> dict[str, str]:
    data = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in data["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            if item.startswith("-e"):
                continue
            name, spec = _split(item)
            if name in CONDA_ONLY:
                continue
            out[CONDA_TO_PYPI.get(name, name)] = spec
    return out


def test_same_packages_and_ranges():
    py, env = _pyproject(), _environment()
    assert sorted(py) == sorted(env), f"only in pyproject: {set(py) - set(env)}, only in environment.yml: {set(env) - set(py)}"
    mismatched = {name: (py[name], env[name]) for name in py if py[name] != env[name]}
    assert not mismatched, f"ranges differ (pyproject, environment.yml): {mismatched}"


def test_environment_installs_the_package_itself():
    data = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(dep["pip"] for dep in data["dependencies"] if isinstance(dep, dict))
    assert "-e ." in pip


def test_jupyter_book_is_pinned_to_version_1():
    assert _pyproject()["jupyter-book"] == "==1.0.4.post1"
    assert (ROOT / "_config.yml").is_file() and (ROOT / "_toc.yml").is_file()
    assert not (ROOT / "myst.yml").exists(), "myst.yml belongs to Jupyter Book 2"
