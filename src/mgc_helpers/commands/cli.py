"""The ``mgc`` command line.

Each subcommand lives in its own module under :mod:`mgc_helpers.commands` and defines
``add_parser(subparsers)``, which registers the subcommand and sets ``func`` (called with the parsed
arguments, returning an exit code). Adding a module there adds a subcommand; the modules without
``add_parser`` (this one, :mod:`~mgc_helpers.commands.common`) are not subcommands.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from .. import __version__, commands
from .common import CommandError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mgc",
        description="mgc-book: music genre classification, from the waveform to the paper's models.",
    )
    parser.add_argument("--version", action="version", version=f"mgc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(module, "add_parser"):
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
