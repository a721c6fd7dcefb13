"""Benchmark: musicnn tagging speed (real-time factor) and the memory a long file needs.

* **speed**: :func:`mgc_helpers.beyond.musicnn.analyse` (spectrogram, patches batched through
  ``predict_on_batch``, tags and embedding in one pass) on ``--clips`` synthetic 30-s clips, after
  one warm-up call; printed as seconds per clip and real-time factor (seconds of audio per second
  of computing), with the pre-processing's share;
* **dataset extraction** (what chapter 13 runs): :func:`mgc_helpers.beyond.musicnn_dataset.embed_dataset` with
  ``--jobs`` worker processes (one TensorFlow thread each) on ``--clips`` 30-s WAV files written to a
  temporary dataset, cache off; measured a second time with the workers already started (the model
  loaded), which is the steady throughput of a long extraction. The real-time factor of both is
  printed beside the single-process figure above, measured in the same run, so their *ratio* holds
  even on a busy machine;
* **memory**: a ``--long-minutes`` long stereo 44.1-kHz WAV (written block by block from synthetic
  clips) tagged by :func:`mgc_helpers.beyond.musicnn.analyse_file` in a child process, whose peak resident
  memory is compared with a child that tags a 30-s file: block-wise decoding, resampling,
  spectrogram and batching keep the difference small and independent of the length.

TensorFlow reads ``TF_ENABLE_ONEDNN_OPTS`` once, when it is imported. The project turns oneDNN on
(:data:`mgc_helpers.core.compute.ONEDNN`); ``--no-onednn`` turns it off for this benchmark's processes
(Eigen's convolutions, about half as fast on x86; tags within 1e-5 either way). Figures depend on
the machine and its load; run it on an otherwise idle machine.

Usage::

    python benchmarks/bench_musicnn.py                     # 8 clips, a 20-minute file
    python benchmarks/bench_musicnn.py --clips 16 --long-minutes 60
    python benchmarks/bench_musicnn.py --no-onednn                 # TensorFlow's Eigen kernels
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_mb() -> float:
    """This process' peak resident memory in MB.

    On Linux ``VmHWM`` of ``/proc/self/status``: ``ru_maxrss`` keeps the forking parent's peak across
    ``exec``, so a child started by a large parent would report at least the parent's size.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024 ** 2
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def child(path: str) -> None:
    """Run in a child process: tag one file, print its figures as JSON."""
    from mgc_helpers.beyond import musicnn

    musicnn.get_model()
    before = peak_mb()
    start = time.perf_counter()
    out = musicnn.analyse_file(path)
    seconds = time.perf_counter() - start
    print(json.dumps({"duration": out.duration, "patches": out.n_patches, "seconds": seconds,
                      "peak_mb": peak_mb(), "peak_mb_model_loaded": before}))


def write_long(path: Path, minutes: float, *, sr: int = 44100) -> float:
    """A stereo WAV of ``minutes``, written one synthetic 30-s clip at a time."""
    import numpy as np
    import soundfile as sf

    from mgc_helpers.core.config import GENRES
    from mgc_helpers.data.synth.render import render_clip

    n_clips = max(1, int(round(minutes * 2)))
    with sf.SoundFile(str(path), "w", samplerate=sr, channels=2, subtype="PCM_16") as f:
        for i in range(n_clips):
            g = GENRES[i % len(GENRES)]
            y = render_clip(g, artist=f"{g}_a{1 + i % 3}", seed=i % 4, duration=30.0, sr=sr)
            f.write(np.stack([y, 0.8 * y], axis=1))
    return n_clips * 30.0


