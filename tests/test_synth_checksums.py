"""The synthesiser's output, pinned by SHA-256 checksums (recorded before the refactor of issue 10).

Refactoring ``mgc_helpers.data.synth`` must not change a single sample: the random draws have to happen
in the same order and the arithmetic has to stay the same. Four fingerprints guard that:

* the plans (every random decision and the whole score) of all 60 artists with several seeds, and
  the 60 artist palettes: pure Python and numpy's random generator, the same on every machine;
* the files ``mgc synth`` writes (16-bit WAV, ``metadata.csv``, ``synth.json``);
* the float32 samples of single clips from :func:`~mgc_helpers.data.synth.render.render_clip` (several genres,
  artists, seeds, lengths and sample rates). numpy computes ``exp``, ``sin`` and ``tanh`` with
  different SIMD code on CPUs with and without AVX-512, which moves the last bit of some float32
  samples (never, in the clips below, a 16-bit sample), so these checksums are recorded per CPU
  family and numpy version and checked where they are known.

``python tests/test_synth_checksums.py`` prints the fingerprints of the installed code. On a new
platform, run it on a commit whose output is known to be right and add its clip checksums under its
platform key; never copy them from a commit under test.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy

from mgc_helpers.core.config import GENRES
from mgc_helpers.data.synth.arrangement import plan_clip
from mgc_helpers.data.synth.artists import artist_ids, artist_palette
from mgc_helpers.data.synth.render import render_clip

#: (genre, artist, seed, duration, sample rate) of the single clips.
CLIPS = [
    ("blues", "blues_a1", 0, 4.0, 22050),
    ("classical", "classical_a2", 8, 4.0, 22050),
    ("country", "country_a3", 15, 4.0, 22050),
    ("disco", "disco_a4", 21, 4.0, 22050),
    ("hiphop", "hiphop_a5", 29, 4.0, 22050),
    ("jazz", "jazz_a6", 35, 4.0, 22050),
    ("metal", "metal_a1", 42, 4.0, 22050),
    ("pop", "pop_a2", 50, 4.0, 22050),
    ("reggae", "reggae_a3", 57, 4.0, 22050),
    ("rock", "rock_a4", 64, 4.0, 22050),
    ("country", "country_a2", 4, 1.0, 8000),
    ("reggae", "reggae_a3", 9, 2.0, 44100),
    ("jazz", "jazz_a5", 123456789, 30.0, 22050),
]
PLAN_SEEDS = range(1000, 1006)

EXPECTED_PLANS = "434f38cfd1c31e8c91ea66da023ba2d5477ca202a83214c1c275a84df052a9fe"
EXPECTED_PALETTES = "36d60c4d84bee03b937c50e4d6409d70941cd71d47b103da778fcf7349c56955"
EXPECTED_DATASET = "402c845bc81976a8e077a277b144b2ba541d108025935d651e5ffa80760e1fe4"
#: Clip checksums by platform (see :func:`platform_key`).
EXPECTED_CLIPS: dict[str, dict[str, str]] = {
    "x86_64-avx512-numpy2.4-scipy1.17": {
        "blues_a1 seed 0 4 s 22050 Hz":
            "717569cc4c262b0f90e6401f77d99f51bfe7a8a04fb103ab812e4f06f91d4d2a",
        "classical_a2 seed 8 4 s 22050 Hz":
            "59eee45d589d422dad50b00029110f2f4762f761e20c0e11e23b595b22d44b09",
        "country_a3 seed 15 4 s 22050 Hz":
            "cabd0379e1767b32d656c30fe5b77f1ce46431e8f1d5160a8bd23d6818e8f717",
        "disco_a4 seed 21 4 s 22050 Hz":
            "ba5ce87d25471cda3066629e3410a30e7b8e2b5051e31a55bf917da41f4c1cae",
        "hiphop_a5 seed 29 4 s 22050 Hz":
            "721a32f54524520196e9021e94a09b5a9ce3a9dbc0cf0f3bac0fead3406b52f4",
        "jazz_a6 seed 35 4 s 22050 Hz":
            "3163e77bf3e690768ce869babad51e1e6ad532bc78150d311ed5cd697b2ac253",
        "metal_a1 seed 42 4 s 22050 Hz":
            "73b0f995b57e5d3f14999202ae9339587c7f083c0545f318b0cdd809ca1e75e3",
        "pop_a2 seed 50 4 s 22050 Hz":
            "800794f55cf6f883ac1e369a665bc3cf15c577e59fc9757ae0aa584f3c3ccdd7",
        "reggae_a3 seed 57 4 s 22050 Hz":
            "b2ef3adf2c5ba61257be1bfc9f080a9b7ea245cbdde58297b562c20303c82d37",
        "rock_a4 seed 64 4 s 22050 Hz":
            "e66c24fd85bfcb95a6bdd09f85a2e1a7464d246628f0418e7086d04f463b91d3",
        "country_a2 seed 4 1 s 8000 Hz":
            "f804e7b6e5a7c2b513226795848a177dec2acb711fd609642ae4703ef1036ed7",
        "reggae_a3 seed 9 2 s 44100 Hz":
            "aeb8a0c37d51bb7c42a87c621f5352aa25861c2ed1c22eec2eb58e041f94b39d",
        "jazz_a5 seed 123456789 30 s 22050 Hz":
            "dfb4bb3fdb14048d1dc38aed8c385211e935b190b3d318f304653eb28aa28d43",
    },
    "x86_64-avx2-numpy2.4-scipy1.17": {
        "blues_a1 seed 0 4 s 22050 Hz":
            "717569cc4c262b0f90e6401f77d99f51bfe7a8a04fb103ab812e4f06f91d4d2a",
        "classical_a2 seed 8 4 s 22050 Hz":
            "59eee45d589d422dad50b00029110f2f4762f761e20c0e11e23b595b22d44b09",
        "country_a3 seed 15 4 s 22050 Hz":
            "cabd0379e1767b32d656c30fe5b77f1ce46431e8f1d5160a8bd23d6818e8f717",
        "disco_a4 seed 21 4 s 22050 Hz":
            "ba5ce87d25471cda3066629e3410a30e7b8e2b5051e31a55bf917da41f4c1cae",
        "hiphop_a5 seed 29 4 s 22050 Hz":
            "3b71e3374877f10b107b462597e4224b5a7ea034a6216992ffa768319b1bc0b4",
        "jazz_a6 seed 35 4 s 22050 Hz":
            "3163e77bf3e690768ce869babad51e1e6ad532bc78150d311ed5cd697b2ac253",
        "metal_a1 seed 42 4 s 22050 Hz":
            "c6f719e606e0450a0ca0793f19d04082c45f8625c753081e7825f6be818301ad",
        "pop_a2 seed 50 4 s 22050 Hz":
            "800794f55cf6f883ac1e369a665bc3cf15c577e59fc9757ae0aa584f3c3ccdd7",
        "reggae_a3 seed 57 4 s 22050 Hz":
            "b2ef3adf2c5ba61257be1bfc9f080a9b7ea245cbdde58297b562c20303c82d37",
        "rock_a4 seed 64 4 s 22050 Hz":
            "e66c24fd85bfcb95a6bdd09f85a2e1a7464d246628f0418e7086d04f463b91d3",
        "country_a2 seed 4 1 s 8000 Hz":
            "f804e7b6e5a7c2b513226795848a177dec2acb711fd609642ae4703ef1036ed7",
        "reggae_a3 seed 9 2 s 44100 Hz":
            "66457ccb543d3a672e28e949df55ffebf68d231034ac7d0d1a1036370ab1f9cf",
        "jazz_a5 seed 123456789 30 s 22050 Hz":
            "caacaba1a23f1d2db4bda763d27a0da97d3b211b772a22483a96b19a97180933",
    },
}


def platform_key() -> str:
    """CPU architecture, SIMD family numpy dispatches to, numpy and scipy versions (major.minor)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as features
    simd = "avx512" if features.get("AVX512_SKX") else "avx2" if features.get("AVX2") else "other"
    version = ".".join(np.__version__.split(".")[:2])
    return f"{platform.machine()}-{simd}-numpy{version}-scipy{'.'.join(scipy.__version__.split('.')[:2])}"


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, default=_plain, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def plans_checksum() -> str:
    """One checksum over the full plans (all fields, every note and hit) of many clips."""
    plans = [dataclasses.asdict(plan_clip(g, artist=a, seed=s, duration=12.0))
             for g in GENRES for a in artist_ids(g) for s in PLAN_SEEDS]
    return _digest(plans)


