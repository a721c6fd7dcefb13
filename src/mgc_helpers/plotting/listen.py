"""Audio players for the notebooks: short, faded excerpts that keep the pages small.

Explained in ``01_waveform.ipynb`` (``play``) and ``06_dataset.ipynb`` (``audio_html``, a player
inside a table).
"""
from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import numpy as np

__all__ = ["audio_html", "audio_table", "excerpt", "play"]


def excerpt(y: np.ndarray, *, sr: int, seconds: float = 1.0, start: float = 0.0,
            fade: float = 0.01) -> np.ndarray:
    """``seconds`` of ``y`` from ``start`` (clamped to what exists), with a linear fade-out at the cut.

    Returns a float64 copy; ``y`` is not changed.
    """
    y = np.asarray(y)
    first = min(max(0, int(start * sr)), max(0, y.size - 1))
    clip = np.array(y[first: first + int(seconds * sr)], dtype=np.float64)
    n = min(int(fade * sr), clip.size)
    if n:
        clip[-n:] *= np.linspace(1.0, 0.0, n)
    return clip


def play(label: str, y: np.ndarray, *, sr: int, seconds: float = 1.0) -> None:
    """Print ``label`` and show a player for the first ``seconds`` of ``y`` (not normalised)."""
    from IPython.display import Audio, display

    print(label)
    display(Audio(excerpt(y, sr=sr, seconds=seconds), rate=sr, normalize=False))


def audio_html(y: np.ndarray, *, sr: int) -> str:
    """An ``<audio>`` element holding ``y`` as a small MP3 (WAV at half the rate where MP3 cannot be written).

    The audio is embedded as a ``data:`` URL, so the page needs no other file.
    """
    import soundfile as sf

    y = excerpt(y, sr=sr, seconds=len(y) / sr).astype(np.float32)
    buffer, mime = io.BytesIO(), "audio/mpeg"
    try:
        sf.write(buffer, y, sr, format="MP3", subtype="MPEG_LAYER_III", compression_level=0.9)
    except Exception:  # libsndfile < 1.1 has no MP3 encoder
        buffer, mime = io.BytesIO(), "audio/wav"
        sf.write(buffer, y[::2], sr // 2, format="WAV", subtype="PCM_16")
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<audio controls preload="none" src="data:{mime};base64,{data}"></audio>'


def audio_table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table; cells that are ``<audio>`` elements (from :func:`audio_html`) are kept as HTML."""
    def cell(value: object) -> str:
        text = str(value)
        return text if text.startswith("<audio") else html.escape(text)

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
