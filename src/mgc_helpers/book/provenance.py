"""What produced a stored notebook's outputs: a fingerprint of the code and settings they depend on.

The notebooks in ``notebooks/`` are stored with the outputs of the default run. When
``mgc reproduce --update-stored`` refreshes them it records, in each notebook's metadata
(``metadata["mgc_book"]``):

* the run's parameters (profile, dataset, seed, epochs);
* a hash of the notebook's own code cells;
* a hash of every module of :mod:`mgc_helpers` the notebook imports, directly or through other
  modules (the *closure* of its imports). Docstrings, comments and layout are left out, so
  editing prose does not make results stale, while any change to the code does;
* the versions of the libraries that can change a number (for the record, not compared).

``tests/test_stored_notebooks.py`` recomputes the fingerprints from the checked-out code and fails,
naming the modules that changed, when they no longer match: the stored numbers would otherwise
silently describe code that no longer exists. The cure is ``mgc reproduce --update-stored``.

Explained in ``10_results.ipynb`` (section "How the stored results are kept honest").
"""
from __future__ import annotations

import ast
import hashlib
import io
import os
import platform
import re
import tokenize
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "PACKAGE",
    "STAMP_KEY",
    "cpu_model",
    "fingerprint",
    "kernels",
    "library_versions",
    "module_closure",
    "module_file",
    "normalized_source",
    "notebook_modules",
    "stale_reasons",
    "stamp",
]

#: The package whose code is fingerprinted.
PACKAGE = "mgc_helpers"

#: Key of the record in a notebook's metadata.
STAMP_KEY = "mgc_book"

#: Libraries whose version can change a number of the book.
VERSIONED: tuple[str, ...] = ("tensorflow", "tensorflow-cpu", "keras", "librosa", "numpy", "scipy",
                              "scikit-learn", "soundfile", "pandas")

_ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------ modules
def module_file(name: str) -> Path | None:
    """Source file of the package module ``name`` (``"mgc_helpers.data.features"``), or ``None``."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    parts = name.split(".")[1:]
    base = _ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _resolve(module: str | None, level: int, current: str, is_package: bool) -> str | None:
    """Absolute name of an ``import``/``from`` target seen in module ``current``."""
    if level == 0:
        return module
    package = current if is_package else current.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{module}" if module else package


def _imports(tree: ast.AST, current: str, is_package: bool) -> set[str]:
    """Package modules named by every import statement of a parsed module (deferred ones too)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module, node.level, current, is_package)
            if base is None:
                continue
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if module_file(name) is not None:
                found.add(name)
    return found


#: Modules that import others by name at run time, which no import statement shows:
#: ``commands.cli`` loads every module of ``commands`` (each one is a subcommand), so a notebook
#: that runs ``cli.main`` depends on all of them.
LOADS_AT_RUN_TIME: dict[str, str] = {f"{PACKAGE}.commands.cli": f"{PACKAGE}.commands"}


def _loaded_at_run_time(name: str) -> set[str]:
    """The modules ``name`` loads by name at run time (:data:`LOADS_AT_RUN_TIME`)."""
    package = LOADS_AT_RUN_TIME.get(name)
    init = module_file(package) if package else None
    if init is None:
        return set()
    return {f"{package}.{p.stem}" for p in init.parent.glob("*.py") if p.stem != "__init__"}


def module_closure(names: Iterable[str]) -> set[str]:
    """The package modules ``names`` import, transitively, with every parent package.

    Importing ``mgc_helpers.data.features`` runs ``mgc_helpers/__init__.py`` first, so parent packages
    are always part of the closure, and so are the modules a module loads by name at run time
    (:data:`LOADS_AT_RUN_TIME`: ``cli`` and every command).
    """
    todo = [n for n in names if module_file(n) is not None]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parent = name.rpartition(".")[0]
        while parent:
            if parent not in seen:
                todo.append(parent)
            parent = parent.rpartition(".")[0]
        path = module_file(name)
        assert path is not None
        tree = ast.parse(path.read_text(encoding="utf-8"))
        todo.extend((_imports(tree, name, path.name == "__init__.py") | _loaded_at_run_time(name)) - seen)
    return seen


# ------------------------------------------------------------------------------------ hashing
def _offset(lines: list[str], line: int, col: int, *, utf8: bool) -> int:
    """Character offset of a (1-based line, column) position; ``utf8`` columns count bytes (ast)."""
    text = lines[line - 1]
    if utf8:
        col = len(text.encode("utf-8")[:col].decode("utf-8", errors="ignore"))
    return sum(len(t) for t in lines[: line - 1]) + col