def palettes_checksum() -> str:
    return _digest([dataclasses.asdict(artist_palette(a)) for g in GENRES for a in artist_ids(g)])


def clip_checksums() -> dict[str, str]:
    out = {}
    for genre, artist, seed, duration, sr in CLIPS:
        y = render_clip(genre, artist=artist, seed=seed, duration=duration, sr=sr)
        assert y.dtype == np.float32
        out[f"{artist} seed {seed} {duration:g} s {sr} Hz"] = hashlib.sha256(y.tobytes()).hexdigest()
    return out


def dataset_checksums(root: Path) -> dict[str, str]:
    """Write a small dataset with ``mgc synth`` and hash every file in it."""
    from mgc_helpers.commands.cli import main as mgc_main

    argv = ["synth", str(root), "--clips-per-genre", "2", "--duration", "2", "--seed", "3", "--jobs", "1",
            "--no-progress"]
    assert mgc_main(argv) == 0
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_plans_and_palettes_unchanged():
    assert palettes_checksum() == EXPECTED_PALETTES
    assert plans_checksum() == EXPECTED_PLANS


def test_dataset_files_unchanged(tmp_path):
    files = dataset_checksums(tmp_path / "synth")
    assert len(files) == 2 * len(GENRES) + 2
    assert _digest(files) == EXPECTED_DATASET, files


