"""Benchmark: the project's MFCC pipeline against a naive loop in the style of the paper's code.

Both run in this process tree on the same GTZAN-sized dataset (by default the synthetic one with
100 clips of 30 s per genre, generated once and reused; ``--data`` points at any dataset folder):

* **pipeline**: :func:`mgc_helpers.data.features.extract_features` with a fresh cache folder (processes,
  one BLAS thread each, chunked, cache written), then the cached re-run (listing the dataset and
  reading the cache);
* **naive loop**: file by file, segment by segment, ``librosa.load`` + ``librosa.feature.mfcc``
  with default threads, MFCCs appended to Python lists and dumped as JSON, as in the paper's
  tutorial code.

Printed: real-time factor (seconds of audio per second of computing), speed-up, cached re-run time
and peak memory (``resource.getrusage`` for this process and its finished children). Figures depend
on the machine and its load; run it on an otherwise idle machine.

Usage::

    python benchmarks/bench_features.py                       # 1000 x 30 s synthetic clips
    python benchmarks/bench_features.py --clips-per-genre 20  # smaller
    python benchmarks/bench_features.py --data data/gtzan --naive-tracks 200
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def peak_mb(who: int) -> float:
    """Peak resident memory in MB (Linux reports kB; macOS bytes)."""
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024 ** 2
    return resource.getrusage(who).ru_maxrss * scale


def naive_loop(tracks, genres, json_path: Path, *, sr: int = 22050, n_mfcc: int = 13, n_fft: int = 2048,
               hop_length: int = 512, num_segments: int = 10, duration: float = 30.0) -> tuple[float, float, int]:
    """The paper's tutorial ``save_mfcc``: returns (extraction seconds, JSON seconds, segments)."""
    import librosa

    data = {"mapping": list(genres), "labels": [], "mfcc": []}
    samples_per_segment = int(sr * duration / num_segments)
    expected = int(np.ceil(samples_per_segment / hop_length))
    start = time.perf_counter()
    for track in tracks:
        signal, sample_rate = librosa.load(track.path, sr=sr)
        for d in range(num_segments):
            begin = samples_per_segment * d
            finish = begin + samples_per_segment
            mfcc = librosa.feature.mfcc(y=signal[begin:finish], sr=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft,
                                        hop_length=hop_length).T
            if len(mfcc) == expected:
                data["mfcc"].append(mfcc.tolist())
                data["labels"].append(genres.index(track.genre))
    extract_s = time.perf_counter() - start
    start = time.perf_counter()
    with open(json_path, "w") as f:
        json.dump(data, f, indent=4)
    return extract_s, time.perf_counter() - start, len(data["labels"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="dataset folder (default: generate/reuse the synthetic one)")
    parser.add_argument("--data-dir", help="where the synthetic dataset is kept (default: the project's data/)")
    parser.add_argument("--clips-per-genre", type=int, default=100, help="synthetic clips per genre (default 100)")
    parser.add_argument("--jobs", type=int, default=None, help="pipeline worker processes (default: all CPUs)")
    parser.add_argument("--naive-tracks", type=int, default=None,
                        help="time the naive loop on this many tracks only and scale up (default: all)")
    parser.add_argument("--skip-naive", action="store_true", help="only time the pipeline")
    args = parser.parse_args(argv)

    from joblib import cpu_count

    from mgc_helpers.core import paths
    from mgc_helpers.data.datasets import load_dataset
    from mgc_helpers.data.features import extract_features

    if args.data:
        root = Path(args.data)
    else:
        from mgc_helpers.data.synth.dataset import generate_dataset, synthetic_dir

        root = synthetic_dir(paths.data_dir(args.data_dir), clips_per_genre=args.clips_per_genre, seed=0)
        start = time.perf_counter()
        generate_dataset(root, clips_per_genre=args.clips_per_genre, seed=0, progress=True)
        print(f"synthetic dataset {root}: ready in {time.perf_counter() - start:.1f} s (generated once, then reused)")
    dataset = load_dataset(root)
    audio_s = len(dataset.tracks) * 30.0
    jobs = args.jobs or cpu_count()
    print(f"{len(dataset.tracks)} tracks ({audio_s / 3600:.2f} h of audio), {jobs} worker(s) on "
          f"{os.cpu_count()} CPU(s) visible; load average before: {os.getloadavg()[0]:.1f}")
    base_mb = peak_mb(resource.RUSAGE_SELF)

    with tempfile.TemporaryDirectory(prefix="mgc-bench-") as tmp:
        cache = Path(tmp) / "cache"
        start = time.perf_counter()
        segments = extract_features(dataset, cache_dir=cache, n_jobs=jobs)
        cold_s = time.perf_counter() - start
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)  # so that the workers' peak memory is counted
        pipeline_self_mb = peak_mb(resource.RUSAGE_SELF)
        children_mb = peak_mb(resource.RUSAGE_CHILDREN)
        cache_mb = sum(p.stat().st_size for p in cache.glob("*.npz")) / 1e6

        start = time.perf_counter()
        again = extract_features(load_dataset(root), cache_dir=cache, n_jobs=jobs)
        warm_s = time.perf_counter() - start
        assert again.info["cache"] == "hit" and np.array_equal(again.X, segments.X)

        print("\npipeline (mgc_helpers.data.features.extract_features)")
        print(f"  segments:              {len(segments)} x {segments.X.shape[1:]} "
              f"({len(segments.skipped)} files skipped, {len(segments.warnings)} warnings)")
        print(f"  first run:             {cold_s:.1f} s  -> {audio_s / cold_s:,.0f}x real time")
        print(f"  cached re-run:         {warm_s:.2f} s (listing the dataset + reading the cache)")
        print(f"  cache file:            {cache_mb:.1f} MB (.npz, float32)")
        print(f"  peak memory:           this process {pipeline_self_mb:.0f} MB (of which {base_mb:.0f} MB "
              f"before extracting), largest worker {children_mb:.0f} MB")
        print(f"  load average after:    {os.getloadavg()[0]:.1f}")

        if args.skip_naive:
            return 0
        tracks = dataset.tracks
        if args.naive_tracks and args.naive_tracks < len(tracks):
            rng = np.random.default_rng(0)
            tracks = [tracks[i] for i in sorted(rng.choice(len(tracks), args.naive_tracks, replace=False))]
        scale = len(dataset.tracks) / len(tracks)
        extract_s, json_s, n_naive = naive_loop(tracks, list(dataset.genres), Path(tmp) / "data.json")
        json_mb = (Path(tmp) / "data.json").stat().st_size / 1e6
        naive_mb = peak_mb(resource.RUSAGE_SELF)
        naive_total = (extract_s + json_s) * scale
        note = f" (timed on {len(tracks)} tracks, scaled x{scale:.2f})" if scale != 1 else ""
        print(f"\nnaive loop (paper's tutorial style, one process, default threads){note}")
        print(f"  extraction:            {extract_s * scale:.1f} s  -> {audio_s / (extract_s * scale):,.0f}x real time")
        print(f"  JSON dump:             {json_s * scale:.1f} s  ({json_mb * scale:.0f} MB file)")
        print(f"  segments:              {int(round(n_naive * scale))}")
        print(f"  peak memory:           {naive_mb:.0f} MB (this process; the lists grow with the dataset)")
        print(f"  load average after:    {os.getloadavg()[0]:.1f} (other processes slow both runs unevenly)")
        print("\nspeed-up of the pipeline's first run over the naive loop")
        print(f"  extraction only:       {extract_s * scale / cold_s:.1f}x")
        print(f"  including JSON output: {naive_total / cold_s:.1f}x")
        print(f"  cached re-run:         {naive_total / warm_s:,.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
