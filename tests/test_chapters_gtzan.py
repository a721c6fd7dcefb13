"""Every data chapter runs on GTZAN as users have it: short clips, a corrupt file, part of the tracks.

The test writes a small GTZAN-shaped copy (the WAV layout, real GTZAN clip names so that the
packaged artist lists apply) with the faults real copies have, then runs chapters 06-11 and 13 on it with
``mgc reproduce --dataset gtzan`` (one epoch; the rest of the ``quick`` profile):

* the very first clip, ``blues.00000.wav``, is 12 s long (a chapter must not assume 30 s);
* ``jazz.00054.wav`` is corrupt, as in the WAV copy that circulates;
* one clip is 45 s long, as a user's own songs may be;
* only 8 clips per genre exist (part of the 1,000), and one of them per genre is a clip the artist
  lists leave out (a repeat or distortion of Sturm's), where GTZAN has one.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mgc_helpers.book.reproduce import reproduce
from mgc_helpers.core.config import GENRES
from mgc_helpers.data.gtzan_lists import gtzan_artists
from mgc_helpers.data.synth.artists import artist_ids
from mgc_helpers.data.synth.render import render_clip

ROOT = Path(__file__).resolve().parents[1]
CLIPS_PER_GENRE = 8


def _clip_ids(genre: str) -> list[str]:
    """Clips of distinct artists first, plus one clip without a known artist where there is one."""
    artists = gtzan_artists()
    ids = [f"{genre}.{i:05d}" for i in range(100)]
    unknown = [t for t in ids if t not in artists]
    chosen, seen = [], set()
    for t in ids:
        if t in artists and artists[t] not in seen:
            chosen.append(t)
            seen.add(artists[t])
    chosen = chosen[: CLIPS_PER_GENRE - (1 if unknown else 0)]
    chosen += [t for t in ids if t in artists and t not in chosen][: CLIPS_PER_GENRE - len(chosen) - bool(unknown)]
    if genre == "blues" and "blues.00000" not in chosen:
        chosen[0] = "blues.00000"
    return sorted(chosen + unknown[:1])


@pytest.fixture(scope="module")
def gtzan_copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gtzan-copy")
    for genre in GENRES:
        folder = root / "genres_original" / genre
        folder.mkdir(parents=True)
        ids = _clip_ids(genre)
        if genre == "jazz":
            ids = sorted(set(ids[:-1]) | {"jazz.00054"})
        for k, track in enumerate(ids):
            path = folder / f"{track}.wav"
            if track == "jazz.00054":
                path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEdata" + bytes(64))  # unreadable, like the real one
                continue
            seconds = 12.0 if track == "blues.00000" else 45.0 if (genre, k) == ("rock", 1) else 30.0
            y = render_clip(genre, artist=artist_ids(genre)[k % 6], seed=1000 + k, duration=seconds)
            sf.write(path, y, 22050, subtype="PCM_16")
    return root


def test_every_data_chapter_runs_on_a_real_style_gtzan_copy(gtzan_copy, tmp_path):
    out = tmp_path / "out"
    result = reproduce(dataset="gtzan", data_dir=gtzan_copy, profile="quick", epochs=1, out=out,
                       notebooks="06,07,08,09,10,11,13", book=False, root=ROOT, log=lambda _: None)
    assert [r.source.name[:2] for r in result.runs] == ["06", "07", "08", "09", "10", "11", "13"]
    text = {r.source.name[:2]: _outputs(r.executed) for r in result.runs}
    # chapter 06 reports the corrupt file and the short clip, and shows the clips that exist
    assert "jazz.00054.wav" in text["06"] and "unreadable" in text["06"]
    assert "blues.00000" in text["06"] and "short clip" in text["06"]
    assert "without a known artist left out" in text["06"]
    # the results chapters wrote their tables from these data
    table2 = pd.read_csv(out / "tables" / "table2.csv", index_col=0)
    assert table2["accuracy"].between(0, 1).all() and len(table2) == 4
    grid = pd.read_csv(out / "tables" / "protocols.csv")
    assert set(grid["protocol"]) == {"segment", "track", "artist"}
    assert {"cnn", "cnn_tutorial"} == set(grid["model"])
    # chapter 11 used the CNN chapter 09 trained on these data, and its report says so
    assert "reused the CNN of chapter 09" in text["11"] and "trained on the gtzan dataset" in text["11"]
    meta = (out / "models" / "cnn.json").read_text()
    assert '"dataset": "gtzan"' in meta and '"epochs": 1' in meta
    # chapter 13 embedded these clips (the 12-s and 45-s ones too), compared on the same grid, saved its probe
    transfer_grid = pd.read_csv(out / "tables" / "transfer_protocols.csv")
    assert set(transfer_grid["model"]) == {"musicnn_probe", "musicnn_zeroshot"}
    assert set(transfer_grid["protocol"]) == {"segment", "track", "artist"}
    assert transfer_grid["accuracy"].between(0, 1).all()
    assert "took their track's last patch" in text["13"] and "patches: patch_X" in text["13"]
    from mgc_helpers.beyond.transfer import load_probe

    probe = load_probe(out / "models" / "musicnn_probe.npz")
    assert probe.meta["dataset"] == "gtzan" and probe.genres == GENRES


def _outputs(path: Path) -> str:
    nb = nbformat.read(str(path), as_version=4)
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            data = output.get("data", {})
            parts.append(data.get("text/plain", ""))
            parts.append(data.get("text/html", ""))
    return "\n".join(p if isinstance(p, str) else "".join(p) for p in parts)


def test_the_copy_has_the_faults_it_claims(gtzan_copy):
    from mgc_helpers.data.datasets import load_dataset

    ds = load_dataset(gtzan_copy)
    assert ds.genres == GENRES
    assert [s.path.name for s in ds.skipped] == ["jazz.00054.wav"]
    assert ds.tracks[0].track_id == "blues.00000"
    assert sf.info(str(ds.tracks[0].path)).duration == pytest.approx(12.0)
    unknown = [t for t in ds.tracks if t.artist is None]
    assert 1 <= len(unknown) <= len(GENRES)
    assert len(ds.tracks) <= CLIPS_PER_GENRE * len(GENRES)
    assert np.all([sum(t.genre == g for t in ds.tracks) >= 6 for g in GENRES])
