"""The stored notebooks are the default run's outputs, and say so; stale outputs fail here.

``mgc reproduce --update-stored`` stamps every notebook with the run's parameters and a fingerprint
of the code its outputs depend on (:mod:`mgc_helpers.book.provenance`). These tests recompute the
fingerprints from the checked-out code: a change to a module a chapter imports (or to its cells)
without refreshing the stored outputs fails with the modules named and the command to run.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from mgc_helpers.book import provenance
from mgc_helpers.book.reproduce import list_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = list_notebooks(ROOT)
DEFAULT_RUN = {"profile": "default", "dataset": "synthetic", "seed": 0, "epochs": None}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_outputs_come_from_the_default_run_of_this_code(path):
    nb = nbformat.read(str(path), as_version=4)
    reasons = provenance.stale_reasons(nb, expected=DEFAULT_RUN)
    assert not reasons, (f"notebooks/{path.name}: the stored outputs are stale: {'; '.join(reasons)}. "
                         "Refresh them with `mgc reproduce --update-stored`.")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_notebooks_have_outputs_and_stay_small(path):
    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert any(c.outputs for c in code), f"{path.name} is stored without outputs"
    assert not any(o.get("output_type") == "error" for c in code for o in c.outputs), f"{path.name} stored an error"
    assert path.stat().st_size < 1_100_000, f"{path.name} is {path.stat().st_size / 1e6:.2f} MB"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_outputs_hold_no_library_noise(path):
    """TensorFlow's C++ log lines (``I0000 12:34:56.789 ... port.cc:153] ...``), loky's worker notices and
    tqdm's "IProgress not found" (ipywidgets is not installed) tell a reader nothing."""
    import re

    nb = nbformat.read(str(path), as_version=4)
    log_line = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d|absl::InitializeLog|A worker stopped while|IProgress not found",
                          re.MULTILINE)
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain") or ""
            match = log_line.search(text)
            assert match is None, f"{path.name}, cell {i}: {text[match.start():match.start() + 120]!r}"


def test_a_changed_module_or_cell_is_named():
    path = ROOT / "notebooks" / "07_mlp.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    provenance.stamp(nb, DEFAULT_RUN)
    assert provenance.stale_reasons(nb, expected=DEFAULT_RUN) == []
    nb.metadata["mgc_book"]["fingerprint"]["modules"]["mgc_helpers.models.training"] = "0" * 16
    nb.cells[-2].source += "\nprint('changed')"
    reasons = provenance.stale_reasons(nb, expected=DEFAULT_RUN)
    assert reasons == ["its code cells changed", "the code of mgc_helpers.models.training changed"]
    assert provenance.stale_reasons(nb, expected={"profile": "quick"})[0].startswith("its outputs come from profile")
    del nb.metadata["mgc_book"]
    assert provenance.stale_reasons(nb) == ["it has no record of what produced its outputs"]


def test_outputs_made_with_other_tensorflow_kernels_are_stale(monkeypatch):
    """oneDNN's kernels round differently from Eigen's: a run with them flipped is not the default run."""
    from mgc_helpers.core import compute

    path = ROOT / "notebooks" / "09_cnn.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata["mgc_book"]["kernels"] == {"onednn": compute.ONEDNN}
    monkeypatch.setenv(compute.ONEDNN_ENV, "0" if compute.ONEDNN else "1")
    provenance.stamp(nb, DEFAULT_RUN)
    assert nb.metadata["mgc_book"]["kernels"] == {"onednn": not compute.ONEDNN}
    reasons = provenance.stale_reasons(nb, expected=DEFAULT_RUN)
    assert len(reasons) == 1 and "oneDNN" in reasons[0] and compute.ONEDNN_ENV in reasons[0]
    del nb.metadata["mgc_book"]["kernels"]
    assert provenance.stale_reasons(nb, expected=DEFAULT_RUN) == [
        "it does not record whether TensorFlow used oneDNN's kernels"]
