"""One set-up for every data chapter (:mod:`mgc_helpers.book.chapter`), and the chapters' parameters."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mgc_helpers.book import chapter
from mgc_helpers.book.execute import notebook_parameters
from mgc_helpers.core import paths

ROOT = Path(__file__).resolve().parents[1]
DATA_CHAPTERS = sorted((ROOT / "notebooks").glob("[01][0-9]_*.ipynb"))[5:]  # 06 onwards


def test_every_data_chapter_declares_the_same_parameters_and_calls_setup():
    assert [p.name[:2] for p in DATA_CHAPTERS] == ["06", "07", "08", "09", "10", "11", "12", "13", "14"]
    for path in DATA_CHAPTERS:
        declared = notebook_parameters(path)
        assert tuple(declared)[:6] == chapter.PARAMETERS, path.name
        nb = nbformat.read(str(path), as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "setup(dataset, data_dir, results_dir, profile, epochs, seed)" in code, path.name
        # no chapter makes its own dataset, features or split outside the helper
        for own in ("prepare_dataset(", "extract_features(data", "paths.results_dir(", "get_profile("):
            assert own not in code, f"{path.name} calls {own}"


def test_setup_names_the_results_folder_after_the_run(monkeypatch):
    monkeypatch.delenv("MGC_RESULTS_DIR", raising=False)
    base = paths._base() / "results"
    assert chapter.setup(profile="default").results_dir == base / "default"
    assert chapter.setup(profile="default", epochs=5, seed=1).results_dir == base / "default-epochs5-seed1"
    assert chapter.setup(dataset="gtzan", profile="quick").results_dir == base / "quick-gtzan"
    assert chapter.setup(profile="quick", results_dir="/x").results_dir == Path("/x")
    monkeypatch.setenv("MGC_RESULTS_DIR", "/elsewhere")
    assert chapter.setup(profile="quick").results_dir == Path("/elsewhere")


def test_setup_checks_its_parameters():
    with pytest.raises(ValueError, match="dataset must be one of"):
        chapter.setup(dataset="GTZAN")
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        chapter.setup(seed=-1)
    with pytest.raises(ValueError, match="unknown profile"):
        chapter.setup(profile="fast")
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        chapter.setup(epochs=0)
    assert chapter.setup(profile="quick", epochs=3).profile.epochs == 3


def test_cache_is_never_inside_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("MGC_CACHE_DIR", raising=False)
    monkeypatch.setenv("MGC_DATA_DIR", str(tmp_path / "my-gtzan"))
    c = chapter.setup(dataset="gtzan")
    assert c.data_dir == tmp_path / "my-gtzan"
    assert tmp_path / "my-gtzan" not in c.cache_dir.parents
    monkeypatch.setenv("MGC_CACHE_DIR", str(tmp_path / "cache"))
    assert chapter.setup().cache_dir == tmp_path / "cache"


def test_run_name_and_default_model_path(monkeypatch):
    assert paths.run_name("default") == "default"
    assert paths.run_name("paper", dataset="gtzan", seed=2) == "paper-gtzan-seed2"
    monkeypatch.delenv("MGC_RESULTS_DIR", raising=False)
    assert paths.default_model_path() == paths._base() / "results" / "default" / "models" / "cnn.keras"


def test_scratch_folder_is_new_empty_and_gone_when_python_exits(tmp_path):
    script = ("from mgc_helpers.book.chapter import scratch_folder\n"
              "a, b = scratch_folder('x-'), scratch_folder('x-')\n"
              "assert a != b and a.is_dir() and not any(a.iterdir())\n"
              "(a / 'song.wav').write_bytes(b'RIFF')\n"
              "(b / 'sub').mkdir()\n"
              "print(a, b)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    folders = [Path(p) for p in done.stdout.split()]
    assert len(folders) == 2 and all(p.name.startswith("x-") for p in folders)
    assert not any(p.exists() for p in folders), "a scratch folder was left behind"
