"""``mgc spread`` (maintainers): measure the spread of every glued result over seeds, for the guards.

Explained in ``10_results.ipynb`` ("How the results are guarded") and :mod:`mgc_helpers.book.spread`.
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..book import spread

DESCRIPTION = """\
Run the data chapters (06-14) of the book once per seed of a profile on the embedded dataset, read
every number they glue into their prose, and write them to
src/mgc_helpers/resources/seed_spread/PROFILE.csv. The guard cell of each chapter accepts a glued
number of a measured seed when it lies within mean +- 3 std of its values over these seeds. Run it
after a change that moves results on purpose, then refresh the stored notebooks
(mgc reproduce --update-stored).
"""


def _seeds(text: str) -> list[int]:
    try:
        seeds = sorted({int(s) for s in text.split(",") if s.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds such as 0,1,2, got {text!r}") from None
    if len(seeds) < 3 or seeds[0] < 0:
        raise argparse.ArgumentTypeError(f"expected at least 3 non-negative seeds, got {text!r}")
    return seeds


Measured = dict[int, dict[str, dict[str, float | int]]]


def measure(profile: str, seeds: Sequence[int], *, chapters: Iterable[str] = spread.DATA_CHAPTERS,
            log: Callable[[str], None] = print, **reproduce_kwargs: Any) -> Measured:
    """Run the data chapters once per seed (no book) and read every glued number they produce.

    Each seed's run goes where ``mgc reproduce --profile <profile> --seed <k>`` puts it
    (``results/<profile>``, ``results/<profile>-seed1``...) and reuses what was saved there (models, grid
    rows, caches), so measuring again after a change that moves no number costs minutes.

    Returns
    -------
    dict
        ``{seed: {notebook stem: {name: value}}}``, ready for :func:`mgc_helpers.book.spread.write_spread`.
    """
    from ..book.reproduce import reproduce

    selection = ",".join(chapters)
    measured: Measured = {}
    previous = os.environ.get(spread.MEASURING_ENV)
    os.environ[spread.MEASURING_ENV] = "1"
    try:
        for seed in seeds:
            log(f"== {profile}, seed {seed}")
            result = reproduce(profile=profile, seed=seed, notebooks=selection, book=False, log=log,
                               **reproduce_kwargs)
            measured[seed] = {run.executed.stem: spread.read_glued(run.executed) for run in result.runs}
    finally:
        if previous is None:
            os.environ.pop(spread.MEASURING_ENV, None)
        else:
            os.environ[spread.MEASURING_ENV] = previous
    return measured


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "spread", help="maintainers: measure the seed spread of every glued result (the guards' bands)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=("quick", "default"), required=True, help="run size to measure")
    parser.add_argument("--seeds", type=_seeds, default=[0, 1, 2], metavar="LIST",
                        help="comma-separated seeds, at least 3 (default 0,1,2)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from ..book.execute import ReproduceError
    from .common import CommandError

    try:
        measured = measure(args.profile, args.seeds, log=lambda line: print(line, flush=True))
    except (ReproduceError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    path = spread.write_spread(measured, args.profile)
    found = spread.bands(args.profile)
    print(f"wrote {path}: {len(found)} glued numbers over seeds {', '.join(map(str, args.seeds))} "
          f"(bands: mean +- {spread.K:g} std)")
    return 0
