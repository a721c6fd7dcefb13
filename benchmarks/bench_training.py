"""Benchmark: time per epoch of the paper's models, and the total time of each run profile.

1. **per epoch** (always): on a SegmentSet (``--segments FILE.npz`` written by
   ``SegmentSet.save``/``mgc extract --out``, or the synthetic dataset of ``--profile``, generated
   and extracted through the cache), each model is trained on the paper's segment split for one
   warm-up epoch (graph tracing) and then ``--epochs`` timed epochs, twice, one right after the
   other (same machine load): with plain ``keras.Model.fit`` on NumPy arrays at batch 32 and the
   default compile (how the project trained before), and with the project's path
   (:func:`mgc_helpers.models.training.train`, whose machine settings :mod:`mgc_helpers.core.compute` decides).
   Printed per model: seconds per epoch (validation included), segments per second, CPU use of the
   process (100 % = one core) and the ratio. Then the estimated training time of chapters 07-10 and 12 of
   each profile, from these per-epoch figures.
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
    from mgc_helpers.data import datasets, features
    from mgc_helpers.data.segments import SegmentSet

    if args.segments:
        return SegmentSet.load(args.segments)
    dataset = datasets.prepare_dataset("synthetic", data_dir=args.data_dir, profile=args.profile)
    return features.extract_features(dataset)


class _Clock:
    """Keras callback: wall and CPU seconds (the whole process, every thread) of each epoch."""

    def __new__(cls):
        import keras

        class Clock(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.wall, self.cpu = [], []

            def on_epoch_begin(self, epoch, logs=None):
                self._w, self._c = time.perf_counter(), time.process_time()

            def on_epoch_end(self, epoch, logs=None):
                self.wall.append(time.perf_counter() - self._w)
                self.cpu.append(time.process_time() - self._c)

        return Clock()


def plain_fit(segments, split, *, model: str, epochs: int, batch_size: int):
    """How the project trained before: ``keras.Model.fit`` on NumPy arrays, default compile, batch 32, Keras' LSTM."""
    import numpy as np

    from mgc_helpers.core import compute
    from mgc_helpers.models import networks, training

    training.set_seed(0)
    X = training.prepare_inputs(segments.X[split.train], model_name=model)
    Xv = training.prepare_inputs(segments.X[split.valid], model_name=model)
    y, yv = np.asarray(segments.y)[split.train], np.asarray(segments.y)[split.valid]
    fused, compute.FUSED_LSTM = compute.FUSED_LSTM, False  # Keras' own LSTM loop, as before
    try:
        network = networks.build_model(model, tuple(segments.config.segment_shape), len(segments.genres))
    finally:
        compute.FUSED_LSTM = fused
    clock = _Clock()
    network.fit(X, y, validation_data=(Xv, yv), epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
                callbacks=[clock])
    return clock


def project_fit(segments, split, *, model: str, epochs: int, batch_size: int):
    """The project's path: :func:`mgc_helpers.models.training.train` (settings of :mod:`mgc_helpers.core.compute`)."""
    from mgc_helpers.models import training

    clock = _Clock()
    training.train(segments, split, model=model, epochs=epochs, batch_size=batch_size, seed=0, callbacks=[clock])
    return clock


def time_models(segments, *, models, epochs: int, batch_size: int, profile, rounds: int = 1) -> list[dict]:
    """Per model: plain ``fit`` and the project's path, one after the other (same load), and their ratio."""
    from mgc_helpers.data.splits import make_split

    split = make_split(segments, "segment", seed=0)
    n = len(split.train)
    rows = []
    for name in models:
        row = {"model": name, "train segments": n}
        clocks: dict[str, list] = {"plain": [], "project": []}
        for r in range(rounds):  # alternate which path goes first, so that a change of load hits both
            order = [("plain", plain_fit), ("project", project_fit)]
            for label, fit in (order if r % 2 == 0 else order[::-1]):
                clocks[label].append(fit(segments, split, model=name, epochs=epochs + 1, batch_size=batch_size))
        for label, runs in clocks.items():
            walls = [w for c in runs for w in c.wall[1:]]  # the first epoch includes tracing the graph
            wall = statistics.median(walls)
            cpu = sum(cp for c in runs for cp in c.cpu[1:]) / sum(walls)
            row |= {f"{label} s/epoch": wall, f"{label} seg/s": n / wall, f"{label} CPU %": 100 * cpu,
                    f"{label} first epoch s": statistics.median(c.wall[0] for c in runs)}
        row["ratio"] = row["plain s/epoch"] / row["project s/epoch"]
        rows.append(row)
        print(f"  {name}: plain {row['plain seg/s']:.0f} segments/s, project {row['project seg/s']:.0f} "
              f"segments/s (x{row['ratio']:.2f}), CPU {row['project CPU %']:.0f} %", flush=True)
    return rows


