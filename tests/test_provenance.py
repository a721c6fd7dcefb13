"""Fingerprints of the code behind the stored outputs (:mod:`mgc_helpers.book.provenance`)."""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from mgc_helpers.book import provenance


def test_normalized_source_ignores_prose_and_layout_but_not_code():
    a = 'def f(x):\n    """Doc."""\n    # a comment\n    return x + 1  # trailing\n'
    b = "def f(x):\n\n    return   x + 1\n"
    c = "def f(x):\n    return x + 2\n"
    assert provenance.normalized_source(a) == provenance.normalized_source(b) == "def f(x): return x + 1"
    assert provenance.normalized_source(c) != provenance.normalized_source(b)
    # a string that is not a docstring, and a '#' inside a string, are code
    d = 'x = "# not a comment"\ny = 1\n'
    assert provenance.normalized_source(d) == 'x = "# not a comment" y = 1'
    assert provenance.normalized_source('class A:\n    """Doc é."""\n    z = "é"\n') == 'class A: z = "é"'


def test_closure_follows_imports_through_modules_and_deferred_imports():
    closure = provenance.module_closure(["mgc_helpers.book.chapter"])
    # chapter imports paths and profiles at the top, datasets, features, splits, training inside functions
    assert {"mgc_helpers", "mgc_helpers.book.chapter", "mgc_helpers.core.paths", "mgc_helpers.core.profiles",
            "mgc_helpers.data.datasets", "mgc_helpers.data.features", "mgc_helpers.data.splits", "mgc_helpers.models.training",
            "mgc_helpers.models.networks", "mgc_helpers.data.synth"} <= closure
    assert "mgc_helpers.commands.cli" not in closure


def test_closure_of_the_command_line_holds_every_command():
    """``cli`` loads its subcommands by name (pkgutil), which no import statement shows: a notebook that
    runs ``cli.main(["predict", ...])`` depends on ``commands.predict`` and what it imports."""
    closure = provenance.module_closure(["mgc_helpers.commands.cli"])
    commands = {f"mgc_helpers.commands.{p.stem}" for p in
                (provenance.module_file("mgc_helpers.commands").parent).glob("*.py") if p.stem != "__init__"}
    assert {"mgc_helpers.commands.predict", "mgc_helpers.commands.similar"} <= commands <= closure
    assert "mgc_helpers.predict.run" in closure and "mgc_helpers.beyond.retrieval" in closure


def test_notebook_fingerprint_covers_what_it_imports():
    nb = new_notebook()
    nb.cells = [new_code_cell("%matplotlib inline\nfrom mgc_helpers.signal import sounds\nimport numpy as np"),
                new_code_cell("from mgc_helpers.signal.spectral import stft")]
    modules = provenance.notebook_modules(nb)
    assert modules == {"mgc_helpers.signal", "mgc_helpers.signal.sounds", "mgc_helpers.signal.spectral"}
    fp = provenance.fingerprint(nb)
    assert {"mgc_helpers", "mgc_helpers.signal"} <= set(fp["modules"])  # parent packages run first
    assert "mgc_helpers.core.config" in fp["modules"]  # imported by sounds
    assert "mgc_helpers.models.training" not in fp["modules"]
    other = nbformat.from_dict(nb)
    other.cells[1].source = "from mgc_helpers.signal.spectral import   stft  "
    assert provenance.fingerprint(other) == fp  # layout only
    other.cells[1].source = "from mgc_helpers.signal.spectral import stft, power_spectrum"
    assert provenance.fingerprint(other)["code"] != fp["code"]


def test_versions_and_cpu_are_recorded():
    versions = provenance.library_versions()
    assert {"python", "keras", "numpy", "librosa", "scipy", "scikit-learn", "soundfile", "libsndfile"} <= set(versions)
    assert provenance.cpu_model()
