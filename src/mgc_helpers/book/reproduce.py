"""Rebuild the whole book: execute every chapter with papermill, then build the HTML from the results.

``mgc reproduce`` (see :mod:`mgc_helpers.commands.reproduce`) calls :func:`reproduce`, which

1. lists the chapters ``notebooks/NN_*.ipynb`` in the order of ``_toc.yml``;
2. executes each one with papermill (working directory ``notebooks/``), injecting the run's
   parameters (``dataset``, ``data_dir``, ``results_dir``, ``profile``, ``epochs``, ``seed``) only
   where the notebook's ``parameters`` cell declares that name, and writes the executed copy to
   ``OUT/notebooks/``; the notebooks save their tables and figures under ``OUT``
   (:mod:`mgc_helpers.book.execute` runs one chapter);
3. stages a copy of the book's sources with the executed notebooks in ``OUT/book`` and runs
   ``jupyter-book build OUT/book --warningiserror``.

A failing cell stops the run with a :class:`mgc_helpers.book.execute.NotebookFailed` naming the
notebook, the cell and the error. Explained in ``10_results.ipynb``.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..core import compute, paths
from ..core.profiles import get_profile
from . import provenance
from .chapter import PARAMETERS
from .execute import (
    INJECTED_TAG,
    ReproduceError,
    clean_executed,
    execute_notebook,
    injected_parameters,
    notebook_parameters,
)

if TYPE_CHECKING:  # pragma: no cover
    from nbformat import NotebookNode

    from ..core.profiles import Profile

#: Names a chapter may declare in its ``parameters`` cell and :func:`reproduce` fills in.
PARAMETER_NAMES: tuple[str, ...] = PARAMETERS

#: Files and folders of the book's sources copied into the staging folder (when present).
BOOK_SOURCES: tuple[str, ...] = ("_config.yml", "_toc.yml", "references.bib", "book", "_static", "images")

#: Chapter file names: two digits, underscore, name.
CHAPTER_PATTERN = re.compile(r"^(\d{2})_[\w-]+\.ipynb$")

#: Chapters that only depend on the ones before this group (06's features), not on each other: ``mgc
#: reproduce`` runs them at the same time, :func:`mgc_helpers.core.compute.train_jobs` of them at once.
CONCURRENT_CHAPTERS: tuple[tuple[str, ...], ...] = (("07", "08", "09"),)


@dataclass(frozen=True)
class NotebookRun:
    """One executed chapter."""

    source: Path
    executed: Path
    parameters: dict[str, Any]
    seconds: float


@dataclass
class ReproduceResult:
    """What :func:`reproduce` did."""

    out: Path
    runs: list[NotebookRun] = field(default_factory=list)
    index_html: Path | None = None
    seconds: float = 0.0
    build_seconds: float = 0.0


# --------------------------------------------------------------------------- finding notebooks
def _toc_files(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("file", "root") and isinstance(value, str):
                yield value
            else:
                yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def list_notebooks(root: str | os.PathLike | None = None) -> list[Path]:
    """The chapters ``notebooks/NN_*.ipynb`` that ``_toc.yml`` lists, in chapter-number order.

    Without a ``_toc.yml`` every ``notebooks/NN_*.ipynb`` is taken.

    Raises
    ------
    ReproduceError
        If ``_toc.yml`` lists a chapter whose notebook does not exist.
    """
    root = Path(root) if root is not None else _root()
    toc = root / "_toc.yml"
    folder = root / "notebooks"
    if toc.is_file():
        import yaml

        entries = [Path(f) for f in _toc_files(yaml.safe_load(toc.read_text()))]
        chapters = []
        for entry in entries:
            if entry.parent.as_posix() != "notebooks" or not CHAPTER_PATTERN.match(entry.name + ".ipynb"):
                continue
            path = root / entry.with_name(entry.name + ".ipynb")
            if not path.is_file():
                raise ReproduceError(f"_toc.yml lists {entry} but {path} does not exist")
            chapters.append(path)
    else:
        chapters = [p for p in folder.glob("*.ipynb") if CHAPTER_PATTERN.match(p.name)]
    return sorted(set(chapters), key=lambda p: (int(CHAPTER_PATTERN.match(p.name).group(1)), p.name))  # type: ignore[union-attr]


def select_notebooks(notebooks: Sequence[Path], selection: str | Iterable[str] | None) -> list[Path]:
    """Keep the notebooks named in ``selection`` ("01,07" or "07_mlp" or ["1", "10"]), in chapter order.

    Raises
    ------
    ReproduceError
        For a name that matches no notebook.
    """
    if selection is None:
        return list(notebooks)
    tokens = [t.strip() for t in (selection.split(",") if isinstance(selection, str) else selection)]
    tokens = [t for t in tokens if t]
    if not tokens:
        raise ReproduceError("empty notebook selection")
    chosen: set[Path] = set()
    for token in tokens:
        stem = token.removesuffix(".ipynb")
        if stem.isdigit():
            hits = [p for p in notebooks if int(p.name[:2]) == int(stem)]
        else:
            hits = [p for p in notebooks if p.stem == stem]
        if not hits:
            names = ", ".join(p.stem for p in notebooks)
            raise ReproduceError(f"no chapter matches {token!r}; the chapters are: {names}")
        chosen.update(hits)
    return [p for p in notebooks if p in chosen]


# --------------------------------------------------------------------------- the book
def stage_book(staging: str | os.PathLike, *, executed: Mapping[str, Path],
               root: str | os.PathLike | None = None) -> Path:
    """Assemble the book's sources in ``staging`` with the executed notebooks.

    Copies :data:`BOOK_SOURCES` from ``root`` and every file of ``root/notebooks`` (stored
    notebooks, images), then puts each executed notebook (``{name: path}``) in place of its stored
    version. The folder is emptied first.

    Returns
    -------
    Path
        ``staging``.
    """
    import nbformat

    root = Path(root) if root is not None else _root()
    staging = Path(staging)
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for name in BOOK_SOURCES:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, staging / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_build"))
        elif src.is_file():
            shutil.copy2(src, staging / name)
    shutil.copytree(root / "notebooks", staging / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    for name, path in executed.items():
        nb = _hide_injected(nbformat.read(str(path), as_version=4))
        nbformat.write(nb, str(staging / "notebooks" / name))
    return staging


def _hide_injected(nb: NotebookNode) -> NotebookNode:
    """Tag papermill's injected cell ``remove-cell`` so the built book does not show local paths."""
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if INJECTED_TAG in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    return nb


