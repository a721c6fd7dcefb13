"""Thumbnails in `mgc predict --segments` output: the segment most sure of the track's genre, in every format."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from mgc_helpers.beyond import thumbnails
from mgc_helpers.predict.report import PredictionReport, TrackPrediction, format_report

GENRES = ("jazz", "rock")
# a very "jazz" intro, then rock; the track is rock and its most "rock" segment is segment 2 (6-9 s)
PROBA = np.array([[0.95, 0.05], [0.30, 0.70], [0.10, 0.90], [0.20, 0.80], [0.25, 0.75]])


def _report() -> PredictionReport:
    mean = PROBA.mean(axis=0)
    song = TrackPrediction(Path("song.wav"), GENRES, mean / mean.sum(), PROBA, 15.0, segment_seconds=3.0)
    return PredictionReport([song], [], model="cnn", trained_on="cnn, trained on a test")


def test_the_thumbnail_is_the_segment_most_sure_of_the_tracks_genre():
    song = _report().predictions[0]
    assert song.genre == "rock" and song.thumbnail == 2  # not segment 0, the most confident of any genre
    same = thumbnails.prediction_thumbnail(song)
    assert (same.index, same.start, same.end, same.genre) == (2, 6.0, 9.0, "rock")
    assert thumbnails.prediction_thumbnail(song, by="max").index == 0


def test_every_format_names_the_thumbnail_with_segments_only():
    report = _report()
    data = json.loads(format_report(report, fmt="json", segments=True))["predictions"][0]
    assert data["thumbnail"] == {"segment": 2, "start": 6.0, "end": 9.0, "genre": "rock", "probability": 0.9}
    assert "thumbnail" not in json.loads(format_report(report, fmt="json"))["predictions"][0]
    rows = list(csv.DictReader(io.StringIO(format_report(report, fmt="csv", segments=True))))
    thumb = [r for r in rows if r["segment"] == "thumbnail"]
    assert len(thumb) == 1 and (thumb[0]["start"], thumb[0]["genre"], thumb[0]["probability"]) == ("6.0", "rock",
                                                                                                    "0.9000")
    assert [r["segment"] for r in rows if r["segment"] not in ("track", "thumbnail")] == ["0", "1", "2", "3", "4"]
    assert not any(r["segment"] == "thumbnail" for r in csv.DictReader(io.StringIO(format_report(report, fmt="csv"))))
    text = format_report(report, segments=True)
    marked = [line for line in text.splitlines() if "<- thumbnail" in line]
    assert len(marked) == 1 and marked[0].split()[0] == "6.0"
    assert "thumbnail: 6.0-9.0 s (segment 2, rock 0.90)" in text
    assert "thumbnail" not in format_report(report)
