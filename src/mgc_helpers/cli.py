"""The ``mgc`` command line.

Each subcommand lives in its own module under :mod:`mgc_helpers.commands` and defines
``add_parser(subparsers)``, which registers the subcommand and sets ``func`` (called with the parsed
arguments, returning an exit code). Adding a module there adds a subcommand.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, commands


class CommandError(Exception):
    """A user-facing error: printed as ``mgc: error: ...`` with exit status 2, no traceback."""


def _integer(text: str, *, minimum: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (clip counts, epochs, jobs)."""
    return _integer(text, minimum=1, what="a positive integer")


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (seeds)."""
    return _integer(text, minimum=0, what="a non-negative integer")


def write_report(text: str, output: Path | None, *, summary: str | None = None) -> None:
    """Print ``text``, or write it to ``output`` (folders made), then ``summary`` on stderr if given.

    Shared by the commands that print reports (``mgc predict``, with either kind of model).

    Raises
    ------
    CommandError
        If ``output`` cannot be written; the message names it and the reason.
    """
    import sys

    if output is not None:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text + "\n")
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None
        print(f"wrote {output}", file=sys.stderr)
    else:
        print(text)
    if summary is not None:
        print(summary, file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mgc",
        description="mgc-book: music genre classification, from the waveform to the paper's models.",
    )
    parser.add_argument("--version", action="version", version=f"mgc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"mgc {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mgc {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
