"""Benchmark: time per epoch of the paper's models, and the total time of each run profile.

1. **per epoch** (always): on a SegmentSet (``--segments FILE.npz`` written by
   ``SegmentSet.save``/``mgc extract --out``, or the synthetic dataset of ``--profile``, generated
   and extracted through the cache), each model is trained on the paper's segment split for one
   warm-up epoch (graph tracing) and then ``--epochs`` timed epochs. Printed per model: training
   segments, parameters, median seconds per epoch, segments per second, and the estimated training
   time for the profile's ``epochs`` (and, for the protocol model, the protocol grid's
   ``len(seeds) x 3 protocols x protocol_epochs``).
2. **total** (``--total quick,default``): runs ``mgc reproduce --profile P --no-book`` in a
   temporary output folder for each profile and reports its wall time and the per-notebook times it
   recorded (``reproduce.json``). Slow: the whole book is re-executed.

Figures depend on the machine and on its load: run on an otherwise idle machine; the default
profile's target is under 20 minutes for ``mgc reproduce`` on 2 cores.

Usage::

    python benchmarks/bench_training.py                         # quick profile's data, 2 timed epochs
    python benchmarks/bench_training.py --profile default --epochs 3
    python benchmarks/bench_training.py --segments data/gtzan.npz --models cnn,rnn_lstm
    python benchmarks/bench_training.py --total quick,default    # whole-book timings
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def load_segments(args):
    from mgc_helpers import datasets, features
    from mgc_helpers.segments import SegmentSet

    if args.segments:
        return SegmentSet.load(args.segments)
    dataset = datasets.prepare_dataset("synthetic", data_dir=args.data_dir, profile=args.profile)
    return features.extract_features(dataset)


def time_models(segments, *, models, epochs: int, batch_size: int, profile) -> list[dict]:
    from mgc_helpers import training
    from mgc_helpers.splits import make_split

    split = make_split(segments, "segment", seed=0)
    rows = []
    for name in models:
        trained = training.train(segments, split, model=name, epochs=epochs + 1, batch_size=batch_size, seed=0)
        timed = trained.epoch_seconds[1:]  # the first epoch includes tracing the graph
        per_epoch = statistics.median(timed)
        row = {
            "model": name,
            "train segments": len(split.train),
            "parameters": trained.model.count_params(),
            "s/epoch": per_epoch,
            "segments/s": len(split.train) / per_epoch,
            "first epoch s": trained.epoch_seconds[0],
            f"{profile.epochs} epochs s": per_epoch * profile.epochs,
        }
        rows.append(row)
        print(f"  {name}: {per_epoch:.2f} s/epoch", flush=True)
    return rows


def time_profiles(profiles, *, keep: bool) -> list[dict]:
    rows = []
    for name in profiles:
        out = Path(tempfile.mkdtemp(prefix=f"mgc-bench-{name}-"))
        command = [sys.executable, "-c", "import sys; from mgc_helpers.cli import main; sys.exit(main())",
                   "reproduce", "--profile", name, "--no-book", "--out", str(out)]
        print(f"  mgc reproduce --profile {name} --no-book --out {out} ...", flush=True)
        start = time.perf_counter()
        code = subprocess.call(command)
        seconds = time.perf_counter() - start
        record_path = out / "reproduce.json"
        record = json.loads(record_path.read_text()) if record_path.is_file() else {}
        row = {"profile": name, "exit": code, "total s": seconds, "total min": seconds / 60}
        for nb in record.get("notebooks", []):
            row[nb["name"][:2]] = nb["seconds"]
        rows.append(row)
        if not keep:
            import shutil

            shutil.rmtree(out, ignore_errors=True)
    return rows


def print_table(rows: list[dict]) -> None:
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 30, "display.precision", 2):
        print(pd.DataFrame(rows).to_string(index=False))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", help="SegmentSet .npz file (default: the profile's synthetic dataset)")
    parser.add_argument("--profile", default="quick", help="profile whose data and epochs are used (default quick)")
    parser.add_argument("--data-dir", help="data folder for the synthetic dataset")
    parser.add_argument("--models", default="mlp,mlp_dropout,rnn_lstm,cnn", help="comma-separated model names")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per model (after one warm-up)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the profile's")
    parser.add_argument("--total", metavar="PROFILES", help="also time `mgc reproduce --no-book` for these profiles")
    parser.add_argument("--keep", action="store_true", help="keep the --total output folders")
    parser.add_argument("--skip-epochs", action="store_true", help="only the --total part")
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from mgc_helpers.profiles import get_profile

    profile = get_profile(args.profile)
    print(f"machine: {os.cpu_count()} CPUs; profile {profile.name}: {profile.epochs} epochs, "
          f"batch {profile.batch_size}, protocol grid {len(profile.seeds)} seeds x {profile.protocol_epochs} epochs")
    if not args.skip_epochs:
        segments = load_segments(args)
        print(f"data: {segments!r}")
        rows = time_models(segments, models=[m for m in args.models.split(",") if m], epochs=args.epochs,
                           batch_size=args.batch_size or profile.batch_size, profile=profile)
        print("\ntime per epoch")
        print_table(rows)
        grid_runs = 3 * len(profile.seeds)
        for row in rows:  # every protocol trains on about 60 % of the segments, like the segment split
            row["grid s"] = (row["s/epoch"] * profile.protocol_epochs + row["first epoch s"]) * grid_runs
        print(f"\nestimated protocol grid ({grid_runs} runs x {profile.protocol_epochs} epochs, "
              "each with a first, slower epoch):")
        print_table([{"model": r["model"], "grid s": r["grid s"], "grid min": r["grid s"] / 60} for r in rows])
    if args.total:
        print("\ntotal time of `mgc reproduce --no-book`")
        print_table(time_profiles([p for p in args.total.split(",") if p], keep=args.keep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
