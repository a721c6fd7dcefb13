"""From sound to features (part 1 of the book, chapters 01-05): audio, spectra, MFCCs.

=============  =====================================================  ==========
module         what it holds                                          chapter(s)
=============  =====================================================  ==========
``audio``      loading audio; segments, also streamed block by block  01, 06, 11
``sounds``     example sounds made by code                            01-05
``spectral``   FFT, STFT, dB, mel scale, filter bank, cepstrum        02-05
``mfcc``       MFCC from scratch, step by step (for teaching)         05
``mfcc_fast``  the fast, batched MFCC the pipeline stores             05, 06
=============  =====================================================  ==========
"""
