"""Figures of the book, one consistent look, and the audio players (chapters 01-14).

Every figure function takes an optional ``ax`` (a new figure is made when it is ``None``) and
returns ``(fig, ax, artist)``, where ``artist`` is the main matplotlib object drawn (a line, an
image, ...). Import each function from the module that holds it, e.g.
``from mgc_helpers.plotting.signal import plot_waveform``.

==============  ==============================================================  ==========
module          what it holds                                                   chapter(s)
==============  ==============================================================  ==========
``style``       the book's look (``use_style``), ``new_axes``, ``savefig``      01-14
``listen``      audio players: ``play``, ``excerpt``, ``audio_html``,            01-06, 11,
                ``audio_table``                                                 14
``signal``      waveform, spectrum, spectrogram, mel filter bank, MFCC,         01-06
                cepstrum
``results``     training histories, learning curves, confusion matrices,        07-10, 12,
                per-genre and per-protocol bars                                 13
``retrieval``   the 2-D map of track embeddings                                 14
==============  ==============================================================  ==========
"""