def dataset_speed(clips: list, jobs: int, per_clip: float) -> None:
    """Real-time factor of ``embed_dataset`` (workers cold, then warm) on the clips, as WAV files."""
    import soundfile as sf

    from mgc_helpers.beyond import musicnn_dataset
    from mgc_helpers.data.datasets import load_dataset

    with tempfile.TemporaryDirectory() as tmp:
        for i, y in enumerate(clips):
            folder = Path(tmp) / "genres_original" / f"g{i % 2}"
            folder.mkdir(parents=True, exist_ok=True)
            sf.write(str(folder / f"g{i % 2}.{i:05d}.wav"), y, 22050, subtype="PCM_16")
        ds = load_dataset(tmp)
        seconds = 30.0 * len(ds.tracks)
        figures = []
        for _ in range(2):
            start = time.perf_counter()
            musicnn_dataset.embed_dataset(ds, n_jobs=jobs, cache=False, chunk_size=max(1, len(clips) // (2 * jobs)))
            figures.append(time.perf_counter() - start)
    print(f"dataset extraction ({jobs} workers, {len(ds.tracks)} clips): {seconds / figures[0]:.0f}x real time with "
          f"worker start-up, {seconds / figures[1]:.0f}x with the workers started; single process in this run "
          f"{30.0 / per_clip:.0f}x (ratio {figures[1] and (seconds / figures[1]) / (30.0 / per_clip):.2f})")


def run_child(path: Path, env: dict[str, str]) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", str(path)], env=env, capture_output=True, text=True)
    if res.returncode:
        sys.exit(f"child failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=8, help="30-s clips for the speed test (default 8)")
    parser.add_argument("--long-minutes", type=float, default=20.0,
                        help="length of the long file (default 20; 0 skips the memory test)")
    parser.add_argument("--jobs", type=int, default=2, help="workers of the dataset extraction (default 2; 0 skips)")
    parser.add_argument("--no-onednn", action="store_true", help="TensorFlow without oneDNN's kernels (slower on x86)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    onednn = "0" if args.no_onednn else os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1")
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn}
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    if args.child:
        child(args.child)
        return 0

    from mgc_helpers.beyond import musicnn, musicnn_input
    from mgc_helpers.core.config import GENRES
    from mgc_helpers.data.synth.render import render_clip

    print(f"TF_ENABLE_ONEDNN_OPTS={env['TF_ENABLE_ONEDNN_OPTS']}, {os.cpu_count()} CPUs")
    clips = [render_clip(GENRES[i % 10], artist=f"{GENRES[i % 10]}_a1", seed=i, duration=30.0)
             for i in range(args.clips)]
    musicnn.analyse(clips[0], 22050)  # warm-up: builds the model and traces its function
    start = time.perf_counter()
    for y in clips:
        musicnn_input.log_mel(y, 22050)
    prep = (time.perf_counter() - start) / len(clips)
    start, cpu = time.perf_counter(), time.process_time()
    for y in clips:
        musicnn.analyse(y, 22050)
    per_clip = (time.perf_counter() - start) / len(clips)
    cpu_per_clip = (time.process_time() - cpu) / len(clips)
    print(f"speed: {per_clip:.3f} s per 30-s clip ({prep:.3f} s of it pre-processing) -> "
          f"{30.0 / per_clip:.0f}x real time (tags + embedding, {len(clips)} clips); "
          f"CPU time {cpu_per_clip:.3f} s per clip, i.e. {30.0 * os.cpu_count() / cpu_per_clip:.0f}x real time "
          f"on {os.cpu_count()} idle cores if the work spreads over all of them")
    if args.jobs > 0:
        dataset_speed(clips, args.jobs, per_clip)
    if args.long_minutes <= 0:
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        short = Path(tmp) / "short.wav"
        write_long(short, 0.5)
        medium = Path(tmp) / "medium.wav"
        write_long(medium, 5.0)
        long = Path(tmp) / "long.wav"
        seconds = write_long(long, args.long_minutes)
        base = run_child(short, env)
        mid = run_child(medium, env)
        big = run_child(long, env)
    print(f"memory: {base['peak_mb']:.0f} MB peak RSS for a 30-s file (model loaded: "
          f"{base['peak_mb_model_loaded']:.0f} MB), {mid['peak_mb']:.0f} MB for 5 minutes, "
          f"{big['peak_mb']:.0f} MB for a "
          f"{seconds / 60:.0f}-minute stereo 44.1-kHz file ({big['patches']} patches, "
          f"{big['seconds']:.1f} s, {seconds / big['seconds']:.0f}x real time); "
          f"difference {big['peak_mb'] - base['peak_mb']:+.0f} MB "
          f"(the decoded file alone would be {seconds * 44100 * 2 * 4 / 2**20:.0f} MB as float32); beyond one "
          f"batch of patches (batch_size 16, about 48 s) the peak no longer grows with the length")
    return 0


if __name__ == "__main__":
    sys.exit(main())
