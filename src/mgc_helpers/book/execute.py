"""Executing one chapter with papermill: the parameters it declares, the run, and where it failed.

:func:`notebook_parameters` reads the names a chapter's ``parameters`` cell declares and
:func:`injected_parameters` keeps the values given for them; :func:`execute_notebook` runs the
chapter with those values and, when a cell raises, stops with a :class:`NotebookFailed` that names
the notebook, the cell (counted in the source notebook, not in papermill's copy with its injected
cell) and the error; :func:`clean_executed` takes papermill's traces out of an executed copy before
it is stored. :class:`ReproduceError` is the error of every step of ``mgc reproduce``
(:mod:`mgc_helpers.book.reproduce`, which runs the chapters and builds the book).

Explained in ``10_results.ipynb``.
"""
from __future__ import annotations

import ast
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from nbformat import NotebookNode

__all__ = ["INJECTED_TAG", "NotebookFailed", "ReproduceError", "clean_executed", "execute_notebook",
           "injected_parameters", "notebook_parameters"]

#: Tag papermill gives the cell it inserts.
INJECTED_TAG = "injected-parameters"


class ReproduceError(RuntimeError):
    """``mgc reproduce`` cannot start or continue.

    A bad selection, a missing notebook, an invalid parameters cell, a failed book build.
    """


class NotebookFailed(ReproduceError):
    """A cell of a notebook raised an error.

    Attributes
    ----------
    notebook : Path
        The source notebook.
    cell_index : int
        Index of the failing cell in the source notebook (0-based, markdown cells counted).
    execution_count : int or None
        The ``In [n]`` number of the failing cell in the executed copy.
    error : str
        ``"ExceptionName: message"``.
    executed : Path
        The partly executed copy (papermill marks the failing cell in it).
    source_line : str
        The failing cell's first non-blank line.
    """

    def __init__(self, notebook: Path, cell_index: int, execution_count: int | None, error: str,
                 executed: Path, source_line: str = ""):
        self.notebook, self.cell_index, self.execution_count = Path(notebook), cell_index, execution_count
        self.error, self.executed, self.source_line = error, Path(executed), source_line
        where = f"cell {cell_index}" + (f" (In [{execution_count}])" if execution_count else "")
        first = f"\n    {source_line}" if source_line else ""
        super().__init__(f"{self.notebook.name} failed at {where}: {error}{first}\n"
                         f"  executed copy with the traceback: {self.executed}")


# --------------------------------------------------------------------------- parameters
def notebook_parameters(path: str | os.PathLike) -> dict[str, str]:
    """Names assigned in the notebook's cell tagged ``parameters``, with their source text.

    Returns an empty dict when the notebook has no such cell.

    Examples
    --------
    A cell ``dataset = "synthetic"\\nseed = 0`` gives ``{"dataset": "'synthetic'", "seed": "0"}``.
    """
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            try:
                tree = ast.parse(cell.source)
            except SyntaxError as exc:
                raise ReproduceError(f"{Path(path).name}: the parameters cell is not valid Python ({exc})") from None
            found: dict[str, str] = {}
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else (
                    [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else [])
                for target in targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = ast.unparse(node.value)
            return found
    return {}


def injected_parameters(declared: Iterable[str], values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``values`` (not ``None``) whose names the notebook declares."""
    declared = set(declared)
    return {k: v for k, v in values.items() if k in declared and v is not None}


# --------------------------------------------------------------------------- executing
def execute_notebook(source: str | os.PathLike, executed: str | os.PathLike, *,
                     parameters: Mapping[str, Any] | None = None, cwd: str | os.PathLike | None = None,
                     kernel_name: str = "python3", timeout: int | None = None) -> float:
    """Execute one notebook with papermill; returns the seconds it took.

    Parameters
    ----------
    source, executed : path-like
        Notebook to run, and where to write the executed copy (folders are made).
    parameters : mapping or None
        Values to inject (only names the notebook declares should be given, see
        :func:`injected_parameters`; nothing is injected when empty).
    cwd : path-like or None
        Working directory of the kernel (default: the notebook's folder).
    kernel_name : str
        Jupyter kernel.
    timeout : int or None
        Seconds allowed per cell.

    Raises
    ------
    NotebookFailed
        When a cell raises; the message names the notebook, the cell and the error.
    """
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source, executed = Path(source).resolve(), Path(executed).resolve()
    executed.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        # The kernel's working directory goes to nbclient (``resources``), never to papermill's ``cwd``:
        # papermill would os.chdir this whole process, and chapters run side by side in threads
        # (:func:`mgc_helpers.book.reproduce.reproduce`) would then leave it in a notebook folder.
        pm.execute_notebook(str(source), str(executed), parameters=dict(parameters or {}),
                            resources={"metadata": {"path": str(Path(cwd or source.parent).resolve())}},
                            kernel_name=kernel_name, progress_bar=False,
                            log_output=False, execution_timeout=timeout,
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])  # no kernel start-up chatter
    except PapermillExecutionError as exc:
        source_nb = nbformat.read(str(source), as_version=4)
        index = exc.cell_index
        try:
            executed_nb = nbformat.read(str(executed), as_version=4)
            index = _failing_cell(executed_nb, exc.exec_count, exc.cell_index)
            index = _source_index(index, source_nb, executed_nb)
        except Exception:  # the executed copy is only a help for locating the cell
            pass
        line = next((ln.strip() for ln in str(exc.source).splitlines() if ln.strip()), "")
        raise NotebookFailed(source, index, exc.exec_count, f"{exc.ename}: {exc.evalue}", executed,
                             line) from None
    return time.perf_counter() - start


def _failing_cell(nb: NotebookNode, exec_count: int | None, fallback: int) -> int:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            if exec_count is None or cell.get("execution_count") == exec_count:
                return i
    return fallback


def _source_index(executed_index: int, source_nb: NotebookNode, executed_nb: NotebookNode) -> int:
    """Map a cell index of the executed copy back to the source notebook (papermill inserts cells)."""
    offset = 0
    for cell in executed_nb.cells[:executed_index]:
        tags = cell.get("metadata", {}).get("tags", [])
        if INJECTED_TAG in tags or cell.get("metadata", {}).get("papermill", {}).get("exception") \
                or "papermill-error-cell-tag" in tags:
            offset += 1
    return max(0, min(executed_index - offset, len(source_nb.cells) - 1))


def clean_executed(nb: NotebookNode) -> NotebookNode:
    """A copy of an executed notebook without papermill's injected cell and run metadata.

    Used for ``--update-stored``, so that stored notebooks keep their own parameters cell.
    """
    import copy

    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
    nb.metadata.pop("papermill", None)
    return nb
