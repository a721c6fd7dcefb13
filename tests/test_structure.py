"""The helper package's module graph runs one way (issue 10): no import circles, not even type-only ones.

Every module of :mod:`mgc_helpers` is parsed with :mod:`ast`; every ``import`` and ``from``
statement counts, wherever it stands (inside functions, under ``if TYPE_CHECKING:``), with
relative imports resolved (:func:`mgc_helpers.book.provenance._imports`). An import of a module's own
parent package is left out: Python runs a parent package before any of its modules anyway, so it
is not a choice the module makes. The graph of what is left must have no cycle, so that the
package reads from configuration and audio up to the commands.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import mgc_helpers

from mgc_helpers.book.provenance import PACKAGE, _imports

SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE


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


def test_modules_import_only_modules_listed_above_them():
    """The package docstring's table lists the modules from the bottom of the import graph up."""
    rows = re.findall(r"^``(\w+)``(?:, ``(\w+)``)?\s", mgc_helpers.__doc__ or "", re.M)
    rank = {name: i for i, row in enumerate(rows) for name in row if name}
    rank["cli"] = rank["commands"] = len(rows)  # the command line comes last

    def top(module: str) -> str:
        return module.split(".")[1]

    graph = module_graph()
    missing = sorted({top(m) for m in graph if m != PACKAGE} - set(rank))
    assert not missing, f"modules missing from the table of mgc_helpers/__init__.py: {missing}"
    upward = [f"{m} -> {d}" for m, deps in graph.items() if m != PACKAGE for d in deps
              if d != PACKAGE and top(d) != top(m) and rank[top(d)] > rank[top(m)]]
    assert not upward, "imports of modules listed below the importer: " + ", ".join(sorted(upward))
