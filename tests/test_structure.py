"""The helper package's house (issues 10 and 23): layers that import one way, no import circles.

The subpackages follow the book's parts and form layers (the table of ``mgc_helpers/__init__.py``,
bottom first): a module imports only from its own subpackage or those below it, no private name
crosses from one subpackage to another, no module is over 600 lines, and each subpackage's
``__init__`` is a docstring (with a table of its modules) and nothing else. The notebooks keep
their plumbing (glue blocks, temporary folders) in helpers or in hidden cells.

Every module of :mod:`mgc_helpers` is parsed with :mod:`ast`; every ``import`` and ``from``
statement counts, wherever it stands (inside functions, under ``if TYPE_CHECKING:``), with
relative imports resolved (:func:`mgc_helpers.book.provenance._imports`). An import of a module's own
parent package is left out: Python runs a parent package before any of its modules anyway, so it
is not a choice the module makes. The graph of what is left must have no cycle, so that the
package reads from configuration and audio up to the commands.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import mgc_helpers
from mgc_helpers.book.provenance import PACKAGE, _imports, _resolve

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / PACKAGE
HIDDEN = {"hide-input", "remove-input", "hide-cell", "remove-cell"}
PLUMBING = re.compile(r"\bglue\(|\btempfile\b|\bmkdtemp\b|TemporaryDirectory|\brmtree\b")


def _module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(SRC).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_graph() -> dict[str, set[str]]:
    """Each package module and the package modules its import statements name (parents left out)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        name = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        graph[name] = _imports(tree, name, path.name == "__init__.py") - ancestors - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first repeated at the end), or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_graph_sees_every_kind_of_import():
    graph = module_graph()
    assert "mgc_helpers.data.features" in graph and "mgc_helpers.data.synth.dataset" in graph
    # a relative import, and one made inside a function
    assert "mgc_helpers.core.config" in graph["mgc_helpers.data.features"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_package_has_no_import_cycle():
    cycle = find_cycle(module_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def layers() -> list[str]:
    """The subpackages, bottom of the import graph first, as the package docstring's table lists them."""
    return re.findall(r"^``(\w+)``\s", mgc_helpers.__doc__ or "", re.M)


def _subpackage(module: str) -> str:
    return module.split(".")[1]


def test_the_layer_map_lists_every_subpackage_and_nothing_else():
    listed = layers()
    on_disk = sorted(p.parent.name for p in SRC.glob("*/__init__.py"))
    assert sorted(listed) == on_disk, f"table of mgc_helpers/__init__.py {listed} != subpackages {on_disk}"
    assert listed[0] == "core" and listed[-1] == "commands"
    loose = sorted(p.name for p in SRC.glob("*.py") if p.name != "__init__.py")
    assert not loose, f"modules outside every subpackage: {loose}"


def upward_imports(graph: dict[str, set[str]], order: list[str]) -> list[str]:
    """Imports of a subpackage listed above the importer's in ``order`` (the layer map)."""
    rank = {name: i for i, name in enumerate(order)}
    return sorted(f"{m} -> {d}" for m, deps in graph.items() if m != PACKAGE for d in deps
                  if d != PACKAGE and rank[_subpackage(d)] > rank[_subpackage(m)])


def test_subpackages_import_only_downward():
    assert upward_imports({"mgc_helpers.core.a": {"mgc_helpers.signal.b"}}, ["core", "signal"])  # it can fail
    upward = upward_imports(module_graph(), layers())
    assert not upward, "imports of a subpackage listed above the importer: " + ", ".join(upward)


def private_imports_across(root: Path = SRC) -> list[str]:
    """Private names of another subpackage that a module uses.

    Both ways count: ``from X import _name``, and ``alias._name`` where ``alias`` was imported from
    another subpackage (``from ..data import segments`` then ``segments._read``).
    """
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(root).with_suffix("").parts]
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name == PACKAGE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        foreign: dict[str, str] = {}  # a local name bound by an import from another subpackage -> its target
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolve(node.module, node.level, name, path.name == "__init__.py") or ""
                pairs = [(a.asname or a.name, f"{target}.{a.name}") for a in node.names]
            elif isinstance(node, ast.Import):
                pairs = [(a.asname, a.name) for a in node.names if a.asname]
            else:
                continue
            for local, full in pairs:
                if not full.startswith(PACKAGE + ".") or _subpackage(full) == _subpackage(name):
                    continue
                if _private(full.rpartition(".")[2]):
                    found.append(f"{name} imports {full}")
                foreign[local] = full
        found += [f"{name} uses {foreign[node.value.id]}.{node.attr}" for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in foreign and _private(node.attr)]
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_private_name_crosses_a_subpackage(tmp_path):
    planted = tmp_path / PACKAGE / "models" / "x.py"
    planted.parent.mkdir(parents=True)
    planted.write_text("from ..data.features import _secret\nfrom ..data.features import public\n"
                       "from ..data import segments\nfrom . import training\n"
                       "segments._read(public, segments.read_npz, training._fit)\n")
    found = private_imports_across(tmp_path / PACKAGE)
    assert found == ["mgc_helpers.models.x imports mgc_helpers.data.features._secret",
                     "mgc_helpers.models.x uses mgc_helpers.data.segments._read"]
    crossing = private_imports_across()
    assert not crossing, "private names imported from another subpackage: " + "; ".join(crossing)


#: No module of the package is longer than this (issue 23): a longer one holds more than one job.
MAX_LINES = 600


def test_no_module_is_over_600_lines():
    long = {str(p.relative_to(SRC)): n for p in sorted(SRC.rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_every_subpackage_init_is_a_docstring_only():
    """A subpackage is a folder of modules; its ``__init__`` says what they are and re-exports nothing."""
    for init in sorted(SRC.rglob("__init__.py")):
        if init.parent == SRC:
            continue
        body = ast.parse(init.read_text(encoding="utf-8")).body
        has_docstring = body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        assert has_docstring, f"{init}: no docstring"
        assert len(body) == 1, f"{init.relative_to(SRC)} holds more than its docstring"


def test_each_subpackage_docstring_lists_its_modules():
    """The table in each subpackage's docstring names every module (and sub-package) it holds."""
    for init in sorted(SRC.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        listed = set(re.findall(r"^``(\w+)``", doc, re.M))
        present = {p.stem for p in init.parent.glob("*.py") if p.stem != "__init__"}
        present |= {p.parent.name for p in init.parent.glob("*/__init__.py")}
        assert listed == present, f"{init.parent.name}: table lists {sorted(listed)}, folder holds {sorted(present)}"


def table_errors(doc: str) -> list[str]:
    """docutils' complaints about the tables of a docstring (Sphinx roles it does not know are left out)."""
    import io

    import docutils.core

    stream = io.StringIO()
    docutils.core.publish_string(doc, writer_name="null",
                                 settings_overrides={"report_level": 2, "warning_stream": stream})
    return [line for line in stream.getvalue().splitlines() if "table" in line.lower() or "margin" in line.lower()]


def test_the_docstring_tables_are_well_formed_restructuredtext():
    inits = [SRC / "__init__.py", *sorted(SRC.glob("*/__init__.py"))]
    bad = {str(i.relative_to(SRC)): table_errors(ast.get_docstring(ast.parse(i.read_text(encoding="utf-8"))) or "")
           for i in inits}
    assert not {name: errors for name, errors in bad.items() if errors}, bad
    # a row wider than its column is seen
    assert table_errors("===  ===\na    b\n===  ===\n``wide``  c\n===  ===\n")


def visible_plumbing(notebook: Path) -> list[str]:
    """``"cell N: what"`` for each code cell shown to the reader that holds plumbing."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    found = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code" and not HIDDEN & set(cell["metadata"].get("tags", [])):
            found += [f"cell {i}: {m}" for m in sorted(set(PLUMBING.findall("".join(cell["source"]))))]
    return found


def test_notebook_plumbing_is_in_helpers_or_hidden_cells(tmp_path):
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) == 14
    shown = {nb.name: visible_plumbing(nb) for nb in notebooks}
    assert not {name: found for name, found in shown.items() if found}, shown
    # the check sees a glue call or a temporary folder in a cell that is shown
    planted = json.loads(notebooks[0].read_text(encoding="utf-8"))
    planted["cells"] += [{"cell_type": "code", "metadata": {}, "source": ["glue('x', 1, display=False)"]},
                         {"cell_type": "code", "metadata": {"tags": ["nbval-ignore-output"]},
                          "source": ["import tempfile\n", "d = tempfile.mkdtemp()"]},
                         {"cell_type": "code", "metadata": {"tags": ["remove-input"]}, "source": ["glue('y', 2)"]}]
    (tmp_path / "planted.ipynb").write_text(json.dumps(planted), encoding="utf-8")
    n = len(planted["cells"])
    assert visible_plumbing(tmp_path / "planted.ipynb") == [
        f"cell {n - 3}: glue(", f"cell {n - 2}: mkdtemp", f"cell {n - 2}: tempfile"]