def normalized_source(text: str) -> str:
    """Python source without docstrings and comments, with every run of whitespace made one space.

    What is left is what the code does, so that a fingerprint of it survives edits of prose and
    layout, and is the same on every Python version (no ``ast.dump``, whose fields change).

    Examples
    --------
    >>> normalized_source("def f(x):\\n    'Doc.'\\n    return x  # the answer\\n")
    'def f(x): return x'
    """
    lines = text.splitlines(keepends=True)
    spans: list[tuple[int, int]] = []
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str) and first.end_lineno is not None
                    and first.end_col_offset is not None):
                spans.append((_offset(lines, first.lineno, first.col_offset, utf8=True),
                              _offset(lines, first.end_lineno, first.end_col_offset, utf8=True)))
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            spans.append((_offset(lines, *token.start, utf8=False), _offset(lines, *token.end, utf8=False)))
    kept, position = [], 0
    for start, end in sorted(spans):
        if start >= position:
            kept.append(text[position:start])
            position = end
    kept.append(text[position:])
    return " ".join("".join(kept).split())


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _module_hashes(names: Iterable[str]) -> dict[str, str]:
    hashes = {}
    for name in sorted(names):
        path = module_file(name)
        assert path is not None
        hashes[name] = _sha(normalized_source(path.read_text(encoding="utf-8")))
    return hashes


_MAGIC = re.compile(r"^\s*[%!].*$", flags=re.M)


def _code_cells(nb: Any) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "code"
            and "injected-parameters" not in cell.get("metadata", {}).get("tags", [])]


def notebook_modules(nb: Any) -> set[str]:
    """Package modules a notebook's code cells import directly (IPython magics ignored)."""
    found: set[str] = set()
    for source in _code_cells(nb):
        try:
            tree = ast.parse(_MAGIC.sub("pass", source))
        except SyntaxError:
            continue
        found |= _imports(tree, "__main__", False)
    return found


def fingerprint(nb: Any) -> dict[str, Any]:
    """The code a notebook's outputs depend on: its cells' hash and the hash of each module it imports."""
    code = "\n".join(" ".join(source.split()) for source in _code_cells(nb))
    return {"code": _sha(code), "modules": _module_hashes(module_closure(notebook_modules(nb)))}


# ------------------------------------------------------------------------------------ the record
def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def library_versions() -> dict[str, str]:
    """Versions of Python, libsndfile and every installed library of :data:`VERSIONED`."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    try:
        import soundfile

        versions["libsndfile"] = str(soundfile.__libsndfile_version__)
    except Exception:  # pragma: no cover - soundfile is a dependency
        pass
    return versions


def stamp(nb: Any, parameters: Mapping[str, Any]) -> Any:
    """Record in ``nb.metadata`` what produced its outputs (returns ``nb``, changed in place)."""
    nb.metadata[STAMP_KEY] = {
        "parameters": {k: parameters.get(k) for k in ("dataset", "profile", "epochs", "seed")},
        "fingerprint": fingerprint(nb),
        "versions": library_versions(),
        "cpu": {"model": cpu_model(), "cores": os.cpu_count()},
        "kernels": kernels(),
    }
    return nb


def kernels() -> dict[str, bool]:
    """TensorFlow's CPU kernels that a run started here uses (see :data:`mgc_helpers.core.compute.ONEDNN`)."""
    from ..core import compute

    return {"onednn": compute.onednn_enabled()}


def stale_reasons(nb: Any, *, expected: Mapping[str, Any] | None = None) -> list[str]:
    """Why a stored notebook's outputs no longer match the checked-out code ([] when they do).

    Parameters
    ----------
    nb : NotebookNode
        The stored notebook.
    expected : mapping or None
        Parameters the stored outputs must come from (e.g. ``{"profile": "default"}``).
    """
    record = nb.metadata.get(STAMP_KEY)
    if not record:
        return ["it has no record of what produced its outputs"]
    reasons = []
    for key, value in (expected or {}).items():
        if record.get("parameters", {}).get(key) != value:
            reasons.append(f"its outputs come from {key}={record.get('parameters', {}).get(key)!r}, not {value!r}")
    from ..core import compute

    used = record.get("kernels", {}).get("onednn")
    if used is None:
        reasons.append("it does not record whether TensorFlow used oneDNN's kernels")
    elif used is not compute.ONEDNN:
        reasons.append(f"its outputs come from TensorFlow with oneDNN {'on' if used else 'off'}, not "
                       f"{'on' if compute.ONEDNN else 'off'} (is {compute.ONEDNN_ENV} set in the environment?)")
    then, now = record.get("fingerprint", {}), fingerprint(nb)
    if then.get("code") != now["code"]:
        reasons.append("its code cells changed")
    old, new = then.get("modules", {}), now["modules"]
    changed = sorted(m for m in set(old) | set(new) if old.get(m) != new.get(m))
    if changed:
        reasons.append("the code of " + ", ".join(changed) + " changed")
    return reasons
