"""`mgc predict` end to end on a tiny model trained on sounds the test makes."""
from __future__ import annotations

import csv
import io
import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from _tiny_model import GENRES, SR, TINY, bright_noise, low_tone, train_tiny_model

from mgc_helpers.commands.cli import main
from mgc_helpers.core.config import FeatureConfig
from mgc_helpers.models import training
from mgc_helpers.predict.classifier import default_model_path
from mgc_helpers.predict.report import format_report
from mgc_helpers.predict.run import find_audio_files, predict_file, predict_paths


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return train_tiny_model("mlp", tmp_path_factory.mktemp("results"))


@pytest.fixture(scope="module")
def trained(model_path):
    return training.load_model(model_path)


def test_predicts_the_right_genre_for_any_rate_channels_and_length(tmp_path, trained):
    # stereo 44.1 kHz, 7.5 s of a low tone: resampled, mixed down, 25 segments of 0.3 s
    t = low_tone(7.5, seed=99, sr=44100)
    sf.write(tmp_path / "tone.wav", np.stack([t, t], axis=1), 44100)
    sf.write(tmp_path / "noise.flac", bright_noise(3.9, seed=99, sr=48000), 48000)
    tone = predict_file(tmp_path / "tone.wav", trained)
    noise = predict_file(tmp_path / "noise.flac", trained)
    assert tone.genre == "classical" and noise.genre == "metal"
    assert tone.n_segments == 25 and noise.n_segments == 13
    assert tone.probabilities.shape == (2,) and tone.probabilities.sum() == pytest.approx(1.0)
    assert tone.segment_probabilities.shape == (25, 2)
    assert np.allclose(tone.probabilities, tone.segment_probabilities.mean(axis=0))
    assert tone.top(1)[0][0] == "classical" and len(tone.top(5)) == 2
    # OGG Vorbis, mono 32 kHz (lossy, so only the answer is compared)
    sf.write(tmp_path / "tone.ogg", low_tone(3.0, seed=98, sr=32000), 32000, format="OGG", subtype="VORBIS")
    ogg = predict_file(tmp_path / "tone.ogg", trained)
    assert ogg.genre == "classical" and ogg.n_segments == 10


def test_bad_files_are_reported_not_lost(tmp_path, trained):
    folder = tmp_path / "music"
    folder.mkdir()
    sf.write(folder / "good.wav", low_tone(3.0), SR)
    (folder / "fake.mp3").write_bytes(b"ID3 not really an mp3" * 50)
    (folder / "empty.wav").write_bytes(b"")
    sf.write(folder / "short.wav", low_tone(0.1), SR)
    nan = low_tone(3.0)
    nan[5] = np.nan
    sf.write(folder / "nan.wav", nan, SR, subtype="FLOAT")
    (folder / ".hidden.wav").write_bytes(b"x")
    (folder / "cover.jpg").write_bytes(b"x")
    report = predict_paths([folder, tmp_path / "missing.wav"], trained)
    assert [p.path.name for p in report.predictions] == ["good.wav"]
    reasons = {s.path.name: s.reason for s in report.skipped}
    assert set(reasons) == {"fake.mp3", "empty.wav", "short.wav", "nan.wav", "missing.wav"}
    assert "cannot decode" in reasons["fake.mp3"]
    assert "empty file" in reasons["empty.wav"]
    assert "too short" in reasons["short.wav"]
    assert "NaN" in reasons["nan.wav"]
    assert "no such file" in reasons["missing.wav"]
    assert sorted(p.name for p in report.ignored) == [".hidden.wav", "cover.jpg"]
    assert report.summary().startswith("1 file(s) classified, 5 skipped, 2 ignored")


def test_empty_folder_is_reported(tmp_path):
    files, skipped, _ = find_audio_files([tmp_path])
    assert files == [] and "no audio file" in skipped[0].reason


def test_silent_audio_gets_a_note(tmp_path, trained):
    sf.write(tmp_path / "silence.wav", np.zeros(SR * 3, dtype=np.float32), SR)
    pred = predict_file(tmp_path / "silence.wav", trained)
    assert any("silent" in note for note in pred.notes)
    assert np.all(np.isfinite(pred.probabilities))