def build_book(staging: str | os.PathLike, *, warningiserror: bool = True,
               log: Callable[[str], None] | None = None) -> Path:
    """Run ``jupyter-book build`` on ``staging`` with the current Python; returns ``index.html``.

    Raises
    ------
    ReproduceError
        If the build fails (the message ends with the last lines of its output).
    """
    staging = Path(staging)
    command = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
               "build", str(staging)]
    if warningiserror:
        command.append("--warningiserror")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise ReproduceError(f"jupyter-book build {staging} failed (exit {result.returncode}):\n{tail}")
    index = staging / "_build" / "html" / "index.html"
    if not index.is_file():
        raise ReproduceError(f"jupyter-book build finished but {index} is missing")
    return index


# --------------------------------------------------------------------------- the whole run
def _root() -> Path:
    root = paths.project_root()
    if root is None:
        raise ReproduceError("not inside an mgc-book checkout (no _config.yml and pyproject.toml found "
                             "in the working directory or above)")
    return root


@contextlib.contextmanager
def _environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or unset, for ``None``) environment variables for the kernels started inside."""
    def apply(settings: Mapping[str, str | None]) -> None:
        for k, v in settings.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    old = {k: os.environ.get(k) for k in values}
    try:
        apply(values)
        yield
    finally:
        apply(old)


def reproduce(*, dataset: str = "synthetic", data_dir: str | os.PathLike | None = None,
              profile: str | None = None, epochs: int | None = None, seed: int = 0,
              out: str | os.PathLike | None = None, notebooks: str | Iterable[str] | None = None,
              book: bool = True, update_stored: bool = False, root: str | os.PathLike | None = None,
              kernel_name: str = "python3", log: Callable[[str], None] = print,
              jobs: int | None = None) -> ReproduceResult:
    """Execute the chapters and build the book from the executed copies.

    Explained in ``10_results.ipynb``; this is what ``mgc reproduce`` runs.

    Parameters
    ----------
    dataset : {"synthetic", "gtzan"}
        Which data the chapters use.
    data_dir : path-like or None
        Data folder (default: ``data/`` of the checkout, or ``MGC_DATA_DIR``).
    profile : {"quick", "default", "paper"} or None
        Run profile (None: ``MGC_PROFILE`` or ``default``).
    epochs : int or None
        Overrides the profile's number of epochs.
    seed : int
        Seed of the chapters.
    out : path-like or None
        Output folder (default ``results/<run>``, named by :func:`mgc_helpers.core.paths.run_name`:
        ``results/default`` for the default run, ``results/default-epochs5-seed1`` for another):
        executed notebooks in ``OUT/notebooks``, results and figures under ``OUT``, the staged
        book in ``OUT/book``.
    notebooks : str or iterable of str or None
        Chapters to run ("01,07"); the others enter the book with their stored outputs.
    book : bool
        Build the HTML book at the end.
    update_stored : bool
        Copy the executed notebooks back into ``notebooks/`` (without papermill's injected cell),
        each stamped with what produced its outputs (:func:`mgc_helpers.book.provenance.stamp`). Only
        the default run (default profile, synthetic dataset, seed 0, the profile's epochs) may be
        stored: anything else raises :class:`ReproduceError` before a notebook runs.
    root : path-like or None
        The checkout (default: found from the working directory).
    kernel_name : str
        Jupyter kernel that runs the chapters.
    log : callable
        Receives one progress line per step.
    jobs : int or None
        Chapters of a group of :data:`CONCURRENT_CHAPTERS` run at the same time (``None``: as
        :func:`mgc_helpers.core.compute.train_jobs` decides; ``1``: one after the other). Their numbers
        do not depend on it.

    Returns
    -------
    ReproduceResult

    Raises
    ------
    NotebookFailed
        When a cell fails (the run stops there).
    ReproduceError
        For a bad selection, a missing chapter or a failed book build.
    ValueError
        For an unknown dataset or profile, or a bad number of epochs or seed.
    """
    import nbformat

    jobs_override = jobs
    if dataset not in ("synthetic", "gtzan"):
        raise ValueError(f"unknown dataset {dataset!r}; choose 'synthetic' or 'gtzan'")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    prof = get_profile(profile, epochs=epochs)
    root = Path(root).resolve() if root is not None else _root()
    run = paths.run_name(prof.name, dataset=dataset, epochs=epochs, seed=seed)
    out = Path(out).expanduser().resolve() if out is not None else (root / "results" / run)
    data = Path(data_dir).expanduser().resolve() if data_dir is not None else None
    chosen = select_notebooks(list_notebooks(root), notebooks)
    if update_stored and (prof.name, dataset, epochs, seed) != ("default", "synthetic", None, 0):
        raise ReproduceError("--update-stored stores the default run only (profile 'default', dataset "
                             "'synthetic', seed 0, the profile's epochs): the book's stored outputs must all "
                             f"come from it, not from profile {prof.name!r}, dataset {dataset!r}, "
                             f"epochs {epochs}, seed {seed}")
    if update_stored and compute.onednn_enabled() is not compute.ONEDNN:
        raise ReproduceError(f"--update-stored stores the default run only, and {compute.ONEDNN_ENV}="
                             f"{os.environ.get(compute.ONEDNN_ENV)} in the environment turns TensorFlow's oneDNN "
                             f"kernels {'on' if compute.onednn_enabled() else 'off'} (they round differently): "
                             "unset it")
    _check_writable(out)
    values = {"dataset": dataset, "data_dir": None if data is None else str(data), "results_dir": str(out),
              "profile": prof.name, "epochs": epochs, "seed": seed}
    env = {"MGC_PROFILE": prof.name, "MGC_RESULTS_DIR": str(out),
           "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    if data is not None:
        env["MGC_DATA_DIR"] = str(data)

    result = ReproduceResult(out=out)
    start = time.perf_counter()
    log(f"mgc reproduce: {len(chosen)} notebook(s), profile {prof.name}, dataset {dataset}, seed {seed}"
        + (f", epochs {epochs}" if epochs else "") + f" -> {out}")
    executed_dir = out / "notebooks"
    index = {source: i for i, source in enumerate(chosen, start=1)}

    def run_one(source: Path) -> NotebookRun:
        params = injected_parameters(notebook_parameters(source), values)
        target = executed_dir / source.name
        log(f"[{index[source]}/{len(chosen)}] {source.name} ...")
        seconds = execute_notebook(source, target, parameters=params, cwd=source.parent, kernel_name=kernel_name)
        log(f"[{index[source]}/{len(chosen)}] {source.name} done in {seconds:.1f} s")
        return NotebookRun(source, target, params, seconds)

    with _environment(env):
        for wave in chapter_waves(chosen):
            jobs = compute.train_jobs(len(wave), jobs=jobs_override)
            if jobs > 1:
                log(f"        {', '.join(p.name for p in wave)}: {jobs} at a time")
            for run_ in _run_wave(run_one, wave, jobs=jobs):
                result.runs.append(run_)
                if update_stored:
                    nb = clean_executed(nbformat.read(str(run_.executed), as_version=4))
                    provenance.stamp(nb, values)
                    nbformat.write(nb, str(run_.source))
                    log(f"        stored outputs of {run_.source.name} updated")
    _write_record(out, result, prof, values, start)
    if book:
        log("building the book ...")
        t = time.perf_counter()
        staging = stage_book(out / "book", executed={r.source.name: r.executed for r in result.runs}, root=root)
        result.index_html = build_book(staging)
        result.build_seconds = time.perf_counter() - t
        log(f"book built in {result.build_seconds:.1f} s: {result.index_html}")
    result.seconds = time.perf_counter() - start
    _write_record(out, result, prof, values, start)
    log(f"mgc reproduce finished in {result.seconds:.1f} s")
    return result


def chapter_waves(chosen: Sequence[Path]) -> list[list[Path]]:
    """Split the chapters (in order) into groups run one after the other; a group's chapters may run together.

    Consecutive chapters of one group of :data:`CONCURRENT_CHAPTERS` form one wave, every other
    chapter a wave of its own.

    Examples
    --------
    >>> [[p.name[:2] for p in w] for w in chapter_waves([Path(f"{n}_x.ipynb") for n in ("06", "07", "08", "09", "10")])]
    [['06'], ['07', '08', '09'], ['10']]
    """
    group_of = {number: g for g, group in enumerate(CONCURRENT_CHAPTERS) for number in group}
    waves: list[list[Path]] = []
    last: int | None = None
    for source in chosen:
        group = group_of.get(source.name[:2])
        if group is not None and group == last and waves:
            waves[-1].append(source)
        else:
            waves.append([source])
        last = group
    return waves


def _run_wave(run_one: Callable[[Path], NotebookRun], wave: Sequence[Path], *, jobs: int) -> list[NotebookRun]:
    """Run a wave's chapters, ``jobs`` at a time (each in its own kernel process); results in chapter order.

    A failure is raised after the chapters already started have finished, the first chapter's first.
    """
    if jobs <= 1 or len(wave) <= 1:
        return [run_one(source) for source in wave]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_one, source) for source in wave]
        for future in futures:
            future.exception()  # wait for all
    return [future.result() for future in futures]


def _check_writable(out: Path) -> None:
    """Fail before any notebook runs when the results folder cannot be made or written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".mgc-write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ReproduceError(f"cannot write results to {out}: {exc.strerror or exc}") from None


def _write_record(out: Path, result: ReproduceResult, prof: Profile, values: Mapping[str, Any], start: float) -> None:
    """``OUT/reproduce.json``: parameters, timings and versions of the run."""
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "mgc_helpers": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "cpu_model": provenance.cpu_model(),
        "versions": provenance.library_versions(),
        "kernels": provenance.kernels(),
        "profile": prof.to_dict(),
        "parameters": {k: v for k, v in values.items() if k != "results_dir"},
        "notebooks": [{"name": r.source.name, "seconds": round(r.seconds, 1), "parameters": sorted(r.parameters)}
                      for r in result.runs],
        "build_seconds": round(result.build_seconds, 1),
        "total_seconds": round(time.perf_counter() - start, 1),
    }
    (out / "reproduce.json").write_text(json.dumps(record, indent=2) + "\n")
