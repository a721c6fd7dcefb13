"""musicnn, a pretrained music tagger, ported to Keras 3.

musicnn (Pons and Serra, 2019) is a convolutional network trained on the 50 most common tags of
the Million Song Dataset (MSD): genres ("rock", "jazz", "Hip-Hop"...), moods ("Mellow", "sad"),
decades ("80s") and instrumentation ("guitar", "female vocalists"). This module holds the
``MSD_musicnn`` model of the ``musicnn`` 0.1.0 package (ISC licence; notice and citation in
``resources/musicnn/NOTICE``), rebuilt as a functional Keras model with named layers, and its
pre-processing. Its inference weights ship with this package as
``resources/musicnn/msd_musicnn.npz`` (3 MB, float32), converted from the package's TensorFlow 1
checkpoint by ``scripts/musicnn_convert.py``; nothing here needs TensorFlow 1 graph code, the
original package or the network.

Pipeline (as musicnn's ``extractor.py`` does it, with two repairs):

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
:func:`embed_dataset` computes the embeddings of a whole dataset (per track and per 3-s patch), in
parallel and cached, with the same bad-input handling as the MFCC pipeline: unusable files are
reported with the reason, silent and short clips are kept with a warning (``13_transfer.ipynb``).

Speed: about 1.35 GMAC per patch, 0.35 s of CPU time per 30-s clip with TensorFlow's oneDNN
kernels (the project's default, :data:`mgc_helpers.core.compute.ONEDNN`) and twice that without.
``benchmarks/bench_musicnn.py`` prints the real-time factor and the peak memory of a long file.

Checked against the original TensorFlow graph by ``tests/test_musicnn.py`` (tags and penultimate
layer within 1e-5).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..core.records import Skipped

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from ..data.datasets import Dataset

__all__ = [
    "EMBEDDING_SIZE",
    "HOP_LENGTH",
    "MSD_TAGS",
    "N_FFT",
    "N_MELS",
    "PATCH_FRAMES",
    "PATCH_SECONDS",
    "SR",
    "DatasetEmbeddings",
    "MusicnnOutput",
    "analyse",
    "analyse_file",
    "build_model",
    "embed",
    "embed_dataset",
    "embedding_cache_key",
    "get_model",
    "load_weights",
    "log_mel",
    "patches",
    "tag",
    "weights_path",
    "weights_sha256",
]

#: Sample rate of the model's input, Hz.
SR: int = 16000
#: STFT window and FFT size, samples (32 ms).
N_FFT: int = 512
#: Hop between frames, samples (16 ms).
HOP_LENGTH: int = 256
#: Mel bands.
N_MELS: int = 96
#: Frames per patch: ``librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1``.
PATCH_FRAMES: int = 187
#: Nominal length of one patch, seconds.
PATCH_SECONDS: float = 3.0
#: Size of the penultimate layer.
EMBEDDING_SIZE: int = 200
#: Shortest signal accepted, samples at 16 kHz (one STFT window, 32 ms).
MIN_SAMPLES: int = N_FFT
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

#: Bumped whenever a change here changes the embeddings; part of :func:`embedding_cache_key`.
PIPELINE_VERSION = 2  # 2: the cache also keeps every patch (segment-level transfer, 13_transfer)

_RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "musicnn"
_WEIGHTS = _RESOURCES / "msd_musicnn.npz"
_BN_PARAMS = ("gamma", "beta", "moving_mean", "moving_variance")
_BN_EPSILON = 1e-3  # tf.compat.v1.layers.batch_normalization's default, which musicnn used
_BLOCK_SAMPLES = 60 * SR  # samples pushed through the spectrogram at a time (bounded memory)


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
# Pre-processing
# --------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _mel_basis() -> np.ndarray:
    import librosa

    return np.ascontiguousarray(librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS).T.astype(np.float32))


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    import librosa

    return librosa.filters.get_window("hann", N_FFT, fftbins=True)  # float64, as librosa.stft


def _log_mel_frames(frames: np.ndarray) -> np.ndarray:
    """Windowed frames ``(k, 512)`` -> log-mel ``(k, 96)`` float32, arithmetic as librosa's.

    librosa.stft multiplies by a float64 window, takes the float64 FFT and stores complex64;
    ``melspectrogram`` squares the magnitude in float32 and applies a float32 filter bank.
    """
    spectrum = np.fft.rfft(frames * _window(), axis=-1).astype(np.complex64)
    power = np.abs(spectrum) ** 2
    mel = power @ _mel_basis()
    # float32 throughout: the original's float16 overflows (10000 * S > 65504) for loud sounds
    return np.log10(np.float32(10000.0) * mel.astype(np.float32) + np.float32(1.0))


class _LogMelStream:
    """Log-mel frames of a signal pushed in blocks of any size.

    Gives exactly the frames of a centred STFT with reflect padding of the whole signal (frame
    ``t`` covers samples ``256 t - 256 ... 256 t + 255``; ``1 + n // 256`` frames in all), holding
    at most one block and one window of samples.
    """

    def __init__(self) -> None:
        self.n_samples = 0
        self._head = np.zeros(0, dtype=np.float32)  # samples before the left padding can be made
        self._buf: np.ndarray | None = None  # padded-domain samples not yet framed
        self._tail = np.zeros(0, dtype=np.float32)  # last N_FFT // 2 + 1 samples seen

    def push(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float32)
        self.n_samples += len(y)
        half = N_FFT // 2
        self._tail = np.concatenate([self._tail, y[-(half + 1):]])[-(half + 1):]
        if self._buf is None:
            self._head = np.concatenate([self._head, y])
            if len(self._head) <= half:
                return np.zeros((0, N_MELS), dtype=np.float32)
            self._buf = np.concatenate([self._head[1: half + 1][::-1], self._head])
            self._head = np.zeros(0, dtype=np.float32)
        else:
            self._buf = np.concatenate([self._buf, y])
        return self._frames()

    def finish(self) -> np.ndarray:
        half = N_FFT // 2
        if self._buf is None:
            raise ValueError(f"signal too short: {self.n_samples} samples at {SR} Hz, needs at least {MIN_SAMPLES}")
        self._buf = np.concatenate([self._buf, self._tail[:-1][::-1][:half]])
        return self._frames()

    def _frames(self) -> np.ndarray:
        buf = cast(np.ndarray, self._buf)  # called once samples have arrived
        if len(buf) < N_FFT:
            return np.zeros((0, N_MELS), dtype=np.float32)
        k = (len(buf) - N_FFT) // HOP_LENGTH + 1
        frames = np.lib.stride_tricks.sliding_window_view(buf, N_FFT)[: (k - 1) * HOP_LENGTH + 1: HOP_LENGTH]
        out = _log_mel_frames(frames)
        self._buf = buf[k * HOP_LENGTH:].copy()
        return out


def _check_signal(y: Any, sr: Any) -> np.ndarray:
    if not isinstance(sr, (int, np.integer)) or isinstance(sr, bool) or sr <= 0:
        raise ValueError(f"sr must be a positive integer sample rate, got {sr!r}")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"musicnn expects a mono signal of shape (n,), got shape {y.shape}; "
                         f"mix it down first (np.mean(y, axis=0))")
    if y.size == 0:
        raise ValueError("empty signal: no samples to tag")
    if not np.issubdtype(y.dtype, np.floating) and not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"signal must hold real numbers, got dtype {y.dtype}")
    y = y.astype(np.float32)  # float16 input is widened here, never computed in
    if not np.all(np.isfinite(y)):
        raise ValueError("signal contains NaN or infinite samples")
    return y


def _resample(y: np.ndarray, sr: int) -> np.ndarray:
    if sr == SR:
        return y
    import librosa

    return librosa.resample(y, orig_sr=int(sr), target_sr=SR, res_type="soxr_hq").astype(np.float32)


def _check_length(n: int, sr: int) -> None:
    if n < MIN_SAMPLES:
        raise ValueError(f"signal too short: {n} samples at {sr} Hz, needs at least "
                         f"{MIN_SAMPLES / SR * 1000:.0f} ms")


def log_mel(y: np.ndarray, sr: int) -> np.ndarray:
    """musicnn's input representation of a whole signal: ``log10(10000 * mel + 1)``, float32.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal, any float or integer dtype (float16 is widened to float32 first).
    sr : int
        Its sample rate; resampled to 16 kHz.

    Returns
    -------
    np.ndarray, shape (1 + n16 // 256, 96), float32
        One row per 16-ms frame, ``n16`` being the length at 16 kHz.

    Raises
    ------
    ValueError
        For an empty, non-mono or NaN/inf signal, or one shorter than 32 ms.

    Examples
    --------
    >>> S = log_mel(np.ones(16000, dtype=np.float32), 16000)
    >>> S.shape, S.dtype.name
    ((63, 96), 'float32')
    """
    y = _check_signal(y, sr)
    _check_length(round(len(y) * SR / sr), sr)
    y16 = _resample(y, int(sr))
    _check_length(len(y16), sr)
    stream = _LogMelStream()
    parts = [stream.push(y16[i: i + _BLOCK_SAMPLES]) for i in range(0, len(y16), _BLOCK_SAMPLES)]
    parts.append(stream.finish())
    return np.concatenate(parts)


def patches(spectrogram: np.ndarray) -> np.ndarray:
    """Cut a log-mel spectrogram into the model's non-overlapping 187-frame patches.

    A tail shorter than a patch is left out (as musicnn does); a spectrogram shorter than one patch
    is repeated until it fills one (musicnn's training "repeat-pad"), so short clips give one patch.

    Examples
    --------
    >>> patches(np.zeros((1876, 96), dtype=np.float32)).shape   # 30 s
    (10, 187, 96)
    >>> patches(np.zeros((63, 96), dtype=np.float32)).shape     # 1 s: repeated 3 times
    (1, 187, 96)
    """
    S = np.asarray(spectrogram, dtype=np.float32)
    if S.ndim != 2 or S.shape[1] != N_MELS or len(S) == 0:
        raise ValueError(f"expected a (frames, {N_MELS}) spectrogram, got shape {S.shape}")
    if len(S) < PATCH_FRAMES:
        S = np.tile(S, (-(-PATCH_FRAMES // len(S)), 1))[:PATCH_FRAMES]
    k = len(S) // PATCH_FRAMES
    return S[: k * PATCH_FRAMES].reshape(k, PATCH_FRAMES, N_MELS)


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
    y = _check_signal(y, sr)
    _check_length(round(len(y) * SR / sr), sr)
    y16 = _resample(y, int(sr))
    _check_length(len(y16), sr)
    runner = _Runner(batch_size)
    runner.peak = float(np.max(np.abs(y16)))
    stream = _LogMelStream()
    for i in range(0, len(y16), _BLOCK_SAMPLES):
        runner.frames(stream.push(y16[i: i + _BLOCK_SAMPLES]))
    runner.frames(stream.finish())
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
    stream = _LogMelStream()
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


# --------------------------------------------------------------------------------------------
# Embeddings of a dataset
# --------------------------------------------------------------------------------------------

@dataclass
class DatasetEmbeddings:
    """musicnn embeddings and tags of every usable track of a dataset, in track order.

    Attributes
    ----------
    X : np.ndarray, shape (n_tracks, 200), float32
        Mean penultimate layer of each track.
    tags : np.ndarray, shape (n_tracks, 50), float32
        Mean tag probabilities of each track.
    y : np.ndarray, shape (n_tracks,)
        Integer labels (index into ``genres``, sorted names).
    track : np.ndarray of str
        Track ids.
    group : np.ndarray of str
        Artist where known, else the track id (for grouped splits).
    genres : tuple of str
    skipped : list of Skipped
        The dataset's unreadable files and the tracks that failed here, with reasons.
    info : dict
        ``cache`` (``"hit"``, ``"miss"``, ``"rebuilt"``, ``"off"``), ``cache_file``, ``seconds``.
    patch_X : np.ndarray, shape (n_patches, 200), float32
        Penultimate layer of every 3-s patch of every track, tracks in order, patches in time order.
    patch_tags : np.ndarray, shape (n_patches, 50), float32
        Tag probabilities of every patch.
    patch_track : np.ndarray of int, shape (n_patches,)
        Row of :attr:`X` (the track) each patch belongs to.
    patch_index : np.ndarray of int, shape (n_patches,)
        Position of the patch in its track (0 = the first 3 s), as ``SegmentSet.segment``.
    warnings : list of Skipped
        Tracks kept but worth a look, with the reason: silent, shorter than one 3-s patch (repeated
        to fill it), a tail left out. As ``SegmentSet.warnings`` of the MFCC pipeline.
    """

    X: np.ndarray
    tags: np.ndarray
    y: np.ndarray
    track: np.ndarray
    group: np.ndarray
    genres: tuple[str, ...]
    skipped: list[Skipped] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    patch_X: np.ndarray = field(default_factory=lambda: np.zeros((0, EMBEDDING_SIZE), np.float32))
    patch_tags: np.ndarray = field(default_factory=lambda: np.zeros((0, len(MSD_TAGS)), np.float32))
    patch_track: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    patch_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    warnings: list[Skipped] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.X.shape[0])


def embedding_cache_key(dataset: Dataset) -> str:
    """Hash of what the embeddings depend on: the weights' SHA-256, this pipeline's version and the
    dataset's tracks (id, genre, artist, path, size, modification time, through
    :func:`mgc_helpers.data.features.cache_key`)."""
    from ..data.features import cache_key

    blob = json.dumps({"model": "msd_musicnn", "weights_sha256": weights_sha256(), "pipeline": PIPELINE_VERSION,
                       "tracks": cache_key(dataset)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _embed_chunk(paths: list[str], threads: int | None) -> list[MusicnnOutput | str]:
    """Worker: the analysis of each file, or the reason it failed (the same checks as ``mgc predict``)."""
    if threads is not None:
        _keras()  # the project's TensorFlow defaults, and TensorFlow imported without its oneDNN notice
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # already initialised in this (reused) worker
            pass
    from ..signal.audio import AudioError

    out: list[MusicnnOutput | str] = []
    for p in paths:
        try:
            r = analyse_file(p)
        except AudioError as exc:
            out.append(exc.reason)
            continue
        out.append(MusicnnOutput(r.patch_tags.astype(np.float32), r.patch_embeddings.astype(np.float32),
                                 r.duration, r.notes))
    return out


def _worth_a_warning(out: MusicnnOutput) -> bool:
    """Silence and clips shorter than one patch are reported; a short tail left out is not."""
    return any(n.startswith(("silent", "shorter")) for n in out.notes)


def embed_dataset(dataset: Dataset, *, cache_dir: str | os.PathLike | None = None, n_jobs: int | None = 1,
                  cache: bool = True, progress: bool = False, chunk_size: int = 8) -> DatasetEmbeddings:
    """musicnn embeddings (and tags) of every track of a dataset: parallel and cached.

    Parameters
    ----------
    dataset : Dataset
        From :func:`~mgc_helpers.data.datasets.load_dataset` or :func:`~mgc_helpers.data.datasets.prepare_dataset`.
    cache_dir : path-like or None
        Folder of the cache; ``None`` means ``musicnn/`` in :func:`mgc_helpers.core.paths.cache_dir`.
    n_jobs : int or None
        Worker processes (joblib, loky); ``None`` uses every CPU, ``1`` (default) runs here. Each
        worker loads TensorFlow and the model (a few seconds), and runs it on one thread.
    cache : bool
        ``False`` neither reads nor writes the cache.
    progress : bool
        Show a tqdm progress bar (per chunk of tracks).
    chunk_size : int
        Tracks per unit of parallel work.

    Returns
    -------
    DatasetEmbeddings

    Notes
    -----
    The cache is one ``.npz`` named after :func:`embedding_cache_key`, which covers the weights'
    SHA-256 and every track's path, size and modification time: a changed file or model is never
    served stale. Writes are atomic; an unreadable cache file is rebuilt with a
    :class:`~mgc_helpers.data.features.CacheWarning`.
    """
    import warnings

    from ..core.config import label_mapping
    from ..data.features import CacheWarning, _default_jobs
    from ..core.paths import cache_dir as default_cache_dir
    from ..data.segments import _read_npz, _strings, _write_npz

    start = time.perf_counter()
    if n_jobs is None:
        n_jobs = _default_jobs()
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer or None, got {n_jobs!r}")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    tracks = dataset.tracks
    if not tracks:
        raise ValueError(f"dataset in {dataset.root} has no usable tracks; {len(dataset.skipped)} skipped")
    mapping = label_mapping(dataset.genres)
    key = embedding_cache_key(dataset)
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir() / "musicnn"
    final = folder / f"{dataset.name}-{dataset.root.name}-musicnn-{key[:20]}.npz"
    state = "off" if not cache else "miss"
    if cache and final.exists():
        try:
            a = _read_npz(final)
            if str(a.get("cache_key", "")) != key:
                raise ValueError("its cache key does not match the dataset and weights")
            result = DatasetEmbeddings(a["X"], a["tags"], a["y"], a["track"], a["group"], tuple(dataset.genres),
                                       [Skipped(Path(p), str(r))
                                        for p, r in zip(a["skipped_path"], a["skipped_reason"], strict=False)],
                                       patch_X=a["patch_X"], patch_tags=a["patch_tags"],
                                       patch_track=a["patch_track"], patch_index=a["patch_index"],
                                       warnings=[Skipped(Path(p), str(r)) for p, r in
                                                 zip(a["warning_path"], a["warning_reason"], strict=False)])
            result.skipped = list(dataset.skipped) + result.skipped
            result.info = {"cache": "hit", "cache_file": str(final), "seconds": time.perf_counter() - start}
            return result
        except (ValueError, KeyError) as exc:
            warnings.warn(f"musicnn cache {final} is unusable ({exc}); rebuilding it", CacheWarning, stacklevel=2)
            final.unlink(missing_ok=True)
            state = "rebuilt"

    paths = [str(t.path) for t in tracks]
    chunks = [paths[i: i + chunk_size] for i in range(0, len(paths), chunk_size)]
    from tqdm import tqdm

    if n_jobs == 1:
        results = [_embed_chunk(c, None) for c in tqdm(chunks, desc="musicnn", unit="chunk", disable=not progress)]
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=min(n_jobs, len(chunks)), backend="loky")(
            delayed(_embed_chunk)(c, 1) for c in tqdm(chunks, desc="musicnn", unit="chunk", disable=not progress))
    flat = [r for chunk in results for r in chunk]
    keep = [i for i, r in enumerate(flat) if not isinstance(r, str)]
    failed = [Skipped(tracks[i].path, r) for i, r in enumerate(flat) if isinstance(r, str)]
    outs = [cast(MusicnnOutput, flat[i]) for i in keep]
    X = np.stack([o.embedding for o in outs]) if keep else np.zeros((0, EMBEDDING_SIZE), np.float32)
    T = np.stack([o.tags for o in outs]) if keep else np.zeros((0, len(MSD_TAGS)), np.float32)
    PX = np.concatenate([o.patch_embeddings for o in outs]) if keep else np.zeros((0, EMBEDDING_SIZE), np.float32)
    PT = np.concatenate([o.patch_tags for o in outs]) if keep else np.zeros((0, len(MSD_TAGS)), np.float32)
    PR = np.concatenate([np.full(o.n_patches, r, np.int64) for r, o in enumerate(outs)]) if keep \
        else np.zeros(0, np.int64)
    PI = np.concatenate([np.arange(o.n_patches, dtype=np.int64) for o in outs]) if keep else np.zeros(0, np.int64)
    y = np.array([mapping[tracks[i].genre] for i in keep], dtype=np.int64)
    track = _strings(tracks[i].track_id for i in keep)
    group = _strings((tracks[i].artist or tracks[i].track_id) for i in keep)
    result = DatasetEmbeddings(X.astype(np.float32), T.astype(np.float32), y, track, group, tuple(dataset.genres),
                               failed, patch_X=PX, patch_tags=PT, patch_track=PR, patch_index=PI,
                               warnings=[Skipped(tracks[i].path, "; ".join(o.notes))
                                         for i, o in zip(keep, outs, strict=True) if _worth_a_warning(o)])
    if cache:
        _write_npz(final, {"X": result.X, "tags": result.tags, "y": y, "track": track, "group": group,
                           "patch_X": PX, "patch_tags": PT, "patch_track": PR, "patch_index": PI,
                           "warning_path": _strings(str(w.path) for w in result.warnings),
                           "warning_reason": _strings(w.reason for w in result.warnings),
                           "skipped_path": _strings(str(s.path) for s in failed),
                           "skipped_reason": _strings(s.reason for s in failed), "cache_key": np.array(key)})
    result.skipped = list(dataset.skipped) + failed
    result.info = {"cache": state, "cache_file": str(final) if cache else None,
                   "seconds": time.perf_counter() - start}
    return result