#: Platform-independent fingerprint of each clip: RMS and mean absolute first difference (6 decimals).
EXPECTED_CLIP_STATS: dict[str, tuple[float, float]] = {
    "blues_a1 seed 0 4 s 22050 Hz": (0.144054, 0.069819),
    "classical_a2 seed 8 4 s 22050 Hz": (0.156413, 0.022561),
    "country_a3 seed 15 4 s 22050 Hz": (0.137738, 0.045856),
    "disco_a4 seed 21 4 s 22050 Hz": (0.230627, 0.072351),
    "hiphop_a5 seed 29 4 s 22050 Hz": (0.346808, 0.041971),
    "jazz_a6 seed 35 4 s 22050 Hz": (0.224519, 0.10168),
    "metal_a1 seed 42 4 s 22050 Hz": (0.244717, 0.083163),
    "pop_a2 seed 50 4 s 22050 Hz": (0.226282, 0.0362),
    "reggae_a3 seed 57 4 s 22050 Hz": (0.182637, 0.045105),
    "rock_a4 seed 64 4 s 22050 Hz": (0.125791, 0.053686),
    "country_a2 seed 4 1 s 8000 Hz": (0.182486, 0.171074),
    "reggae_a3 seed 9 2 s 44100 Hz": (0.320665, 0.031098),
    "jazz_a5 seed 123456789 30 s 22050 Hz": (0.167521, 0.03403),
}


def test_rendered_clips_unchanged():
    """Exact float32 checksums where this platform's are recorded; statistics to 1e-5 everywhere.

    Last-bit differences of SIMD code paths change a checksum but not the statistics, so every
    platform checks the clips, and the recorded platforms check them bit for bit.
    """
    stats = {}
    for genre, artist, seed, duration, sr in CLIPS:
        y = render_clip(genre, artist=artist, seed=seed, duration=duration, sr=sr).astype(np.float64)
        stats[f"{artist} seed {seed} {duration:g} s {sr} Hz"] = (float(np.sqrt(np.mean(y ** 2))),
                                                                float(np.mean(np.abs(np.diff(y)))))
    assert stats.keys() == EXPECTED_CLIP_STATS.keys()
    for name, expected in EXPECTED_CLIP_STATS.items():
        assert stats[name] == pytest.approx(expected, abs=2e-6), name
    key = platform_key()
    if key in EXPECTED_CLIPS:
        assert clip_checksums() == EXPECTED_CLIPS[key]


if __name__ == "__main__":
    import contextlib
    import io
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        files = dataset_checksums(Path(tmp) / "synth")
    print(json.dumps({"platform": platform_key(), "plans": plans_checksum(), "palettes": palettes_checksum(),
                      "dataset": _digest(files), "files": files, "clips": clip_checksums()}, indent=1))