def test_formats(tmp_path, trained):
    sf.write(tmp_path / "a.wav", low_tone(3.0), SR)
    report = predict_paths([tmp_path / "a.wav", tmp_path / "nope.wav"], trained)
    data = json.loads(format_report(report, fmt="json", top=2, segments=True))
    assert data["predictions"][0]["top"][0]["genre"] == "classical"
    assert len(data["predictions"][0]["segments"]) == 10
    assert data["skipped"][0]["path"].endswith("nope.wav")
    rows = list(csv.DictReader(io.StringIO(format_report(report, fmt="csv", top=2))))
    assert [r["rank"] for r in rows[:2]] == ["1", "2"] and rows[-1]["segment"] == "skipped"
    text = format_report(report)
    assert "classical" in text and "skipped" in text
    with pytest.raises(ValueError, match="unknown format"):
        format_report(report, fmt="xml")


def test_default_model_is_the_default_profiles_cnn_and_nothing_else(tmp_path, model_path, monkeypatch):
    monkeypatch.setenv("MGC_RESULTS_DIR", str(tmp_path / "nothing-here"))
    with pytest.raises(FileNotFoundError, match="mgc reproduce"):
        default_model_path()
    # a newer model elsewhere (a quick run's) is never taken in its place
    default = tmp_path / "results" / "default"
    (default / "models").mkdir(parents=True)
    for suffix in (".keras", ".json"):
        shutil.copy(model_path.with_suffix(suffix), default / "models" / f"cnn{suffix}")
    monkeypatch.setenv("MGC_RESULTS_DIR", str(default))
    assert default_model_path() == default / "models" / "cnn.keras"


def test_report_says_what_the_model_was_trained_on(tmp_path, trained, capsys):
    sf.write(tmp_path / "a.wav", bright_noise(3.0), SR)
    report = predict_paths([tmp_path], trained)
    assert "mlp, trained on the None" not in report.trained_on
    for fmt in ("text", "json", "csv"):
        assert "trained on" in format_report(report, fmt=fmt)
    synthetic = training.TrainedModel(model=None, name="cnn", genres=GENRES, config=TINY, seed=0,
                                      history=training.history_frame({}), params={"dataset": "synthetic"})
    from mgc_helpers.predict.classifier import model_caveat

    assert "synthesiser's styles" in model_caveat(synthetic) and "--dataset gtzan" in model_caveat(synthetic)


def test_cli(tmp_path, model_path, capsys):
    sf.write(tmp_path / "a.wav", bright_noise(3.0), SR)
    assert main(["predict", str(tmp_path / "a.wav"), "--model", str(model_path), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["predictions"][0]["top"][0]["genre"] == "metal"
    # nothing usable: exit 1, with the reason printed
    (tmp_path / "b.wav").write_bytes(b"garbage")
    assert main(["predict", str(tmp_path / "b.wav"), "--model", str(model_path)]) == 1
    assert "skipped" in capsys.readouterr().out


def test_cli_errors(tmp_path, model_path, capsys):
    assert main(["predict", str(tmp_path), "--model", str(tmp_path / "none.keras")]) == 2
    assert "not found" in capsys.readouterr().err
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    (tmp_path / "bad.json").write_text(json.dumps(json.loads(model_path.with_suffix(".json").read_text())))
    assert main(["predict", str(tmp_path), "--model", str(bad)]) == 2
    assert "cannot load model" in capsys.readouterr().err
    assert main(["predict", str(tmp_path), "--model", str(model_path), "--top", "0"]) == 2
    assert "--top" in capsys.readouterr().err
    # an output folder that cannot be made (its parent is a file): a clear error, even as root
    sf.write(tmp_path / "a.wav", bright_noise(3.0), SR)
    code = main(["predict", str(tmp_path / "a.wav"), "--model", str(model_path),
                 "--output", str(tmp_path / "a.wav" / "out.json")])
    assert code == 2 and "cannot write" in capsys.readouterr().err


def test_model_from_another_configuration_is_refused(model_path):
    from mgc_helpers.models.training import FeatureConfigMismatchError

    with pytest.raises(FeatureConfigMismatchError, match="track_duration"):
        training.load_model(model_path, config=FeatureConfig())
