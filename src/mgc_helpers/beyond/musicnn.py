"""musicnn, a pretrained music tagger, ported to Keras 3.

musicnn (Pons and Serra, 2019) is a convolutional network trained on the 50 most common tags of
the Million Song Dataset (MSD): genres ("rock", "jazz", "Hip-Hop"...), moods ("Mellow", "sad"),
decades ("80s") and instrumentation ("guitar", "female vocalists"). This module holds the
``MSD_musicnn`` model of the ``musicnn`` 0.1.0 package (ISC licence; notice and citation in
``resources/musicnn/NOTICE``), rebuilt as a functional Keras model with named layers, and the
analysis of signals and files. Its inference weights ship with this package as
``resources/musicnn/msd_musicnn.npz`` (3 MB, float32), converted from the package's TensorFlow 1
checkpoint by ``scripts/musicnn_convert.py``; nothing here needs TensorFlow 1 graph code, the
original package or the network.

Pipeline (as musicnn's ``extractor.py`` does it, with two repairs; steps 1-4, the model's input, are
in :mod:`mgc_helpers.beyond.musicnn_input`):

1. mono audio resampled to 16 kHz (``soxr_hq``, as :func:`librosa.load`);
2. power mel spectrogram: 512-sample Hann window, hop 256, 96 Slaney mel bands, frames centred
   with *reflect* padding (librosa's default when the model was trained; librosa 0.9 changed it);
3. log compression ``log10(10000 * S + 1)``, computed in **float32**. The original casts ``S`` to
   float16 first; with NumPy 2 the product then stays in float16 and overflows to ``inf`` for
   any loud sound (``S > 6.55``), after which every input gives the same tags;
4. non-overlapping patches of 187 frames (3 s); a tail shorter than a patch is left out, and a
   clip shorter than 3 s is repeated to fill one patch (the "repeat-pad" of musicnn's training);
5. the network gives, per patch, 50 sigmoid tag probabilities and the 200-d penultimate layer
   (after its batch normalisation), averaged over the patches by :func:`tag` and :func:`embed`.

Long files are processed block by block (:func:`analyse_file`): decoding, resampling, the
spectrogram and the network all see bounded pieces, so memory does not grow with the length.
:func:`mgc_helpers.beyond.musicnn_dataset.embed_dataset` computes the embeddings of a whole dataset (per
track and per 3-s patch), in parallel and cached.

Speed: about 1.35 GMAC per patch, 0.35 s of CPU time per 30-s clip with TensorFlow's oneDNN
kernels (the project's default, :data:`mgc_helpers.core.compute.ONEDNN`) and twice that without.
``benchmarks/bench_musicnn.py`` prints the real-time factor and the peak memory of a long file.

Checked against the original TensorFlow graph by ``tests/test_musicnn.py`` (tags and penultimate
layer within 1e-5). Explained in ``13_transfer.ipynb``.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .musicnn_input import (
    HOP_LENGTH,
    MIN_SAMPLES,
    N_MELS,
    PATCH_FRAMES,
    SR,
    LogMelStream,
    check_signal,
    log_mel_blocks,
    patches,
    resample_16k,
)

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "EMBEDDING_SIZE",
    "MSD_TAGS",
    "PATCH_SECONDS",
    "PIPELINE_VERSION",
    "SILENCE_THRESHOLD",
    "MusicnnOutput",
    "analyse",
    "analyse_file",
    "build_model",
    "embed",
    "get_model",
    "load_weights",
    "tag",
    "weights_path",
    "weights_sha256",
]

#: Nominal length of one patch, seconds.
PATCH_SECONDS: float = 3.0
#: Size of the penultimate layer.
EMBEDDING_SIZE: int = 200
#: Peak amplitude under which a signal is reported as silent.
SILENCE_THRESHOLD: float = 1e-4

#: The 50 MSD tags, in the order of the model's outputs (spelling as in musicnn).
MSD_TAGS: tuple[str, ...] = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock",
    "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill", "instrumental",
    "punk", "oldies", "blues", "hard rock", "ambient", "acoustic", "experimental", "female vocalist",
    "guitar", "Hip-Hop", "70s", "party", "country", "easy listening", "sexy", "catchy", "funk",
    "electro", "heavy metal", "Progressive rock", "60s", "rnb", "indie pop", "sad", "House", "happy",
)

#: Bumped whenever a change here changes the embeddings; part of
#: :func:`mgc_helpers.beyond.musicnn_dataset.embedding_cache_key`.
PIPELINE_VERSION = 2  # 2: the cache also keeps every patch (segment-level transfer, 13_transfer)

_RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "musicnn"
_WEIGHTS = _RESOURCES / "msd_musicnn.npz"
_BN_PARAMS = ("gamma", "beta", "moving_mean", "moving_variance")
_BN_EPSILON = 1e-3  # tf.compat.v1.layers.batch_normalization's default, which musicnn used


# --------------------------------------------------------------------------------------------
# Weights and model
# --------------------------------------------------------------------------------------------

def weights_path() -> Path:
    """The shipped weights file, ``resources/musicnn/msd_musicnn.npz``."""
    return _WEIGHTS


@lru_cache(maxsize=4)
def weights_sha256(path: str | os.PathLike | None = None) -> str:
    """SHA-256 (hex) of a weights file, by default the shipped one (part of every cache key)."""
    data = Path(path if path is not None else _WEIGHTS).read_bytes()
    return hashlib.sha256(data).hexdigest()


def load_weights(path: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """Read the converted weights: ``{"<layer>.<parameter>": float32 array}``.

    Parameters
    ----------
    path : path-like or None
        An ``.npz`` written by ``scripts/musicnn_convert.py``; default the shipped one.

    Raises
    ------
    FileNotFoundError
        If the file is missing (a broken installation: it ships with the package).
    ValueError
        If it is unreadable or its tag list is not :data:`MSD_TAGS`.

    Examples
    --------
    >>> w = load_weights()
    >>> w["tags.kernel"].shape, w["tags.kernel"].dtype.name
    ((200, 50), 'float32')
    """
    path = Path(path) if path is not None else _WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(f"{path}: musicnn weights missing; reinstall mgc-helpers or rebuild them "
                                f"with scripts/musicnn_convert.py")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except Exception as exc:
        raise ValueError(f"{path}: unreadable musicnn weights ({type(exc).__name__}: {exc})") from None
    tags = tuple(str(t) for t in arrays.pop("tag_names", np.array([])))
    if tags != MSD_TAGS:
        raise ValueError(f"{path}: its tag list does not match MSD_TAGS; not an MSD_musicnn weights file")
    return arrays


def _keras() -> Any:
    from ..models.networks import keras  # the project's TensorFlow environment defaults, set before Keras is imported

    return keras


def build_model(weights: Mapping[str, np.ndarray] | None = None) -> keras.Model:
    """The MSD_musicnn network as a functional Keras model.

    Input ``(batch, 187, 96)`` log-mel patches; outputs ``[tags, penultimate]``: the 50 sigmoid tag
    probabilities and the 200-d penultimate layer. The layers, by name:

    * ``input_bn``: batch normalisation of the whole input (one channel);
    * front end, musically motivated: ``timbral_74`` and ``timbral_77`` (204 filters spanning 7
      frames and 38 or 67 of the 96 mel bands: timbre) and ``temporal_128/64/32`` (51 filters
      spanning 128, 64 or 32 frames and one band: rhythm), each ``_conv`` (ReLU), ``_bn`` and
      ``_pool`` (max over frequency); concatenated into 561 features per frame;
    * mid end: three 7-frame convolutions of 64 filters (``midend_1/2/3``), the last two residual;
      front- and mid-end features are concatenated (dense connection) into 753 per frame;
    * back end: max and mean over time, *interleaved* (``[max_0, mean_0, max_1, mean_1, ...]``, as
      ``tf.concat`` of the two ``(753, 1)`` maps on their last axis then flattened), ``pool_bn``,
      ``penultimate_dense`` (200, ReLU), ``penultimate`` (batch normalisation) and ``tags``
      (50, sigmoid). Dropout is left out: it does nothing at inference.

    Every batch normalisation uses epsilon 1e-3, musicnn's.

    Parameters
    ----------
    weights : mapping or None
        From :func:`load_weights`; ``None`` leaves the layers at their random initial values.

    Examples
    --------
    >>> model = build_model()
    >>> [tuple(o.shape) for o in model.outputs]
    [(None, 50), (None, 200)]
    """
    keras = _keras()
    L = keras.layers
    n_bands = N_MELS

    x_in = keras.Input((PATCH_FRAMES, n_bands), name="log_mel")
    x = L.Reshape((PATCH_FRAMES, n_bands, 1), name="expand")(x_in)
    x = L.BatchNormalization(epsilon=_BN_EPSILON, name="input_bn")(x)

    front = []
    padded = L.ZeroPadding2D(((3, 3), (0, 0)), name="timbral_pad")(x)
    for name, width in (("timbral_74", int(0.4 * n_bands)), ("timbral_77", int(0.7 * n_bands))):
        h = L.Conv2D(204, (7, width), padding="valid", activation="relu", name=f"{name}_conv")(padded)
        h = L.BatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_bn")(h)
        h = L.MaxPooling2D((1, n_bands - width + 1), name=f"{name}_pool")(h)
        front.append(L.Reshape((PATCH_FRAMES, 204), name=f"{name}_squeeze")(h))
    for length in (128, 64, 32):
        name = f"temporal_{length}"
        h = L.Conv2D(51, (length, 1), padding="same", activation="relu", name=f"{name}_conv")(x)
        h = L.BatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_bn")(h)
        h = L.MaxPooling2D((1, n_bands), name=f"{name}_pool")(h)
        front.append(L.Reshape((PATCH_FRAMES, 51), name=f"{name}_squeeze")(h))
    frontend = L.Concatenate(axis=-1, name="frontend")(front)  # (187, 561)

    mid = [frontend]
    h = frontend
    for i in (1, 2, 3):
        p = L.ZeroPadding1D(3, name=f"midend_{i}_pad")(h)
        c = L.Conv1D(64, 7, padding="valid", activation="relu", name=f"midend_{i}_conv")(p)
        c = L.BatchNormalization(epsilon=_BN_EPSILON, name=f"midend_{i}_bn")(c)
        h = c if i == 1 else L.Add(name=f"midend_{i}_residual")([c, h])
        mid.append(h)
    midend = L.Concatenate(axis=-1, name="midend")(mid)  # (187, 753)

    n_features = 561 + 3 * 64
    max_pool = L.Reshape((n_features, 1), name="max_pool")(L.GlobalMaxPooling1D(name="max_over_time")(midend))
    mean_pool = L.Reshape((n_features, 1), name="mean_pool")(L.GlobalAveragePooling1D(name="mean_over_time")(midend))
    pooled = L.Flatten(name="pool_interleave")(L.Concatenate(axis=-1, name="pool")([max_pool, mean_pool]))
    h = L.BatchNormalization(epsilon=_BN_EPSILON, name="pool_bn")(pooled)
    h = L.Dense(EMBEDDING_SIZE, activation="relu", name="penultimate_dense")(h)
    penultimate = L.BatchNormalization(epsilon=_BN_EPSILON, name="penultimate")(h)
    tags = L.Dense(len(MSD_TAGS), activation="sigmoid", name="tags")(penultimate)
    model = keras.Model(x_in, [tags, penultimate], name="msd_musicnn")
    if weights is not None:
        _set_weights(model, weights)
    return model


def _set_weights(model: keras.Model, weights: Mapping[str, np.ndarray]) -> None:
    used = set()
    for layer in model.layers:
        if not layer.weights:
            continue
        params = _BN_PARAMS if type(layer).__name__ == "BatchNormalization" else ("kernel", "bias")
        keys = [f"{layer.name}.{p}" for p in params]
        missing = [k for k in keys if k not in weights]
        if missing:
            raise ValueError(f"musicnn weights lack {missing}")
        values = [np.asarray(weights[k], dtype=np.float32) for k in keys]
        for key, value, var in zip(keys, values, layer.weights, strict=False):
            if tuple(value.shape) != tuple(var.shape):
                raise ValueError(f"musicnn weight {key} has shape {value.shape}, layer expects {tuple(var.shape)}")
        layer.set_weights(values)
        used.update(keys)
    unused = sorted(set(weights) - used)
    if unused:
        raise ValueError(f"musicnn weights hold parameters no layer uses: {unused[:5]}")


@lru_cache(maxsize=1)
def get_model() -> keras.Model:
    """The MSD_musicnn model with the shipped weights, built once per process."""
    return build_model(load_weights())


# --------------------------------------------------------------------------------------------
# Tagging
# --------------------------------------------------------------------------------------------

@dataclass
class MusicnnOutput:
    """What musicnn says about one signal.

    Attributes
    ----------
    patch_tags : np.ndarray, shape (n_patches, 50)
        Tag probabilities of each 3-s patch, in time order; column ``k`` is ``MSD_TAGS[k]``.
    patch_embeddings : np.ndarray, shape (n_patches, 200)
        Penultimate layer of each patch.
    duration : float
        Seconds of audio analysed.
    notes : list of str
        Things worth knowing: a short clip repeated, a tail left out, silence.
    """

    patch_tags: np.ndarray
    patch_embeddings: np.ndarray
    duration: float
    notes: list[str] = field(default_factory=list)

    @property
    def n_patches(self) -> int:
        return int(self.patch_tags.shape[0])

    @property
    def tags(self) -> np.ndarray:
        """Mean tag probabilities over the patches, shape (50,)."""
        return self.patch_tags.mean(axis=0)

    @property
    def embedding(self) -> np.ndarray:
        """Mean penultimate layer over the patches, shape (200,)."""
        return self.patch_embeddings.mean(axis=0)

    def top_tags(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` most probable tags with their mean probability (ties in tag order)."""
        order = np.argsort(-self.tags, kind="stable")[: max(1, k)]
        return [(MSD_TAGS[i], float(self.tags[i])) for i in order]


