"""``mgc extract``: MFCC segments of a dataset folder, cached, with a report of every skipped file.

Explained in ``06_dataset.ipynb``.
"""
from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from .common import positive_int

DESCRIPTION = """\
Compute the paper's MFCC segments (13 x 130 per 3-s segment, 10 segments per 30-s clip) for every
clip of DATA_DIR: a synthetic dataset made by mgc_helpers.data.synth, or a GTZAN copy (the folder holding
genres_original/ or genres/, or the genre folders themselves). Results are cached (a second run
takes seconds); unreadable, too short and silent clips are reported, never dropped silently.
"""

EPILOG = """\
examples:
  mgc extract data/synthetic-50x30s-seed0
  mgc extract ~/datasets/gtzan --dataset gtzan --out gtzan.npz --jobs 4
  mgc extract ~/datasets/gtzan --json data.json          # the paper's JSON layout as well
  mgc extract DATA --backend dask --scheduler tcp://host:8786
  mgc extract DATA --backend dask --jobs 4                # a local cluster of 4 worker processes
"""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "extract", help="compute (cached) MFCC segments of a dataset folder",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", metavar="DATA_DIR", help="dataset folder (synthetic or GTZAN)")
    parser.add_argument("--dataset", choices=("synthetic", "gtzan", "auto"), default="auto",
                        help="what DATA_DIR holds (default: auto-detect)")
    parser.add_argument("--out", metavar="FILE.npz", help="also save the segments to this .npz file")
    parser.add_argument("--json", metavar="FILE", help="also write the paper's JSON layout (large: ~600 MB for GTZAN)")
    parser.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                        help="worker processes (default: all CPUs)")
    parser.add_argument("--backend", choices=("loky", "dask"), default="loky",
                        help="loky: local processes (default); dask: a dask.distributed cluster")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="with --backend dask: scheduler address, or `local` (the default) for a local "
                             "cluster of --jobs worker processes")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="feature cache folder (default: features/ in MGC_CACHE_DIR or data/cache of the project)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    return parser


@contextlib.contextmanager
def dask_client(scheduler: str | None, jobs: int | None) -> Iterator[None]:
    """A running ``dask.distributed`` Client for the block: the cluster at ``scheduler``, or (``None``
    or ``"local"``) a local cluster of ``jobs`` worker processes (default: one per CPU), one thread each.

    Shared by ``mgc extract`` and ``mgc predict``.
    """
    from .common import CommandError

    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise CommandError("--backend dask needs dask.distributed: pip install \"mgc-helpers[dask]\"") from None
    if scheduler and scheduler != "local":
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise CommandError(f"cannot reach the dask scheduler at {scheduler} ({exc})") from None
        with client:
            yield
        return
    from joblib import cpu_count

    with LocalCluster(n_workers=jobs or cpu_count(), threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster):
        yield


def _check_output(value: str | None, suffix: str | None, option: str) -> Path | None:
    from .common import CommandError

    if value is None:
        return None
    path = Path(value).expanduser()
    if suffix and path.suffix != suffix:
        raise CommandError(f"{option} must name a {suffix} file, got {value!r}")
    if path.is_dir():
        raise CommandError(f"{option} {value!r} is a folder; give a file name")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    return path


def run(args: argparse.Namespace) -> int:
    from ..data.datasets import DatasetError, load_dataset
    from ..data.features import extract_features
    from .common import CommandError

    start = time.perf_counter()
    out = _check_output(args.out, ".npz", "--out")
    json_path = _check_output(args.json, None, "--json")
    if args.scheduler and args.backend != "dask":
        raise CommandError("--scheduler only applies with --backend dask")
    try:
        dataset = load_dataset(args.data_dir, name=None if args.dataset == "auto" else args.dataset)
    except (FileNotFoundError, DatasetError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    print(dataset.summary())
    if not dataset.tracks:
        raise CommandError(f"no usable audio files in {args.data_dir}")

    context = dask_client(args.scheduler, args.jobs) if args.backend == "dask" else contextlib.nullcontext()
    with context:
        try:
            segments = extract_features(dataset, cache_dir=args.cache_dir, n_jobs=args.jobs, backend=args.backend,
                                        progress=not args.no_progress, cache=not args.no_cache)
        except (ValueError, RuntimeError, OSError) as exc:
            raise CommandError(str(exc)) from None

    info = segments.info
    print(f"features: {len(segments)} segments of {segments.X.shape[1]} x {segments.X.shape[2]} MFCCs "
          f"from {segments.n_tracks} tracks ({len(dataset.tracks)} listed), {segments.n_classes} genres")
    extraction_skips = segments.skipped[len(dataset.skipped):]
    print(f"skipped during extraction: {len(extraction_skips)} file(s)" + (":" if extraction_skips else ""))
    for s in extraction_skips:
        print(f"  {s.path.name}: {s.reason}")
    if segments.warnings:
        print(f"warnings: {len(segments.warnings)} file(s):")
        for s in segments.warnings:
            print(f"  {s.path.name}: {s.reason}")
    cache_note = info["cache"] + (f", {info['chunks_reused']} chunk(s) reused" if info.get("chunks_reused") else "")
    print(f"cache: {cache_note}" + (f" ({info['cache_file']})" if info.get("cache_file") else ""))
    if out is not None:
        segments.save(out)
        print(f"saved {out}")
    if json_path is not None:
        segments.to_paper_json(json_path)
        print(f"wrote {json_path} (paper's JSON layout)")
    print(f"extraction: {info['seconds']:.1f} s with {info['n_jobs']} job(s), {info['backend']} backend; "
          f"total {time.perf_counter() - start:.1f} s")
    return 0
