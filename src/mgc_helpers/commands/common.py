"""What the ``mgc`` subcommands share: the user-facing error, argument types, writing a report."""
from __future__ import annotations

import argparse
from pathlib import Path


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
