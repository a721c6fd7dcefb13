"""Experiments: the protocol grid, which trains and tests models under several splits and seeds.

:func:`run_protocols` trains a model on several splits (the paper's random segment-level split, a
track-level split, an artist-level split) with several seeds, saving each finished run so that an
interrupted grid resumes where it stopped. It does so with :func:`run_grid`, the book's one grid
runner, which the baselines', musicnn's and the optimisers' grids use too (the last with a second
table per run, its learning curve, saved beside the grid: :func:`table_path`).
:func:`summarize_protocols` gives mean and standard deviation, :func:`protocol_table` readable
``mean ± std`` strings. The metrics themselves are in :mod:`mgc_helpers.models.evaluation`.

Explained in ``10_results.ipynb``.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pandas as pd

from ..core import compute
from .evaluation import evaluate

if TYPE_CHECKING:  # pragma: no cover
    from ..data.segments import SegmentSet

__all__ = ["GRID_KEYS", "GRID_METRICS", "data_keys", "margin_verdict", "mean_std", "protocol_table",
           "protocols_phrase", "run_grid", "run_protocols", "summarize_protocols", "table_path", "within_spread"]

#: Columns that identify one cell of a protocol grid.
GRID_KEYS: tuple[str, ...] = ("model", "protocol", "seed", "epochs", "batch_size", "standardize",
                              "n_segments", "feature_fingerprint", "data_fingerprint")

#: Result columns of a protocol grid, in order.
GRID_METRICS: tuple[str, ...] = ("accuracy", "loss", "rmse", "track_accuracy_mean",
                                 "track_accuracy_vote")


def _grid_path(out: str | os.PathLike | None) -> Path | None:
    return None if out is None else Path(out)


def table_path(out: str | os.PathLike, table: str) -> Path:
    """Where :func:`run_grid` keeps the per-cell table ``table`` of the grid saved in ``out``: ``<stem>_<table>.csv``.

    Examples
    --------
    >>> table_path("results/tables/optimisers.csv", "histories").as_posix()
    'results/tables/optimisers_histories.csv'
    """
    path = Path(out)
    return path.with_name(f"{path.stem}_{table}.csv")


def _read_grid(path: Path | None, keys: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A saved grid (or table) as written, the text-valued key columns read as text (fingerprints may be all digits)."""
    if path is None or not path.is_file():
        return pd.DataFrame()
    text = {k: str for k, v in (keys[0] if keys else {}).items() if isinstance(v, str)}
    return pd.read_csv(path, dtype=text)


