"""Figures of the signal chapters 01-05 (waveform, spectrum, spectrogram, filter bank, MFCC)."""

__all__: list[str] = []
