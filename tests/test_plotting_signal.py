"""Tests of mgc_helpers.plotting.signal: return values, drawing on a given axes, errors."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection, QuadMesh
from matplotlib.lines import Line2D

from mgc_helpers import plotting
from mgc_helpers.plotting import signal as ps
from mgc_helpers.signal import spectral as sp

SR = 22050
Y = np.sin(2 * np.pi * 440 * np.arange(SR // 2) / SR).astype(np.float32)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _calls():
    S_db = sp.to_db(sp.spectrogram(Y, n_fft=1024, hop_length=256))
    M_db = sp.to_db(sp.mel_spectrogram(Y, n_mels=40))
    return {
        "waveform": (ps.plot_waveform, (Y,), {"sr": SR}, Line2D),
        "spectrum": (ps.plot_spectrum, tuple(sp.power_spectrum(Y)), {}, Line2D),
        "spectrum_log": (ps.plot_spectrum, tuple(sp.power_spectrum(Y)), {"log_freq": True, "db": False}, Line2D),
        "spectrogram": (ps.plot_spectrogram, (S_db,), {"hop_length": 256}, QuadMesh),
        "spectrogram_log": (ps.plot_spectrogram, (S_db,), {"hop_length": 256, "y_axis": "log"}, QuadMesh),
        "spectrogram_mel": (ps.plot_spectrogram, (M_db,), {"y_axis": "mel"}, QuadMesh),
        "filterbank": (ps.plot_filterbank, (sp.mel_filterbank(n_mels=40),), {"every": 2}, LineCollection),
        "mfcc": (ps.plot_mfcc, (np.random.default_rng(0).standard_normal((13, 130)),), {}, QuadMesh),
        "cepstrum": (ps.plot_cepstrum, (sp.cepstrum(Y[:2048]),), {}, Line2D),
    }


CALLS = _calls()


@pytest.mark.parametrize("name", sorted(CALLS))
def test_returns_fig_ax_artist_on_new_figure(name):
    func, args, kwargs, artist_type = CALLS[name]
    fig, ax, artist = func(*args, **kwargs)
    assert ax.figure is fig and isinstance(artist, artist_type)
    assert artist.axes is ax
    assert ax.get_xlabel()


@pytest.mark.parametrize("name", sorted(CALLS))
def test_draws_on_given_axes(name):
    func, args, kwargs, _ = CALLS[name]
    fig0, axes = plt.subplots(1, 2)
    fig, ax, artist = func(*args, ax=axes[1], **kwargs)
    assert fig is fig0 and ax is axes[1] and artist.axes is axes[1]
    assert not axes[0].has_data()


def test_every_figure_is_imported_from_its_module():
    for name in ps.__all__:
        func = getattr(ps, name)
        assert callable(func) and func.__module__ == ps.__name__
        assert not hasattr(plotting, name)  # the package's __init__ is a docstring only
    assert {"plot_waveform", "plot_spectrum", "plot_spectrogram", "plot_filterbank", "plot_mfcc"} <= set(ps.__all__)


def test_axes_content():
    _, ax, line = ps.plot_waveform(Y, sr=SR, offset=1.0)
    assert line.get_xdata()[0] == 1.0 and ax.get_xlabel() == "time (s)"
    S_db = sp.to_db(sp.spectrogram(Y, n_fft=1024, hop_length=256))
    _, ax, mesh = ps.plot_spectrogram(S_db, hop_length=256, colorbar=False)
    assert mesh.get_array().size == S_db.size
    assert ax.get_ylim()[1] == pytest.approx(SR / 2)
    _, ax, lines = ps.plot_filterbank(sp.mel_filterbank(n_mels=40), every=4)
    assert len(lines.get_segments()) == 10
    _, ax, _ = ps.plot_mfcc(np.zeros((13, 20)) + 1.0, title="MFCC")
    assert ax.get_title() == "MFCC" and ax.get_ylabel() == "MFCC index"
    _, ax, mesh = ps.plot_mfcc(np.ones((12, 20)), first=1, vmax=5.0, colorbar=False)
    assert ax.get_ylim() == (0.5, 12.5) and mesh.get_clim() == (-5.0, 5.0)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="mono"):
        ps.plot_waveform(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="differ in shape"):
        ps.plot_spectrum(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="y_axis"):
        ps.plot_spectrogram(np.zeros((513, 4)), y_axis="bark")
    with pytest.raises(ValueError, match="do not match"):
        ps.plot_spectrogram(np.zeros((513, 4)), n_fft=2048)
    with pytest.raises(ValueError, match="n_mfcc"):
        ps.plot_mfcc(np.zeros(13))
    with pytest.raises(ValueError, match="every"):
        ps.plot_filterbank(np.zeros((4, 1025)), every=0)
