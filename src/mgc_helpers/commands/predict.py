"""``mgc predict``: the top genres of your own audio files."""
from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .common import positive_int

if TYPE_CHECKING:  # pragma: no cover
    from ..predict.classifier import Classifier
    from ..predict.report import PredictionReport


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict", help="classify your own audio files with a trained model",
        description="Print the most probable genres of each audio file (WAV, FLAC, OGG, AU, and MP3 where "
                    "libsndfile decodes it; any sample rate, channels and length of at least 3 s). Folders "
                    "are searched recursively. Probabilities are the mean of the model's softmax over the "
                    "song's 3-second segments.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="audio files or folders")
    parser.add_argument("--model", type=Path, default=None,
                        help="trained model (.keras, with its .json beside it); default: the default profile's "
                             "CNN, results/default/models/cnn.keras (made by `mgc reproduce`). `--model musicnn`: "
                             "the pretrained musicnn tagger (Million Song Dataset tags, zero-shot genre; see "
                             "mgc_helpers.beyond.zeroshot). `--model PATH.npz`: a linear probe on musicnn's embedding, "
                             "saved by chapter 13 as results/<run>/models/musicnn_probe.npz")
    parser.add_argument("--engine", choices=("numpy", "keras"), default=None,
                        help="what runs a trained .keras model: numpy (default; the same weights and equations "
                             "without importing TensorFlow, so a long recording needs little memory; see "
                             "mgc_helpers.models.inference) or keras (TensorFlow). musicnn always runs in Keras "
                             "and a probe in NumPy")
    parser.add_argument("--top", type=int, default=3, help="how many genres to show per track (default 3)")
    parser.add_argument("--segments", action="store_true",
                        help="also show each 3-second segment's genre, and the track's thumbnail (the segment "
                             "most sure of the track's genre)")
    parser.add_argument("--format", choices=("text", "json", "csv", "jsonl"), default="text",
                        help="output format (jsonl: one JSON object per file)")
    parser.add_argument("--output", "-o", type=Path, default=None,
                        help="write to this file instead of stdout; csv and jsonl reports are written file by file "
                             "as results come, and a rerun with the same output resumes (files already in it are "
                             "not redone)")
    parser.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                        help="worker processes that decode the files and run the model's front end (MFCCs, or "
                             "musicnn) (default 1: this process)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="use a dask.distributed cluster for decoding and the front end: its scheduler "
                             "address, or `local` for a local cluster of --jobs worker processes (the workers must "
                             "see the files; the classifier runs here)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Every model the same way: load it as a classifier, then one :func:`~mgc_helpers.predict.run.predict_paths`."""
    from ..predict.report import format_report
    from .common import CommandError, write_report

    if args.top < 1:
        raise CommandError(f"--top must be at least 1, got {args.top}")
    classifier, model_path, why = load_classifier(args.model, engine=args.engine)
    print(f"model: {model_path} ({why})\n       {classifier.describe()}, {len(classifier.genres)} genres",
          file=sys.stderr)
    caveat = classifier.caveat()
    if caveat:
        print(f"note: {caveat}", file=sys.stderr)
    report = _predict_streamed(args, classifier)
    report.model_path = str(model_path)
    if args.output is not None and args.format in ("csv", "jsonl"):  # already written file by file
        print(f"wrote {args.output}", file=sys.stderr)
        print(report.summary(), file=sys.stderr)
        return 0 if report.predictions or report.already_done else 1
    text = format_report(report, fmt=args.format, top=args.top, segments=args.segments)
    write_report(text, args.output, summary=report.summary() if args.format != "text" else None)
    return 0 if report.predictions else 1


def load_classifier(model: Path | None, *, engine: str | None = None) -> tuple[Classifier, str, str]:
    """The classifier ``--model`` names, where it comes from and why: ``(classifier, path, why)``.

    ``None``: the default profile's CNN; ``musicnn``: musicnn's zero-shot genres
    (:class:`~mgc_helpers.beyond.zeroshot.ZeroShotModel`); ``PATH.npz``: a probe of 13_transfer
    (:class:`~mgc_helpers.beyond.transfer.ProbeModel`); any other path: a trained ``.keras`` model of
    the book, run by ``engine`` (NumPy unless ``"keras"``).

    Raises
    ------
    CommandError
        If the model cannot be loaded (the message names the file and the reason), or ``engine`` is
        given for a model it does not apply to.
    """
    import zipfile

    from ..beyond.transfer import ProbeFileError, load_probe
    from ..beyond.zeroshot import ZeroShotModel
    from ..models.inference import UnsupportedModelError
    from ..models.model_files import FeatureConfigMismatchError, load_model
    from ..predict.classifier import ModelClassifier, default_model_path
    from .common import CommandError

    if model is not None and (str(model) == "musicnn" or Path(model).suffix.lower() == ".npz") and engine:
        raise CommandError(f"--engine applies to a trained .keras model, not to {model} "
                           "(musicnn always runs in Keras, a probe in NumPy)")
    if model is not None and str(model) == "musicnn":  # the pretrained tagger, zero-shot
        return ZeroShotModel(), "musicnn", "the pretrained tagger, given with --model"
    if model is not None and Path(model).suffix.lower() == ".npz":  # a probe of 13_transfer
        try:
            return load_probe(model), str(model), "given with --model"
        except (FileNotFoundError, ProbeFileError) as exc:
            raise CommandError(f"cannot load model {model}: {exc}") from None
    try:
        model_path = model if model is not None else default_model_path()
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None
    why = "given with --model" if model is not None else "the default: the default profile's CNN"
    if Path(model_path).is_file() and not zipfile.is_zipfile(model_path):
        raise CommandError(f"cannot load model {model_path}: not a .keras archive (a zip file)")
    engine = engine or "numpy"
    try:
        trained = load_model(model_path, engine=engine)
    except (FileNotFoundError, FeatureConfigMismatchError, UnsupportedModelError) as exc:
        raise CommandError(str(exc)) from None
    except Exception as exc:  # a damaged archive, a model of another Keras...
        raise CommandError(f"cannot load model {model_path}: {type(exc).__name__}: {exc}") from None
    return ModelClassifier(trained), str(model_path), f"{why}; run by {'NumPy' if engine == 'numpy' else 'Keras'}"


def _predict_streamed(args: argparse.Namespace, classifier: Classifier) -> PredictionReport:
    """predict_paths with the chosen workers; csv/jsonl to --output file by file, resuming a partial one."""
    from ..predict.report import StreamingWriter
    from ..predict.run import predict_paths
    from .common import CommandError
    from .extract import dask_client

    writer = None
    if args.output is not None and args.format in ("csv", "jsonl"):
        try:
            writer = StreamingWriter(args.output, fmt=args.format, top=args.top, segments=args.segments,
                                     model=classifier.describe())
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot write {args.output}: {exc}") from None
        if writer.done:
            print(f"resuming: {len(writer.done)} file(s) already in {args.output} are not redone", file=sys.stderr)
    backend = "dask" if args.scheduler else "loky"
    context = dask_client(args.scheduler, args.jobs) if args.scheduler else contextlib.nullcontext()
    with writer if writer is not None else contextlib.nullcontext(), context:
        try:
            return predict_paths(args.paths, classifier, progress=not args.no_progress and sys.stderr.isatty(),
                                 n_jobs=args.jobs, backend=backend, done=writer.done if writer else (),
                                 on_result=writer.write if writer else None)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            if writer is not None:
                print(f"interrupted: what was finished is in {args.output}; the same command resumes it",
                      file=sys.stderr)
            raise
