#!/usr/bin/env python
"""Rebuild musicnn's shipped weights from the ``musicnn`` 0.1.0 wheel, and the test's reference outputs.

Usage::

    python scripts/musicnn_convert.py                       # download the wheel with pip, convert
    python scripts/musicnn_convert.py --wheel musicnn-0.1.0-py3-none-any.whl
    python scripts/musicnn_convert.py --wheel W --reference tests/data/musicnn_reference.npz

Weights: the wheel's ``musicnn/MSD_musicnn/`` TensorFlow 1 checkpoint is read by variable name
(``tf.compat.v1.train.NewCheckpointReader`` on the folder with a trailing slash: the
``checkpoint`` file inside points to the author's disk), renamed to the Keras layers of
:func:`mgc_helpers.beyond.musicnn.build_model` and written as float32 arrays to an uncompressed ``.npz``
with fixed zip timestamps, so the same wheel always gives the same bytes. The wheel's SHA-256 is
checked against ``provenance.json`` first (``--trust-new-wheel`` to accept another one), and
``provenance.json`` is rewritten with the wheel, the checkpoint folder, the date and this script.

Reference outputs (``--reference``): the ORIGINAL graph, imported from the checkpoint's ``.meta``
file (training nodes stripped) and run by ``tf.compat.v1.Session``, tags a few sounds that
``tests/test_musicnn.py`` can regenerate from the recipes stored beside the outputs. The
pre-processing here is written independently of the port, after musicnn's ``extractor.py``
(librosa's ``melspectrogram`` with reflect padding, log in float32 instead of float16, the
original's patch loop, musicnn's training "repeat-pad" for clips shorter than a patch).

Needs TensorFlow (for the checkpoint and the graph) and pip (to download); the package itself
needs neither the wheel nor this script at run time.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mgc_helpers.beyond import musicnn  # noqa: E402

RESOURCES = ROOT / "src" / "mgc_helpers" / "resources" / "musicnn"
WHEEL_NAME = "musicnn-0.1.0-py3-none-any.whl"
PACKAGE, VERSION = "musicnn", "0.1.0"
CHECKPOINT_FOLDER = "musicnn/MSD_musicnn/"
REFERENCE = ROOT / "tests" / "data" / "musicnn_reference.npz"

#: Keras layer of the port -> variable scope in the checkpoint.
LAYER_SCOPES: dict[str, str] = {
    "input_bn": "batch_normalization",
    "timbral_74_conv": "conv2d", "timbral_74_bn": "batch_normalization_1",
    "timbral_77_conv": "conv2d_1", "timbral_77_bn": "batch_normalization_2",
    "temporal_128_conv": "conv2d_2", "temporal_128_bn": "batch_normalization_3",
    "temporal_64_conv": "conv2d_3", "temporal_64_bn": "batch_normalization_4",
    "temporal_32_conv": "conv2d_4", "temporal_32_bn": "batch_normalization_5",
    "midend_1_conv": "conv2d_5", "midend_1_bn": "batch_normalization_6",
    "midend_2_conv": "conv2d_6", "midend_2_bn": "batch_normalization_7",
    "midend_3_conv": "conv2d_7", "midend_3_bn": "batch_normalization_8",
    "pool_bn": "batch_normalization_9",
    "penultimate_dense": "dense", "penultimate": "batch_normalization_10",
    "tags": "dense_1",
}

#: Tensors of the original graph: input patches, is-training flag, tag probabilities, penultimate.
GRAPH_INPUT = "model/Placeholder:0"
GRAPH_TRAINING = "model/Placeholder_2:0"
GRAPH_TAGS = "model/Sigmoid:0"
GRAPH_PENULTIMATE = "model/batch_normalization_10/batchnorm/add_1:0"

#: Sounds of the reference outputs: name -> (module, function, keyword arguments, sample rate).
RECIPES: dict[str, dict] = {
    "drum_and_bass": {"module": "mgc_helpers.signal.sounds", "function": "drum_and_bass_loop",
                      "kwargs": {"tempo": 100.0, "bars": 4, "seed": 0, "sr": 22050}, "sr": 22050},
    "pure_tone": {"module": "mgc_helpers.signal.sounds", "function": "pure_tone",
                  "kwargs": {"freq": 440.0, "duration": 4.0, "sr": 16000}, "sr": 16000},
    "short_tone": {"module": "mgc_helpers.signal.sounds", "function": "pure_tone",
                   "kwargs": {"freq": "C4", "duration": 1.5, "sr": 16000}, "sr": 16000},
    "loud_noise": {"module": "mgc_helpers.signal.sounds", "function": "noise",
                   "kwargs": {"duration": 3.5, "sr": 16000, "amplitude": 1.0, "seed": 3}, "sr": 16000},
    "rock_clip": {"module": "mgc_helpers.data.synth.render", "function": "render_clip",
                  "kwargs": {"genre": "rock", "artist": "rock_a1", "seed": 0, "duration": 30.0, "sr": 22050},
                  "sr": 22050},
}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def get_wheel(wheel: str | None, work: Path) -> Path:
    if wheel is not None:
        path = Path(wheel).expanduser()
        if not path.is_file():
            sys.exit(f"musicnn_convert: {path}: no such wheel")
        return path
    print(f"downloading {PACKAGE}=={VERSION} with pip ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                    f"{PACKAGE}=={VERSION}", "-d", str(work)], check=True)
    found = sorted(work.glob("musicnn-*.whl"))
    if not found:
        sys.exit("musicnn_convert: pip downloaded no musicnn wheel")
    return found[0]


def check_wheel(path: Path, *, trust_new: bool) -> str:
    digest = sha256(path)
    prov = RESOURCES / "provenance.json"
    if prov.is_file():
        expected = json.loads(prov.read_text())["wheel"]["sha256"]
        if digest != expected and not trust_new:
            sys.exit(f"musicnn_convert: {path} has sha256 {digest}, provenance.json expects {expected} "
                     f"(pass --trust-new-wheel to convert it anyway)")
    return digest


def extract_checkpoint(wheel: Path, work: Path) -> Path:
    with zipfile.ZipFile(wheel) as zf:
        members = [m for m in zf.namelist() if m.startswith(CHECKPOINT_FOLDER)]
        if not members:
            sys.exit(f"musicnn_convert: {wheel} holds no {CHECKPOINT_FOLDER}")
        zf.extractall(work, members)
    return work / CHECKPOINT_FOLDER


def convert(folder: Path) -> dict[str, np.ndarray]:
    import tensorflow as tf

    reader = tf.compat.v1.train.NewCheckpointReader(str(folder).rstrip("/") + "/")
    out: dict[str, np.ndarray] = {}
    model = musicnn.build_model()
    for layer in model.layers:
        if not layer.weights:
            continue
        scope = LAYER_SCOPES[layer.name]
        is_bn = type(layer).__name__ == "BatchNormalization"
        for param, var in zip(("gamma", "beta", "moving_mean", "moving_variance") if is_bn else ("kernel", "bias"),
                              layer.weights):
            value = reader.get_tensor(f"{scope}/{param}").astype(np.float32)
            if layer.name.startswith("midend_") and param == "kernel":  # (7, C, 1, 64) conv2d -> Conv1D (7, C, 64)
                value = value[:, :, 0, :]
            if tuple(value.shape) != tuple(var.shape):
                sys.exit(f"musicnn_convert: {scope}/{param} has shape {value.shape}, {layer.name} expects {var.shape}")
            out[f"{layer.name}.{param}"] = np.ascontiguousarray(value)
    used = {f"{s}/{p}" for s in LAYER_SCOPES.values()
            for p in ("gamma", "beta", "moving_mean", "moving_variance", "kernel", "bias")}
    left = sorted(k for k in reader.get_variable_to_shape_map()
                  if k not in used and "Adam" not in k and k not in ("beta1_power", "beta2_power"))
    if left:
        sys.exit(f"musicnn_convert: checkpoint variables not converted: {left}")
    return out


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Uncompressed ``.npz`` with fixed timestamps and sorted names: same arrays, same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, buffer.getvalue())
    os.replace(tmp, path)


def write_provenance(wheel: Path, digest: str, weights: Path) -> None:
    import tensorflow as tf

    prov = {
        "model": "MSD_musicnn",
        "wheel": {"name": WHEEL_NAME, "package": PACKAGE, "version": VERSION, "sha256": digest,
                  "source": f"PyPI: pip download --no-deps {PACKAGE}=={VERSION}"},
        "checkpoint_folder": CHECKPOINT_FOLDER,
        "converted": _dt.datetime.now(_dt.UTC).date().isoformat(),
        "converter": "scripts/musicnn_convert.py",
        "converter_versions": {"tensorflow": tf.__version__, "numpy": np.__version__},
        "weights": {"file": weights.name, "sha256": sha256(weights), "dtype": "float32",
                    "layer_scopes": LAYER_SCOPES},
        "licence": "ISC (see NOTICE)",
    }
    (RESOURCES / "provenance.json").write_text(json.dumps(prov, indent=2) + "\n")


# --------------------------------------------------------------------------------------------
# Reference outputs from the original graph
# --------------------------------------------------------------------------------------------

def recipe_signal(recipe: dict) -> np.ndarray:
    import importlib

    module = importlib.import_module(recipe["module"])
    return np.asarray(getattr(module, recipe["function"])(**recipe["kwargs"]))


def original_patches(y: np.ndarray, sr: int) -> np.ndarray:
    """musicnn's extractor.batch_data on an array, log in float32, repeat-pad for short clips."""
    import librosa

    audio = librosa.resample(y, orig_sr=sr, target_sr=16000, res_type="soxr_hq") if sr != 16000 else y
    rep = librosa.feature.melspectrogram(y=audio, sr=16000, hop_length=256, n_fft=512, n_mels=96,
                                         pad_mode="reflect").T
    rep = np.log10(10000 * rep.astype(np.float32) + 1)
    n_frames = librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1
    if rep.shape[0] < n_frames:  # musicnn-training's "repeat-pad"
        src = rep
        while src.shape[0] < n_frames:
            src = np.concatenate((src, rep), axis=0)
        rep = src[:n_frames]
    batch = [rep[t: t + n_frames] for t in range(0, rep.shape[0] - n_frames + 1, n_frames)]
    return np.stack(batch).astype(np.float32)


