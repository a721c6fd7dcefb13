"""Benchmark of the synthetic dataset generator: speed and difficulty.

1. speed: renders ``--speed-clips`` clips in this one process and reports the real-time factor
   per core (CPU time, so other load on the machine matters less);
2. difficulty: generates a dataset (``--clips-per-genre`` clips per genre, into ``--data-dir`` or a
   temporary folder), computes per 3-s segment the mean and standard deviation of 13 MFCCs
   (n_fft 2048, hop 512, librosa), and fits StandardScaler + LogisticRegression on segments under
   an artist-disjoint split (StratifiedGroupKFold on the artist column, every fold) and, for
   comparison, a track-disjoint split. Track accuracy averages the class probabilities of a
   track's segments. The generator's target: artist-split track accuracy at most 0.90 and well
   above chance (0.10);
3. ``--cnn``: trains the paper's CNN (``mgc_helpers.models.networks.build_cnn``, if present) for a few
   epochs on the first artist-disjoint fold.

Run ``python benchmarks/bench_synth.py --help``. Figures are printed as a small table.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from mgc_helpers.core.config import GENRES, PAPER_CONFIG


def speed(n_clips: int, duration: float, seed: int) -> dict[str, float]:
    """Render clips one after the other in this process; CPU seconds and real-time factor."""
    from mgc_helpers.data.synth.dataset import artist_for_clip, clip_seed
    from mgc_helpers.data.synth.render import render_clip

    render_clip("rock", artist="rock_a1", seed=0, duration=1.0)  # imports and caches
    keys = [(GENRES[i % len(GENRES)], i // len(GENRES)) for i in range(n_clips)]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for genre, index in keys:
        y = render_clip(genre, artist=artist_for_clip(genre, index, seed=seed),
                        seed=clip_seed(seed, genre, index), duration=duration)
        assert np.all(np.isfinite(y))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    audio = n_clips * duration
    return {"clips": n_clips, "cpu_s_per_clip": cpu / n_clips, "wall_s_per_clip": wall / n_clips,
            "rtf_per_core": audio / cpu, "rtf_wall": audio / wall}


def _segment_features(path: str, config=PAPER_CONFIG) -> tuple[np.ndarray, np.ndarray]:
    """Mean+std of MFCCs per segment (k, 26) and the MFCC matrices (k, 130, 13)."""
    import librosa

    from mgc_helpers.signal.audio import load_audio, segment_signal

    y, sr = load_audio(path, sr=config.sample_rate)
    segs = segment_signal(y, config=config)
    stats, mats = [], []
    for seg in segs:
        m = librosa.feature.mfcc(y=seg, sr=sr, n_mfcc=config.n_mfcc, n_fft=config.n_fft,
                                 hop_length=config.hop_length).T
        stats.append(np.concatenate([m.mean(axis=0), m.std(axis=0)]))
        mats.append(m)
    return np.array(stats, dtype=np.float32), np.array(mats, dtype=np.float32)


def features(root: Path, meta, n_jobs: int):
    from joblib import Parallel, delayed

    out = Parallel(n_jobs=n_jobs)(delayed(_segment_features)(str(root / p)) for p in meta["path"])
    rows = np.concatenate([np.full(len(s), i) for i, (s, _) in enumerate(out)])
    X = np.concatenate([s for s, _ in out])
    M = np.concatenate([m for _, m in out])
    return X, M, rows


def _track_accuracy(proba: np.ndarray, rows: np.ndarray, y_track: np.ndarray) -> float:
    tracks = np.unique(rows)
    mean = np.array([proba[rows == t].mean(axis=0) for t in tracks])
    return float(np.mean(mean.argmax(axis=1) == y_track[tracks]))


def difficulty(X, rows, meta, *, seed: int, n_folds: int) -> dict[str, tuple[float, float]]:
    """Logistic regression on segment statistics under artist- and track-disjoint folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = {g: i for i, g in enumerate(GENRES)}
    y_track = meta["genre"].map(labels).to_numpy()
    y = y_track[rows]
    results: dict[str, tuple[float, float]] = {}
    splitters = {
        "artist": StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(
            np.zeros(len(meta)), y_track, groups=meta["artist"].to_numpy()),
        "track": StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(
            np.zeros(len(meta)), y_track),
    }
    for name, folds in splitters.items():
        seg_acc, trk_acc = [], []
        for train_t, test_t in folds:
            train, test = np.isin(rows, train_t), np.isin(rows, test_t)
            model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X[train], y[train])
            proba = model.predict_proba(X[test])
            seg_acc.append(float(np.mean(proba.argmax(axis=1) == y[test])))
            trk_acc.append(_track_accuracy(proba, rows[test], y_track))
        results[f"logreg {name} split: segment acc"] = (np.mean(seg_acc), np.std(seg_acc))
        results[f"logreg {name} split: track acc"] = (np.mean(trk_acc), np.std(trk_acc))
    return results