class _Runner:
    """Frames in, model outputs out, a batch of patches at a time."""

    def __init__(self, batch_size: int) -> None:
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.model = get_model()
        self._pending: list[np.ndarray] = []
        self._n_pending = 0
        self._first: list[np.ndarray] = []  # frames kept until a full patch exists (short clips)
        self.n_frames = 0
        self.tags: list[np.ndarray] = []
        self.embeddings: list[np.ndarray] = []
        self.peak = 0.0

    def frames(self, S: np.ndarray) -> None:
        if not len(S):
            return
        self.n_frames += len(S)
        self._pending.append(S)
        self._n_pending += len(S)
        if self._n_pending >= self.batch_size * PATCH_FRAMES:
            self._flush(final=False)

    def _flush(self, *, final: bool) -> None:
        S = np.concatenate(self._pending) if self._pending else np.zeros((0, N_MELS), np.float32)
        k = len(S) // PATCH_FRAMES
        if final and k == 0 and not self.tags:
            X = patches(S)
            rest = S[:0]
        else:
            X = S[: k * PATCH_FRAMES].reshape(k, PATCH_FRAMES, N_MELS)
            rest = S[k * PATCH_FRAMES:]
        self._pending, self._n_pending = [rest], len(rest)
        for i in range(0, len(X), self.batch_size):
            tags, emb = self.model.predict_on_batch(X[i: i + self.batch_size])
            self.tags.append(np.asarray(tags, dtype=np.float32))
            self.embeddings.append(np.asarray(emb, dtype=np.float32))

    def result(self, duration: float) -> MusicnnOutput:
        self._flush(final=True)
        notes = []
        if self.n_frames < PATCH_FRAMES:
            notes.append(f"shorter than one {PATCH_SECONDS:g}-s patch ({duration:.2f} s): repeated to fill it")
        else:
            left = (self.n_frames % PATCH_FRAMES) * HOP_LENGTH / SR
            if left > 0.5:
                notes.append(f"last {left:.1f} s (shorter than a patch) not used")
        if self.peak < SILENCE_THRESHOLD:
            notes.append("silent audio: the prediction means nothing")
        return MusicnnOutput(np.concatenate(self.tags), np.concatenate(self.embeddings), duration, notes)


