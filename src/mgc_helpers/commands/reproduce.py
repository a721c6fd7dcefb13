"""``mgc reproduce``: execute every chapter with papermill, then build the HTML book from the results.

Explained in ``10_results.ipynb``.
"""
from __future__ import annotations

import argparse
import sys

from .common import non_negative_int, positive_int

DESCRIPTION = """\
Re-run the book: execute notebooks 01-10 (and later chapters listed in _toc.yml) in order with
papermill, writing executed notebooks to OUT/notebooks and results, tables and figures (PNG and SVG)
under OUT, then build the HTML book from the executed notebooks (OUT/book/_build/html/index.html).
"""

EPILOG = """\
examples:
  mgc reproduce                                  # default profile, embedded synthetic dataset
  mgc reproduce --profile quick --no-book        # a few minutes: check that everything runs
  mgc reproduce --dataset gtzan --data-dir ~/datasets --profile paper
  mgc reproduce --notebooks 07,08,09,10 --epochs 50 --seed 1 --out results/try
  mgc reproduce --update-stored                  # maintainers: refresh the stored outputs
"""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from ..core.profiles import PROFILES

    parser = subparsers.add_parser(
        "reproduce", help="execute all chapters with papermill and build the book",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=("synthetic", "gtzan"), default="synthetic",
                        help="data of the chapters (default: the embedded synthetic dataset)")
    parser.add_argument("--data-dir", metavar="DIR", help="data folder (default: data/ or MGC_DATA_DIR)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default=None,
                        help="run size (default: MGC_PROFILE or 'default')")
    parser.add_argument("--epochs", type=positive_int, metavar="N", help="override the profile's epochs")
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="K", help="seed (default 0)")
    parser.add_argument("--out", metavar="OUT",
                        help="output folder (default: results/<run>, e.g. results/default, results/quick, "
                             "results/default-epochs50-seed1)")
    parser.add_argument("--notebooks", metavar="LIST",
                        help="comma-separated chapters to run, e.g. 01,07 or 09_cnn (default: all)")
    parser.add_argument("--no-book", action="store_true", help="do not build the HTML book")
    parser.add_argument("--update-stored", action="store_true",
                        help="copy the executed notebooks back into notebooks/ (stored outputs)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from ..book.execute import NotebookFailed, ReproduceError
    from ..book.reproduce import reproduce
    from .common import CommandError

    try:
        result = reproduce(dataset=args.dataset, data_dir=args.data_dir, profile=args.profile,
                           epochs=args.epochs, seed=args.seed, out=args.out, notebooks=args.notebooks,
                           book=not args.no_book, update_stored=args.update_stored,
                           log=lambda line: print(line, flush=True))
    except NotebookFailed as exc:
        print(f"mgc reproduce: notebook {exc.notebook} failed at cell {exc.cell_index}"
              + (f" (In [{exc.execution_count}])" if exc.execution_count else ""), file=sys.stderr)
        if exc.source_line:
            print(f"    {exc.source_line}", file=sys.stderr)
        print(f"  {exc.error}", file=sys.stderr)
        print(f"  executed copy with the full traceback: {exc.executed}", file=sys.stderr)
        return 1
    except (ReproduceError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    if result.index_html is not None:
        print(f"book: {result.index_html}")
    return 0
