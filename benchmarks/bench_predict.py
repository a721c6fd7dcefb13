"""Benchmark: ``mgc predict`` over a large folder (real-time factor) and the memory a long file needs.

* **folder**: :func:`mgc_helpers.predict.run.predict_paths` over ``--songs`` (a folder of audio; by default
  ``--clips-per-genre`` x 10 synthetic 30-s clips written once into ``--work``), the report streamed to
  a JSON-lines file as ``mgc predict --format jsonl -o`` does, with 1 worker and with ``--jobs``
  worker processes; printed: wall time, seconds of audio classified per wall second, and whether the
  two runs gave the same bits;
* **memory**: a ``--long-minutes`` stereo 44.1-kHz WAV (written block by block) classified by
  ``mgc predict`` in a child process, whose peak resident memory is printed beside a child that
  classifies one 30-s clip and a child that only loads the model (``VmHWM`` of ``/proc/self/status``:
  Linux keeps the forking parent's peak in ``ru_maxrss`` across ``exec``); once with the network run
  by NumPy (``mgc predict``'s default, no TensorFlow) and once by Keras (``--engine keras``:
  importing TensorFlow alone takes about 660 MB).

Figures depend on the machine and its load; run it on an otherwise idle machine.

Usage::

    python benchmarks/bench_predict.py --model results/default/models/cnn.keras
    python benchmarks/bench_predict.py --model M --clips-per-genre 10 --long-minutes 10 --work /tmp/mgc-bench
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = """
import json, sys, time
def peak_mb():  # this process' own high-water mark (ru_maxrss would keep the forking parent's across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
mode, model, path, engine = sys.argv[1:5]
from mgc_helpers.models.model_files import load_model
trained = load_model(model, engine=engine)
loaded = peak_mb()
out = {"model_loaded_mb": loaded}
if mode == "predict":
    from mgc_helpers.predict.run import predict_file
    start = time.perf_counter()
    p = predict_file(path, trained)
    out.update(seconds=time.perf_counter() - start, duration=p.duration, n_segments=p.n_segments, genre=p.genre)
out["peak_mb"] = peak_mb()
out["tensorflow_imported"] = "tensorflow" in sys.modules
print(json.dumps(out))
"""


def child(mode: str, model: Path, path: Path | str, engine: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1] / "src"),
                                                        os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", CHILD, mode, str(model), str(path), engine], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_long_file(path: Path, clips: list[Path], minutes: float) -> float:
    """A stereo 44.1-kHz WAV of ``minutes`` made of the clips (resampled once), written block by block."""
    import librosa
    import soundfile as sf

    blocks = []
    for clip in clips[:8]:
        y, sr = sf.read(clip, dtype="float32")
        y = librosa.resample(y, orig_sr=sr, target_sr=44100)
        blocks.append(np.stack([y, 0.8 * y], axis=1))
    total = int(minutes * 60 * 44100)
    written = 0
    with sf.SoundFile(path, "w", samplerate=44100, channels=2, subtype="PCM_16") as f:
        i = 0
        while written < total:
            block = blocks[i % len(blocks)][: total - written]
            f.write(block)
            written += len(block)
            i += 1
    return written / 44100


def run_folder(songs: Path, trained, *, n_jobs: int, out: Path):
    from mgc_helpers.predict.report import StreamingWriter
    from mgc_helpers.predict.run import predict_paths

    out.unlink(missing_ok=True)
    start = time.perf_counter()
    with StreamingWriter(out, fmt="jsonl") as writer:
        report = predict_paths([songs], trained, n_jobs=n_jobs, on_result=writer.write,
                               progress=sys.stderr.isatty())
    return report, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, type=Path, help="trained .keras model (e.g. the default CNN)")
    parser.add_argument("--songs", type=Path, help="folder of audio (default: synthetic clips written into --work)")
    parser.add_argument("--clips-per-genre", type=int, default=100, help="synthetic clips per genre (default 100)")
    parser.add_argument("--work", type=Path, default=None, help="folder for generated audio (default: a temp folder)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the parallel run (default 2)")
    parser.add_argument("--skip-serial", action="store_true", help="only the parallel run")
    parser.add_argument("--skip-folder", action="store_true", help="only the memory of the long file")
    parser.add_argument("--long-minutes", type=float, default=60.0, help="length of the long file (default 60)")
    args = parser.parse_args(argv)

    from mgc_helpers.models.model_files import load_model

    with tempfile.TemporaryDirectory(prefix="mgc-bench-predict-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        songs = args.songs
        if songs is None:
            from mgc_helpers.data.synth.dataset import generate_dataset

            songs = work / f"synthetic-{args.clips_per_genre}x30s-seed0"
            start = time.perf_counter()
            generate_dataset(songs, clips_per_genre=args.clips_per_genre, seed=0, progress=True)
            print(f"songs: {songs} ready in {time.perf_counter() - start:.0f} s (written once, then reused)")
        trained = load_model(args.model, engine="numpy")  # as `mgc predict` runs it
        print(f"model: {args.model} ({trained.describe()}); {os.cpu_count()} CPU(s), "
              f"load average before: {os.getloadavg()[0]:.1f}")

        runs = {}
        for jobs in [] if args.skip_folder else ([] if args.skip_serial else [1]) + [args.jobs]:
            report, wall = run_folder(songs, trained, n_jobs=jobs, out=work / f"report-{jobs}.jsonl")
            runs[jobs] = report
            audio = report.audio_seconds
            print(f"folder, {jobs} worker(s): {len(report.predictions)} files ({audio / 3600:.2f} h of audio), "
                  f"{len(report.skipped)} skipped, {wall:.1f} s wall -> {audio / wall:,.0f} s of audio per second "
                  f"({wall / max(1, len(report.predictions)) * 1000:.1f} ms per file); load average "
                  f"{os.getloadavg()[0]:.1f}")
        if len(runs) == 2:
            a, b = runs.values()
            same = all(np.array_equal(p.segment_probabilities, q.segment_probabilities)
                       for p, q in zip(a.predictions, b.predictions, strict=True))
            print(f"1 worker and {args.jobs} workers give the same bits: {same}")

        clips = sorted(songs.rglob("*.wav"))
        long = work / f"long-{args.long_minutes:g}min.wav"
        if not long.exists():
            write_long_file(long, clips, args.long_minutes)
        for engine in ("numpy", "keras"):  # `mgc predict`'s default, and `--engine keras`
            only_model = child("load", args.model, "", engine)
            short = child("predict", args.model, clips[0], engine)
            big = child("predict", args.model, long, engine)
            print(f"memory, engine {engine} (peak RSS of a child process; TensorFlow imported: "
                  f"{big['tensorflow_imported']}): model loaded only {only_model['peak_mb']:.0f} MB; one 30-s clip "
                  f"{short['peak_mb']:.0f} MB; a {big['duration'] / 60:.0f}-minute stereo 44.1-kHz file "
                  f"{big['peak_mb']:.0f} MB ({big['n_segments']} segments in {big['seconds']:.1f} s, "
                  f"{big['duration'] / big['seconds']:.0f}x real time); the long file adds "
                  f"{big['peak_mb'] - short['peak_mb']:+.0f} MB (decoded whole it would be "
                  f"{big['duration'] * 44100 * 2 * 4 / 2**20:.0f} MB as float32)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