def _write_grid(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def _matches(frame: pd.DataFrame, key: Mapping[str, Any]) -> np.ndarray:
    """Which rows of ``frame`` belong to the cell ``key`` (floats equal to a relative 1e-9, the rest as text)."""
    if frame.empty or not set(key) <= set(frame.columns):
        return np.zeros(len(frame), dtype=bool)
    match = np.ones(len(frame), dtype=bool)
    for k, v in key.items():
        if isinstance(v, float):
            match &= np.isclose(frame[k].astype(float).to_numpy(), v, rtol=1e-9, atol=0)
        else:
            match &= (frame[k].astype(str) == str(v)).to_numpy()
    return match


def _replace(frame: pd.DataFrame, key: Mapping[str, Any], new: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the rows of ``key``, then ``new`` (a cell run again leaves no stale rows)."""
    kept = frame[~_matches(frame, key)]
    return pd.concat([kept, new], ignore_index=True) if not kept.empty else new.reset_index(drop=True)


def _with_key(key: Mapping[str, Any], table: pd.DataFrame) -> pd.DataFrame:
    """A cell's table with the cell's key columns in front, one copy per row."""
    if set(key) & set(table.columns):
        raise ValueError(f"a cell's table repeats key columns: {sorted(set(key) & set(table.columns))}")
    return pd.DataFrame({**{k: [v] * len(table) for k, v in key.items()},
                         **{c: table[c].to_numpy() for c in table.columns}})


def _typed(frame: pd.DataFrame, keys: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """``frame`` with its key columns of the keys' types (a saved ``True`` reads back as text in some files)."""
    if frame.empty or not keys:
        return frame
    for k, v in keys[0].items():
        if k not in frame.columns:
            continue
        if isinstance(v, bool):
            frame[k] = frame[k].astype(str).str.lower().eq("true")
        elif isinstance(v, int):
            frame[k] = frame[k].astype(int)
        elif isinstance(v, float):
            frame[k] = frame[k].astype(float)
    return frame


def _cell_name(key: Mapping[str, Any]) -> str:
    return f"{key['model']} {key['protocol']} seed {key['seed']}"


@overload
def run_grid(keys: Sequence[dict[str, Any]], run_cell: Callable[..., dict[str, Any]], *, args: tuple[Any, ...] = (),
             out: str | os.PathLike | None = None, progress: bool | Callable[[str], None] = False,
             jobs: int | None = None, name: Callable[[dict[str, Any]], str] = _cell_name,
             table: None = None) -> pd.DataFrame: ...


@overload
def run_grid(keys: Sequence[dict[str, Any]], run_cell: Callable[..., tuple[dict[str, Any], pd.DataFrame]], *,
             args: tuple[Any, ...] = (), out: str | os.PathLike | None = None,
             progress: bool | Callable[[str], None] = False, jobs: int | None = None,
             name: Callable[[dict[str, Any]], str] = _cell_name, table: str) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def run_grid(keys: Sequence[dict[str, Any]], run_cell: Callable[..., Any], *, args: tuple[Any, ...] = (),
             out: str | os.PathLike | None = None, progress: bool | Callable[[str], None] = False,
             jobs: int | None = None, name: Callable[[dict[str, Any]], str] = _cell_name,
             table: str | None = None) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Run ``run_cell(key, *args)`` for every cell ``key`` not finished yet; one result row per cell.

    The one grid runner of the book: :func:`run_protocols`, the baselines' and musicnn's protocol
    grids (:func:`mgc_helpers.models.baseline.run_baseline_protocols`,
    :func:`mgc_helpers.beyond.transfer.run_transfer_protocols`) and the optimiser grid
    (:func:`mgc_helpers.beyond.optimisers.run_optimiser_grid`, with a ``table`` of learning curves).
    A row already in the CSV ``out`` with the same key columns as a cell is kept instead of run
    again; each finished row is written to ``out`` at once, so an interrupted grid resumes where it
    stopped. ``jobs`` cells run at the same time in worker processes
    (:func:`mgc_helpers.core.compute.run_parallel`; ``None``: ``MGC_TRAIN_JOBS`` or
    :data:`mgc_helpers.core.compute.GRID_JOBS`); every cell seeds itself, so the rows do not depend on it.

    Parameters
    ----------
    keys : sequence of dict
        One dict per cell, in the grid's order, all with the same names (the key columns, e.g. the
        :data:`GRID_KEYS`): what identifies the cell in ``out``. Float values match to a relative
        1e-9, the others as text.
    run_cell : callable
        ``run_cell(key, *args) -> row``: the key's items, the metrics (``accuracy`` and
        ``track_accuracy_mean`` at least), sizes and ``seconds``; with ``table``,
        ``run_cell(key, *args) -> (row, frame)``, ``frame`` the cell's rows of that table (without
        the key columns, which are put in front of them). A module-level function when ``jobs`` > 1
        (it runs in the workers).
    args : tuple
        Further arguments of every call (sent to each worker).
    out : path-like or None
        CSV file of finished rows; the table goes beside it (:func:`table_path`), written before
        the row, and a cell is kept only when both hold it.
    progress : bool or callable
        One line per cell.
    jobs : int or None
        Cells run at the same time (``1``: one after the other, in this process).
    name : callable
        ``name(key)``: the cell in the progress lines (default: model, protocol and seed).
    table : str or None
        Name of a table each cell gives besides its row (the optimiser grid: ``"histories"``, one
        row per epoch).

    Returns
    -------
    pandas.DataFrame, or (pandas.DataFrame, pandas.DataFrame) with ``table``
        The rows of ``keys``, in their order (and their tables' rows, one cell after the other),
        the key columns of the keys' types.
    """
    say = print if progress is True else (progress or (lambda _msg: None))
    path = _grid_path(out)
    extra = None if path is None or table is None else table_path(path, table)
    done, done_table = _read_grid(path, keys), _read_grid(extra, keys)
    rows: list[dict[str, Any] | None] = [None] * len(keys)
    tables: list[pd.DataFrame | None] = [None] * len(keys)
    todo: list[tuple[int, str]] = []
    for i, key in enumerate(keys):
        where = f"[{i + 1}/{len(keys)}] {name(key)}"
        match = _matches(done, key)
        in_table = _matches(done_table, key) if table is not None else match
        if match.any() and in_table.any():
            rows[i] = done[match].iloc[-1].to_dict()
            tables[i] = done_table[in_table] if table is not None else None
            say(f"{where}: kept from {path.name if path else out}")
        else:
            todo.append((i, where))

    def finished(j: int, result: Any) -> None:
        nonlocal done, done_table
        i, where = todo[j]
        row, cell_table = (result, None) if table is None else (result[0], _with_key(keys[i], result[1]))
        rows[i], tables[i] = row, cell_table
        if path is not None:
            if extra is not None and cell_table is not None:
                done_table = _replace(done_table, keys[i], cell_table)
                _write_grid(extra, done_table)
            done = _replace(done, keys[i], pd.DataFrame([row]))
            _write_grid(path, done)
        say(f"{where}: accuracy {row['accuracy']:.3f} (track {row['track_accuracy_mean']:.3f}) "
            f"in {row['seconds']:.1f} s")

    tasks = [(keys[i], *args) for i, _ in todo]
    n_jobs = compute.train_jobs(len(tasks), jobs=jobs, default=compute.GRID_JOBS)
    if n_jobs > 1:
        say(f"{len(tasks)} runs to do, {n_jobs} at a time")
    compute.run_parallel(run_cell, tasks, jobs=n_jobs, on_result=finished)
    frame = _typed(pd.DataFrame([row for row in rows if row is not None]), keys)
    if table is None:
        return frame
    parts = [t for t in tables if t is not None]
    return frame, _typed(pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(), keys)


def data_keys(segments: SegmentSet) -> dict[str, Any]:
    """The last three :data:`GRID_KEYS` of every cell on ``segments``: their number and two fingerprints.

    The optimiser grid's keys end with them too (:data:`mgc_helpers.beyond.optimisers.RUN_KEYS`).
    """
    from .training import data_fingerprint

    n = int(len(segments.y))
    return {"n_segments": n, "feature_fingerprint": segments.config.fingerprint(),
            "data_fingerprint": data_fingerprint(segments, np.arange(n))}


def _run_cell(key: dict[str, Any], segments: SegmentSet, split_fn: Callable[..., Any],
              split_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Train and test one cell of the grid (in this process or a worker); its result row."""
    from . import training

    start = time.perf_counter()
    split = split_fn(segments, key["protocol"], seed=key["seed"], **split_kwargs)
    trained = training.train(segments, split, model=key["model"], epochs=key["epochs"],
                             batch_size=key["batch_size"], seed=key["seed"], standardize=key["standardize"])
    metrics = evaluate(trained, segments, split.test).metrics()
    return {**key, **{m: metrics[m] for m in GRID_METRICS},
            "n_train": len(split.train), "n_valid": len(split.valid), "n_test": len(split.test),
            "n_test_tracks": metrics["n_tracks"],
            "final_train_accuracy": float(trained.history["accuracy"].iloc[-1]),
            "seconds": round(time.perf_counter() - start, 2)}


def run_protocols(segments: SegmentSet, *, models: Sequence[str] = ("cnn",),
                  protocols: Sequence[str] = ("segment", "track", "artist"),
                  seeds: Sequence[int] = (0, 1, 2), epochs: int = 20, batch_size: int = 32,
                  standardize: bool = False, out: str | os.PathLike | None = None,
                  split_fn: Callable[..., Any] | None = None,
                  split_kwargs: Mapping[str, Any] | None = None,
                  progress: bool | Callable[[str], None] = False, jobs: int | None = None) -> pd.DataFrame:
    """Train and test every model under every protocol with every seed; one row per run.

    Each finished run is appended to the CSV ``out`` at once, and runs already in that file (same
    model, protocol, seed, epochs, batch size, scaling, feature settings and a fingerprint of the
    segments) are not repeated: an interrupted grid resumes where it stopped (:func:`run_grid`).
    The seed sets both the split and the training.
    Explained in ``10_results.ipynb``.

    Parameters
    ----------
    segments : SegmentSet
    models : sequence of str
        Model names (see :data:`mgc_helpers.models.networks.MODEL_NAMES`).
    protocols : sequence of str
        Protocol names for ``split_fn`` (default :func:`mgc_helpers.data.splits.make_split`).
    seeds : sequence of int
    epochs, batch_size : int
        Training length and mini-batch size of every run.
    standardize : bool
        Passed to :func:`mgc_helpers.models.training.train`.
    out : path-like or None
        CSV file that keeps the finished runs.
    split_fn : callable or None
        ``split_fn(segments, protocol, seed=seed, **split_kwargs) -> Split``.
    progress : bool or callable
        Report one line per run.
    jobs : int or None
        Runs trained at the same time, in worker processes (``None``: ``MGC_TRAIN_JOBS`` or
        :data:`mgc_helpers.core.compute.GRID_JOBS`; ``1``: one after the other, in this process). The
        results do not depend on it: every run seeds itself and uses the same threads. With
        workers, ``split_fn`` runs in them.

    Returns
    -------
    pandas.DataFrame
        Tidy table: the :data:`GRID_KEYS`, the :data:`GRID_METRICS`, sizes and seconds, for the
        requested cells only (in grid order).
    """
    if split_fn is None:
        from ..data.splits import make_split

        split_fn = make_split
    data = data_keys(segments)
    keys = [{"model": m, "protocol": p, "seed": int(s), "epochs": int(epochs), "batch_size": int(batch_size),
             "standardize": bool(standardize), **data} for m in models for p in protocols for s in seeds]
    return run_grid(keys, _run_cell, args=(segments, split_fn, dict(split_kwargs or {})), out=out,
                    progress=progress, jobs=jobs)


def summarize_protocols(grid: pd.DataFrame, *, metrics: Sequence[str] = GRID_METRICS) -> pd.DataFrame:
    """Mean, standard deviation (ddof=1) and number of seeds of each metric per model and protocol.

    Returns a frame indexed by ``(model, protocol)`` (protocols in their first-seen order) with
    columns ``<metric>_mean``, ``<metric>_std`` and ``n_seeds``.
    """
    if grid.empty:
        raise ValueError("empty protocol grid: nothing to summarise")
    order = {p: i for i, p in enumerate(dict.fromkeys(grid["protocol"]))}
    grouped = grid.groupby(["model", "protocol"], sort=False)
    out = pd.DataFrame({f"{m}_{stat}": getattr(grouped[m], stat)() for m in metrics for stat in ("mean", "std")})
    out["n_seeds"] = grouped["seed"].nunique()
    out = out.reset_index()
    out["_order"] = out["protocol"].map(order)
    return out.sort_values(["model", "_order"], kind="stable").drop(columns="_order").set_index(["model", "protocol"])


def mean_std(mean: float, std: float, *, digits: int = 3) -> str:
    """``"0.745 ± 0.012"``; the ``± std`` part is left out when ``std`` is NaN.

    Examples
    --------
    >>> mean_std(0.74512, 0.0123)
    '0.745 ± 0.012'
    """
    if std is None or not np.isfinite(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def protocol_table(summary: pd.DataFrame, *, metrics: Sequence[str] = ("accuracy", "track_accuracy_mean"),
                   digits: int = 3) -> pd.DataFrame:
    """Readable ``mean ± std`` strings of :func:`summarize_protocols`' output."""
    table = pd.DataFrame(index=summary.index)
    for m in metrics:
        pairs = zip(summary[f"{m}_mean"], summary[f"{m}_std"], strict=False)
        table[m] = [mean_std(a, b, digits=digits) for a, b in pairs]
    table["seeds"] = summary["n_seeds"]
    return table


# ------------------------------------------------------------------------------------ verdicts
def protocols_phrase(protocols: Sequence[str]) -> str:
    """``'under the track protocol'``, ``'under the segment and artist protocols'``.

    >>> protocols_phrase(["segment", "track", "artist"])
    'under the segment, track and artist protocols'
    """
    ps = list(protocols)
    if not ps:
        raise ValueError("no protocol to name")
    listed = ps[0] if len(ps) == 1 else ", ".join(ps[:-1]) + " and " + ps[-1]
    return f"under the {listed} protocol" + ("s" if len(ps) > 1 else "")


def margin_verdict(gap: pd.Series, rival: str) -> str:
    """Say how a model fares against ``rival``, from its accuracy minus the rival's under each protocol.

    Three outcomes are told apart: it beats the rival under every protocol, loses to it under every
    protocol, or beats it under some and loses (or ties) under others, which are named. Explained in
    ``10_results.ipynb`` and used again in ``13_transfer.ipynb``.

    Examples
    --------
    >>> margin_verdict(pd.Series({"segment": -0.3, "track": -0.2}), "the best baseline")
    'loses to the best baseline under every protocol'
    >>> margin_verdict(pd.Series({"segment": 0.1, "track": -0.02, "artist": -0.05}), "the baseline")
    'beats the baseline under the segment protocol and loses to it under the track and artist protocols'
    """
    wins = [p for p in gap.index if gap[p] > 0]
    losses = [p for p in gap.index if gap[p] < 0]
    ties = [p for p in gap.index if p not in wins and p not in losses]
    if len(wins) == len(gap):
        return f"beats {rival} under every protocol"
    if len(losses) == len(gap):
        return f"loses to {rival} under every protocol"
    parts: list[str] = []
    for ps, verb in ((wins, "beats"), (losses, "loses to"), (ties, "ties with")):
        if ps:
            parts.append(f"{verb} {rival if not parts else 'it'} {protocols_phrase(ps)}")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def within_spread(gap: pd.Series, spread: pd.Series) -> list[str]:
    """The protocols whose difference is no larger than the seed-to-seed spread there.

    An unknown spread (``NaN``: a single seed) settles nothing, so such a protocol is listed too.

    >>> within_spread(pd.Series({"segment": 0.1, "track": 0.01}), pd.Series({"segment": 0.02, "track": 0.03}))
    ['track']
    """
    return [p for p in gap.index if not abs(gap[p]) > spread[p]]
