"""mgc_helpers: the helper package of mgc-book.

Its subpackages follow the parts of the book, listed from the bottom of the import graph up. Each
imports only the subpackages above it in this table, and ``tests/test_structure.py`` checks that
(and that no private name crosses from one subpackage to another). Each subpackage's docstring
lists its modules and the chapters that explain them.

=============  =======================================================  ============
subpackage     what it holds                                            chapters
=============  =======================================================  ============
``core``       the paper's settings, run sizes, folders, compute        all
``signal``     audio, FFT, STFT, mel, MFCC (part *From sound to         01-05
               features*)
``data``       the datasets, MFCC segments, splits (part *Data*)        06
``models``     the paper's models, training, evaluation, the grid       07-10
               runner, baselines (part *The paper's models*)
``predict``    one prediction path for every model (part *Your own      11
               music*)
``beyond``     optimisers, musicnn, zero-shot, probe, retrieval (part   12-14
               *Beyond the paper*)
``plotting``   every figure, and the audio players                      01-14
``book``       rebuilding the book, provenance, glued numbers, guards   all
``commands``   the ``mgc`` command line                                 11, 14
=============  =======================================================  ============

Heavy modules (TensorFlow, librosa) are imported by the modules that need them, not here.
"""
__version__ = "0.1.0"
