"""``mgc similar``: the tracks of a folder most similar to one song."""
from __future__ import annotations

import argparse
import json
import sys
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..beyond.embedders import Embedder


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "similar", help="list the tracks of a folder most similar to a song",
        description="Embed every audio file of a folder (recursively) and the query song, and list the "
                    "library's tracks closest to the query by cosine similarity. 'cnn' uses a trained "
                    "model's penultimate layer averaged over 3-second segments; 'mfcc' uses MFCC "
                    "statistics (no model needed); 'musicnn' uses the penultimate layer of musicnn, a "
                    "tagger pretrained on the Million Song Dataset (shipped with the package). Library "
                    "embeddings are cached in $MGC_CACHE_DIR (default data/cache of the project), never in "
                    "the music folder; only new or changed files are embedded again.")
    parser.add_argument("query", type=Path, metavar="QUERY", help="the audio file to find similar tracks for")
    parser.add_argument("--library", type=Path, required=True, metavar="FOLDER",
                        help="folder of audio files to search (recursively)")
    parser.add_argument("--k", type=int, default=10, help="how many tracks to list (default 10)")
    parser.add_argument("--embedding", choices=("cnn", "mfcc", "musicnn"), default="cnn",
                        help="'cnn' (a trained model's penultimate layer, default), 'mfcc' (MFCC statistics) or "
                             "'musicnn' (the pretrained musicnn tagger's 200-d penultimate layer)")
    parser.add_argument("--model", type=Path, default=None,
                        help="trained model for --embedding cnn (.keras, with its .json beside it); default: "
                             "the one the last `mgc reproduce` saved under results/")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the library cache")
    parser.set_defaults(func=run)


def _embedder(args: argparse.Namespace) -> Embedder:
    """The embedder ``--embedding`` asks for; a model is loaded only if an audio file needs embedding."""
    from ..beyond.embedders import MfccStatsEmbedder
    from .common import CommandError

    if args.embedding in ("mfcc", "musicnn"):
        if args.model is not None:
            print(f"note: --model is not used by --embedding {args.embedding}", file=sys.stderr)
        if args.embedding == "mfcc":
            return MfccStatsEmbedder()
        from ..beyond.embedders import MusicnnEmbedder

        return MusicnnEmbedder()
    from ..predict.classifier import default_model_path

    try:
        model_path = args.model if args.model is not None else default_model_path()
    except FileNotFoundError as exc:
        raise CommandError(f"{exc} (or use --embedding mfcc or musicnn, which need no trained model)") from None
    if Path(model_path).is_file() and not zipfile.is_zipfile(model_path):
        raise CommandError(f"cannot load model {model_path}: not a .keras archive (a zip file)")
    from ..beyond.embedders import ModelLoadError, SavedModelEmbedder

    try:
        embedder = SavedModelEmbedder(model_path)
    except (FileNotFoundError, ModelLoadError) as exc:
        raise CommandError(str(exc)) from None
    note = "" if embedder.model_name == "cnn" else "; not a CNN, its penultimate layer is used all the same"
    print(f"model: {model_path} ({embedder.model_name}{note})", file=sys.stderr)
    return embedder


def run(args: argparse.Namespace) -> int:
    from ..beyond.library import build_library, find_similar
    from ..signal.audio import AudioError
    from .common import CommandError

    if args.k < 1:
        raise CommandError(f"--k must be at least 1, got {args.k}")
    if not args.library.exists():
        raise CommandError(f"library {args.library}: no such folder")
    if not args.library.is_dir():
        raise CommandError(f"library {args.library} is not a folder")
    if not args.query.exists():
        raise CommandError(f"cannot use query {args.query}: no such file or folder")
    if args.query.is_dir():
        raise CommandError(f"cannot use query {args.query}: is a folder; give one audio file")
    embedder = _embedder(args)
    try:
        library = build_library(args.library, embedder, cache=not args.no_cache,
                                progress=(lambda msg: print(f"embedding {msg}", file=sys.stderr))
                                if sys.stderr.isatty() else False)
    except (FileNotFoundError, ValueError) as exc:  # ModelLoadError is a ValueError
        raise CommandError(str(exc)) from None
    info = library.info
    print(f"library: {len(library)} track(s) in {args.library} ({len(library.skipped)} skipped; cache "
          f"{info['cache']}: {info['reused']} reused, {info['computed']} embedded, {info['seconds'] * 1000:.0f} ms)",
          file=sys.stderr)
    start = time.perf_counter()
    try:
        result = find_similar(args.query, library, embedder, k=args.k)
    except AudioError as exc:
        raise CommandError(f"cannot use query {exc.path or args.query}: {exc.reason}") from None
    except ValueError as exc:  # ModelLoadError included
        raise CommandError(str(exc)) from None
    if args.format == "json":
        data = result.to_dict()
        data["skipped"] = [{"path": str(s.path), "reason": s.reason} for s in library.skipped]
        print(json.dumps(data, indent=2))
    else:
        print(result.format())
        for s in library.skipped:
            print(f"skipped {s.path}: {s.reason}")
    print(f"query: {(time.perf_counter() - start) * 1000:.0f} ms", file=sys.stderr)
    return 0