def cnn(M, rows, meta, *, seed: int, epochs: int) -> dict[str, tuple[float, float]] | None:
    """The paper's CNN on the first artist-disjoint fold (None if the model is not available)."""
    try:
        from mgc_helpers.models.networks import build_cnn
    except ImportError as exc:
        print(f"--cnn: mgc_helpers.models.networks.build_cnn is not available yet ({exc}); skipped")
        return None
    import keras
    from sklearn.model_selection import StratifiedGroupKFold

    keras.utils.set_random_seed(seed)
    labels = {g: i for i, g in enumerate(GENRES)}
    y_track = meta["genre"].map(labels).to_numpy()
    y = y_track[rows]
    train_t, test_t = next(StratifiedGroupKFold(n_splits=4, shuffle=True, random_state=seed).split(
        np.zeros(len(meta)), y_track, groups=meta["artist"].to_numpy()))
    train, test = np.isin(rows, train_t), np.isin(rows, test_t)
    model = build_cnn(input_shape=(*M.shape[1:], 1), n_classes=len(GENRES))
    model.fit(M[train][..., None], y[train], epochs=epochs, batch_size=32, verbose=0)
    proba = np.asarray(model.predict(M[test][..., None], verbose=0))
    return {"cnn artist split: segment acc": (float(np.mean(proba.argmax(axis=1) == y[test])), 0.0),
            "cnn artist split: track acc": (_track_accuracy(proba, rows[test], y_track), 0.0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speed-clips", type=int, default=20, help="clips rendered for the speed test (0: skip)")
    parser.add_argument("--speed-duration", type=float, default=30.0, help="clip length of the speed test (s)")
    parser.add_argument("--clips-per-genre", type=int, default=30,
                        help="dataset size for the difficulty test (0: skip)")
    parser.add_argument("--duration", type=float, default=30.0, help="clip length of the dataset (s)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where to write the dataset (default: a temporary folder, removed afterwards)")
    parser.add_argument("--seed", type=int, default=0, help="dataset and split seed")
    parser.add_argument("--folds", type=int, default=4, help="folds of the cross-validation")
    parser.add_argument("--jobs", type=int, default=None, help="processes for generation and MFCCs")
    parser.add_argument("--cnn", action="store_true", help="also train the paper's CNN (if available)")
    parser.add_argument("--epochs", type=int, default=8, help="CNN epochs")
    args = parser.parse_args(argv)
    jobs = args.jobs or os.cpu_count() or 1
    figures: dict[str, tuple[float, float] | float] = {}

    if args.speed_clips > 0:
        s = speed(args.speed_clips, args.speed_duration, args.seed)
        figures["speed: CPU s per 30-s clip"] = s["cpu_s_per_clip"] * 30.0 / args.speed_duration
        figures["speed: real-time factor per core"] = s["rtf_per_core"]
        figures["speed: real-time factor (wall, 1 process)"] = s["rtf_wall"]

    if args.clips_per_genre > 0:
        from mgc_helpers.data.synth.dataset import generate_dataset, synthetic_dir

        with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
            base = args.data_dir or Path(tmp)
            root = synthetic_dir(base, clips_per_genre=args.clips_per_genre, seed=args.seed,
                                 duration=args.duration)
            t0 = time.perf_counter()
            meta = generate_dataset(root, clips_per_genre=args.clips_per_genre, duration=args.duration,
                                    seed=args.seed, n_jobs=jobs)
            stats = meta.attrs["synth"]
            figures[f"generate: seconds ({stats['written']} written, {jobs} processes)"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            X, M, rows = features(root, meta, jobs)
            figures["MFCC extraction: seconds"] = time.perf_counter() - t0
            figures.update(difficulty(X, rows, meta, seed=args.seed, n_folds=args.folds))
            if args.cnn:
                res = cnn(M, rows, meta, seed=args.seed, epochs=args.epochs)
                if res:
                    figures.update(res)
        figures["chance"] = 1.0 / len(GENRES)

    width = max(len(k) for k in figures)
    print(f"\n{'figure':<{width}}  value")
    print("-" * (width + 16))
    for name, value in figures.items():
        if isinstance(value, tuple):
            print(f"{name:<{width}}  {value[0]:.3f} +- {value[1]:.3f}")
        else:
            print(f"{name:<{width}}  {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