def analyse(y: np.ndarray, sr: int, *, batch_size: int = 16) -> MusicnnOutput:
    """Tags and embeddings of every 3-s patch of a signal, in one pass.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal, any float or integer dtype; at least 32 ms long. Shorter than 3 s is fine: the
        spectrogram is repeated to fill one patch.
    sr : int
        Its sample rate (resampled to 16 kHz).
    batch_size : int
        Patches per forward pass.

    Returns
    -------
    MusicnnOutput

    Raises
    ------
    ValueError
        For an empty, non-mono or NaN/inf signal, or one shorter than 32 ms.

    Examples
    --------
    >>> from mgc_helpers.signal.sounds import drum_and_bass_loop
    >>> out = analyse(drum_and_bass_loop(bars=3), 22050)
    >>> out.n_patches, out.patch_tags.shape, out.embedding.shape
    (2, (2, 50), (200,))
    """
    y = check_signal(y, sr)
    y16 = resample_16k(y, sr)
    runner = _Runner(batch_size)
    runner.peak = float(np.max(np.abs(y16)))
    for S in log_mel_blocks(y16):
        runner.frames(S)
    return runner.result(len(y) / sr)


def tag(y: np.ndarray, sr: int, *, batch_size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """musicnn's 50 MSD tag probabilities for a signal.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal (see :func:`analyse`).
    sr : int
        Its sample rate.
    batch_size : int
        Patches per forward pass.

    Returns
    -------
    patch_tags : np.ndarray, shape (n_patches, 50)
        Probabilities of each 3-s patch; column ``k`` belongs to ``MSD_TAGS[k]``.
    tags : np.ndarray, shape (50,)
        Their mean over the patches.

    Examples
    --------
    >>> from mgc_helpers.signal.sounds import pure_tone
    >>> per_patch, mean = tag(pure_tone(440.0, duration=2.0), 22050)
    >>> per_patch.shape, mean.shape
    ((1, 50), (50,))
    """
    out = analyse(y, sr, batch_size=batch_size)
    return out.patch_tags, out.tags


def embed(y: np.ndarray, sr: int, *, batch_size: int = 16) -> np.ndarray:
    """musicnn's 200-d penultimate layer for a signal, averaged over its 3-s patches.

    Examples
    --------
    >>> from mgc_helpers.signal.sounds import pure_tone
    >>> embed(pure_tone(440.0, duration=4.0), 22050).shape
    (200,)
    """
    return analyse(y, sr, batch_size=batch_size).embedding


def _file_blocks(path: Path, block_seconds: float) -> Iterator[tuple[np.ndarray, int]]:
    """Decode with libsndfile block by block: mono float32 blocks at the file's own rate."""
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        rate = int(f.samplerate)
        size = max(1, int(block_seconds * rate))
        while True:
            data = f.read(frames=size, dtype="float32", always_2d=True)
            if not len(data):
                break
            yield (data[:, 0] if data.shape[1] == 1 else data.mean(axis=1, dtype=np.float32)), rate


def analyse_file(path: str | os.PathLike, *, batch_size: int = 16, block_seconds: float = 10.0) -> MusicnnOutput:
    """:func:`analyse` an audio file in bounded memory, however long it is.

    libsndfile decodes ``block_seconds`` at a time; each block is mixed to mono, resampled by a
    streaming soxr resampler (the same samples as :func:`librosa.resample` of the whole file) and
    turned into spectrogram frames and patches, so that only a block of audio and a batch of
    patches exist at once. Files libsndfile cannot read are decoded whole by
    :func:`mgc_helpers.signal.audio.load_audio` (audioread), then analysed the same way.

    Raises
    ------
    mgc_helpers.signal.audio.AudioError
        If the file is missing, empty, undecodable, holds NaN/inf samples, or is shorter than 32 ms.
    """
    import soundfile as sf
    import soxr

    from ..signal.audio import AudioError, load_audio

    path = Path(path)
    if not path.is_file():
        raise AudioError(path, "file not found")
    if path.stat().st_size == 0:
        raise AudioError(path, "empty file (0 bytes)")
    try:
        sf.info(str(path))
        readable = True
    except Exception:
        readable = False
    if not readable:
        y, rate = load_audio(path, sr=None, mono=True)
        try:
            return analyse(y, rate, batch_size=batch_size)
        except ValueError as exc:
            raise AudioError(path, str(exc)) from None
    runner = _Runner(batch_size)
    stream = LogMelStream()
    resampler = None
    n_in, rate = 0, SR
    try:
        for block, rate in _file_blocks(path, block_seconds):
            if not np.all(np.isfinite(block)):
                raise AudioError(path, "contains NaN or infinite samples")
            n_in += len(block)
            if rate != SR and resampler is None:
                resampler = soxr.ResampleStream(rate, SR, 1, dtype="float32", quality="HQ")
            y16 = block if resampler is None else resampler.resample_chunk(block)
            runner.peak = max(runner.peak, float(np.max(np.abs(y16))) if len(y16) else 0.0)
            runner.frames(stream.push(y16))
        if resampler is not None:
            y16 = resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
            runner.frames(stream.push(y16))
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise AudioError(path, f"cannot decode audio ({type(exc).__name__}: {exc})") from None
    if n_in == 0:
        raise AudioError(path, "no audio samples")
    if stream.n_samples < MIN_SAMPLES:
        raise AudioError(path, f"too short ({n_in / rate:.3f} s): needs at least {MIN_SAMPLES / SR * 1000:.0f} ms")
    runner.frames(stream.finish())
    return runner.result(n_in / rate)