def estimate_profile(rows: list[dict], *, profile, n_train: int) -> list[dict]:
    """Training seconds of chapters 07-10 and 12 for ``profile``, from the per-epoch figures (scaled to its data).

    Chapter 07 trains three MLPs (plain, dropout, standardised), 08 the RNN-LSTM, 09 the CNN, 10 the
    protocol grid (CNN and its tutorial variant, which is about as fast, x 3 protocols x seeds), and 12
    the optimiser grid of ``profile.optim_plan`` (each configuration trains about as fast as the
    model's default one). The grids' runs train on about as many segments as the segment split.
    ``jobs``: the grids' runs side by side (``mgc_helpers.core.compute.train_jobs``), and so do chapters
    07-09 on the project's path; the estimate assumes they share the cores perfectly (the measured
    ``--total`` says how well they do).
    """
    from mgc_helpers.beyond import optimisers
    from mgc_helpers.core import compute

    per = {r["model"]: r for r in rows}
    scale = n_train / rows[0]["train segments"] if rows else 1.0
    grid_runs = 2 * 3 * len(profile.seeds)
    jobs = compute.train_jobs(grid_runs, default=compute.GRID_JOBS)
    out = []
    for label in ("plain", "project"):
        def sec(model, epochs, label=label):
            r = per.get(model)
            return float("nan") if r is None else (r[f"{label} s/epoch"] * epochs * scale + r[f"{label} first epoch s"])
        chapters = {"07": sec("mlp", profile.epochs) + sec("mlp_dropout", profile.epochs) + sec("mlp", profile.epochs),
                    "08": sec("rnn_lstm", profile.epochs), "09": sec("cnn", profile.epochs),
                    "10 grid": grid_runs * sec("cnn", profile.protocol_epochs) / (jobs if label == "project" else 1),
                    "12 grid": sum(len(optimisers.plan_configs(designs)) * n_seeds * sec(model, epochs)
                                   for model, designs, n_seeds, epochs in profile.optim_plan)
                    / (jobs if label == "project" else 1)}
        total = sum(chapters.values())
        if label == "project":  # chapters 07-09 side by side (mgc_helpers.book.reproduce.CONCURRENT_CHAPTERS)
            side = [chapters["07"], chapters["08"], chapters["09"]]
            total += max(max(side), sum(side) / compute.train_jobs(3)) - sum(side)
        out.append({"path": label, **chapters, "total s": total, "total min": total / 60})
    return out


def time_profiles(profiles, *, keep: bool) -> list[dict]:
    rows = []
    for name in profiles:
        out = Path(tempfile.mkdtemp(prefix=f"mgc-bench-{name}-"))
        command = [sys.executable, "-c", "import sys; from mgc_helpers.commands.cli import main; sys.exit(main())",
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
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat the plain/project pair, alternating which goes first (default 1)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the profile's")
    parser.add_argument("--total", metavar="PROFILES", help="also time `mgc reproduce --no-book` for these profiles")
    parser.add_argument("--keep", action="store_true", help="keep the --total output folders")
    parser.add_argument("--skip-epochs", action="store_true", help="only the --total part")
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from mgc_helpers.core.profiles import get_profile

    profile = get_profile(args.profile)
    print(f"machine: {os.cpu_count()} CPUs; profile {profile.name}: {profile.epochs} epochs, "
          f"batch {profile.batch_size}, protocol grid {len(profile.seeds)} seeds x {profile.protocol_epochs} epochs")
    if not args.skip_epochs:
        segments = load_segments(args)
        print(f"data: {segments!r}")
        rows = time_models(segments, models=[m for m in args.models.split(",") if m], epochs=args.epochs,
                           batch_size=args.batch_size or profile.batch_size, profile=profile,
                           rounds=args.rounds)
        print("\ntime per epoch: plain keras fit beside the project's training path (ratio = speed-up)")
        print_table(rows)
        from mgc_helpers.core.profiles import PROFILES

        print("\nestimated training time of chapters 07-10 and 12 per profile (seconds; per-epoch figures scaled "
              "to the profile's training segments; see estimate_profile)")
        for name, prof in PROFILES.items():
            n_train = int(round(prof.clips_per_genre * 10 * 10 * 0.6))  # 10 genres x 10 segments, 60 % train
            print(f"-- {name}: {prof.epochs} epochs, grid {2 * 3 * len(prof.seeds)} runs x {prof.protocol_epochs} "
                  f"epochs, {n_train} training segments")
            print_table(estimate_profile(rows, profile=prof, n_train=n_train))
    if args.total:
        print("\ntotal time of `mgc reproduce --no-book`")
        print_table(time_profiles([p for p in args.total.split(",") if p], keep=args.keep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
