from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from mgc_helpers.commands.cli import main
from mgc_helpers.data.segments import SegmentSet

SR = 22050


def make_gtzan(root, *, seconds=30.0, genres=("blues", "rock"), n=1):
    base = root / "genres_original"
    for g in genres:
        (base / g).mkdir(parents=True)
        for i in range(n):
            t = np.arange(int(seconds * SR)) / SR
            sf.write(str(base / g / f"{g}.{i:05d}.wav"), 0.2 * np.sin(2 * np.pi * (220 + 110 * i) * t), SR)
    return base


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["extract", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("DATA_DIR", "--dataset", "--out", "--json", "--jobs", "--backend", "--no-progress"):
        assert option in text


def test_extract_prints_a_report_and_writes_outputs(tmp_path, capsys):
    base = make_gtzan(tmp_path / "gtzan")
    (base / "rock" / "rock.00001.wav").write_bytes(b"broken" * 100)
    sf.write(str(base / "rock" / "rock.00002.wav"), np.zeros(SR), SR)  # 1 s: too short
    args = ["extract", str(tmp_path / "gtzan"), "--out", str(tmp_path / "out" / "f.npz"), "--json",
            str(tmp_path / "data.json"), "--jobs", "1", "--no-progress", "--cache-dir", str(tmp_path / "cache")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "gtzan dataset (genres_original layout)" in out
    assert "rock/rock.00001.wav: unreadable audio header" in out
    assert "skipped during extraction: 1 file(s):" in out and "rock.00002.wav: too short (1.00 s)" in out
    assert "features: 20 segments of 130 x 13 MFCCs from 2 tracks (3 listed), 2 genres" in out
    assert "cache: miss" in out and "extraction:" in out
    segs = SegmentSet.load(tmp_path / "out" / "f.npz")
    assert segs.X.shape == (20, 130, 13) and segs.genres == ("blues", "rock")
    assert json.loads((tmp_path / "data.json").read_text())["mapping"] == ["blues", "rock"]
    assert main(args[:2] + ["--jobs", "1", "--no-progress", "--cache-dir", str(tmp_path / "cache")]) == 0
    assert "cache: hit" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["extract", "{tmp}/missing"], "does not exist"),
    (["extract", "{tmp}/empty"], "is empty"),
    (["extract", "{tmp}/gtzan", "--out", "{tmp}/f.txt"], "--out must name a .npz file"),
    (["extract", "{tmp}/gtzan", "--dataset", "synthetic"], "not a synthetic dataset"),
    (["extract", "{tmp}/gtzan", "--scheduler", "tcp://x:1"], "only applies with --backend dask"),
])
def test_user_errors_are_reported_cleanly(tmp_path, capsys, args, message):
    make_gtzan(tmp_path / "gtzan", seconds=1.0)
    (tmp_path / "empty").mkdir()
    assert main([a.format(tmp=tmp_path) for a in args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mgc extract: error:") and message in err and "Traceback" not in err


@pytest.mark.parametrize("jobs", ["0", "two"])
def test_bad_jobs_value_is_an_argument_error(tmp_path, capsys, jobs):
    with pytest.raises(SystemExit) as exit_info:
        main(["extract", str(tmp_path), "--jobs", jobs])
    assert exit_info.value.code == 2 and "positive integer" in capsys.readouterr().err