def original_session(folder: Path):
    """The original graph from ``.meta`` (inference part and saver only) with the checkpoint restored."""
    import tensorflow as tf
    from tensorflow.core.protobuf import meta_graph_pb2

    meta = meta_graph_pb2.MetaGraphDef()
    meta.ParseFromString((folder / ".meta").read_bytes())
    keep = [GRAPH_TAGS.split(":")[0], GRAPH_PENULTIMATE.split(":")[0], meta.saver_def.restore_op_name.split(":")[0]]
    # the gradient and optimiser nodes do not import into TF 2 (inconsistent _output_shapes): drop them
    graph_def = tf.compat.v1.graph_util.extract_sub_graph(meta.graph_def, keep)
    slim = meta_graph_pb2.MetaGraphDef()
    slim.meta_info_def.CopyFrom(meta.meta_info_def)
    slim.graph_def.CopyFrom(graph_def)
    slim.saver_def.CopyFrom(meta.saver_def)
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.compat.v1.train.import_meta_graph(slim, clear_devices=True)
        session = tf.compat.v1.Session(graph=graph)
        saver.restore(session, str(folder).rstrip("/") + "/")
    return session


def make_reference(folder: Path, out: Path) -> None:
    session = original_session(folder)
    arrays: dict[str, np.ndarray] = {}
    for name, recipe in RECIPES.items():
        y = recipe_signal(recipe)
        X = original_patches(y, recipe["sr"])
        tags, emb = session.run([GRAPH_TAGS, GRAPH_PENULTIMATE], {GRAPH_INPUT: X, GRAPH_TRAINING: False})
        arrays[f"{name}.patch_tags"] = tags.astype(np.float32)
        arrays[f"{name}.patch_embeddings"] = emb.astype(np.float32)
        arrays[f"{name}.n_samples"] = np.array(len(y), dtype=np.int64)
        top = np.argsort(-tags.mean(0))[:3]
        print(f"{name}: {len(y)} samples, {len(X)} patches; top tags "
              + ", ".join(f"{musicnn.MSD_TAGS[i]} {tags.mean(0)[i]:.3f}" for i in top), file=sys.stderr)
    session.close()
    arrays["recipes"] = np.array(json.dumps(RECIPES, sort_keys=True))
    arrays["tag_names"] = np.array(musicnn.MSD_TAGS)
    write_npz(out, arrays)
    print(f"wrote {out} ({out.stat().st_size} bytes)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", default=None, help=f"path of {WHEEL_NAME} (default: download it with pip)")
    parser.add_argument("--out", type=Path, default=RESOURCES / "msd_musicnn.npz", help="weights file to write")
    parser.add_argument("--reference", type=Path, nargs="?", const=REFERENCE, default=None,
                        help=f"also write the original graph's outputs (default path {REFERENCE.relative_to(ROOT)})")
    parser.add_argument("--no-weights", action="store_true", help="only the reference outputs")
    parser.add_argument("--trust-new-wheel", action="store_true", help="accept a wheel whose sha256 differs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel = get_wheel(args.wheel, work)
        digest = check_wheel(wheel, trust_new=args.trust_new_wheel)
        folder = extract_checkpoint(wheel, work / "unpacked")
        if not args.no_weights:
            arrays = convert(folder)
            arrays["tag_names"] = np.array(musicnn.MSD_TAGS)
            write_npz(args.out, arrays)
            print(f"wrote {args.out} ({args.out.stat().st_size} bytes, sha256 {sha256(args.out)})", file=sys.stderr)
            if args.out.resolve() == (RESOURCES / "msd_musicnn.npz").resolve():
                write_provenance(wheel, digest, args.out)
        if args.reference is not None:
            make_reference(folder, args.reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
