"""``mgc synth``: write the synthetic GTZAN-shaped dataset.

Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from .common import non_negative_int, positive_int

DESCRIPTION = """\
Write the book's synthetic genre dataset into OUT in GTZAN's layout:
OUT/genres_original/<genre>/<genre>.000NN.wav (22050 Hz mono 16-bit), OUT/metadata.csv (genre,
artist, tempo, key, seed ... per clip) and OUT/synth.json. The same arguments give byte-identical
files whatever --jobs; a finished dataset is reused and an interrupted one completed.
"""

EPILOG = """\
examples:
  mgc synth data/synthetic-100x30s-seed0                  # GTZAN-sized: 10 x 100 clips of 30 s
  mgc synth /tmp/tiny --clips-per-genre 2 --duration 5    # a quick look
  mgc synth data/other --seed 1 --jobs 4
"""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or not 0.1 <= value <= 600:
        raise argparse.ArgumentTypeError(f"expected a number of seconds from 0.1 to 600, got {text}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "synth", help="write the synthetic GTZAN-shaped dataset",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", metavar="OUT", help="dataset folder to write (created if needed)")
    parser.add_argument("--clips-per-genre", type=positive_int, default=100, metavar="N",
                        help="clips per genre (default: 100, as in GTZAN)")
    parser.add_argument("--duration", type=_seconds, default=30.0, metavar="S",
                        help="clip length in seconds (default: 30)")
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="K", help="dataset seed (default: 0)")
    parser.add_argument("--jobs", type=positive_int, default=None, metavar="J",
                        help="worker processes (default: all CPUs)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from ..data.synth.dataset import generate_dataset
    from .common import CommandError

    out = Path(args.out).expanduser()
    if out.exists() and not out.is_dir():
        raise CommandError(f"{out} exists and is not a folder")
    try:
        meta = generate_dataset(out, clips_per_genre=args.clips_per_genre, duration=args.duration,
                                seed=args.seed, n_jobs=args.jobs, progress=not args.no_progress)
    except (OSError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    stats = meta.attrs["synth"]
    jobs = args.jobs or os.cpu_count() or 1
    print(f"{out}: {len(meta)} clips ({meta['genre'].nunique()} genres, {meta['artist'].nunique()} artists, "
          f"{args.duration:g} s each)")
    print(f"written {stats['written']}, reused {stats['reused']} in {stats['seconds']:.1f} s")
    if stats["written"]:
        audio = stats["written"] * args.duration
        factor = audio / max(stats["seconds"], 1e-9)
        print(f"real-time factor {factor:.0f}x ({factor / min(jobs, stats['written']):.0f}x per process, "
              f"{min(jobs, stats['written'])} processes)")
    return 0
