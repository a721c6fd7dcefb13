"""mgc_helpers: the helper package of mgc-book.

Modules follow the book's chapters, listed from the bottom of the import graph up: each imports
only modules above it in this table (``cli`` and ``commands``, the command line, come last), and
``tests/test_structure.py`` checks that the imports never run in a circle:

==========================  ================================================  ============
module                      what it holds                                     chapter(s)
==========================  ================================================  ============
``config``, ``profiles``    the paper's settings, run sizes                   all
``paths``                   where data, caches and results live               all
``compute``                 how training uses the machine: threads, steps     07-10
                            per execution, XLA, trainings side by side
``audio``                   loading and segmenting audio                      01, 06
``sounds``                  example sounds made by code                       01-05
``spectral``                FFT, STFT, dB, mel scale, filter bank, cepstrum   02-05
``mfcc``                    MFCC from scratch, step by step (for teaching)    05
``mfcc_fast``               the fast, batched MFCC the pipeline stores        05, 06
``plotting``                every figure, and the audio players               01-14
``synth``                   the embedded synthetic genre dataset              06
``records``                 ``Skipped``: a file reported instead of used      06
``gtzan_lists``             the packaged GTZAN lists and artists              06, 10
``datasets``                finding GTZAN and synthetic clips on disk         06
``segments``                ``SegmentSet``: MFCC segments and their files     06
``features``                cached, parallel MFCC extraction                  06
``splits``                  train / validation / test splits (protocols)      06, 10
``models``                  the paper's MLP, RNN-LSTM and CNN (Keras)         07-09
``inference``               a saved model's forward pass in NumPy             11
``model_files``             a trained model, saving and loading it            07, 11
``training``                fitting the models                                07-09
``evaluation``              metrics, track-level results                      07-10, 13
``experiments``             the protocol grid (models x splits x seeds)       10, 13
``optimisers``              optimisers, learning rates, activations (sec. 4)  12
``glued``                   the numbers the prose states, kept for guards     01-05, 07-14
``spread``                  the spread of each glued number over seeds        10
``checks``                  the chapters' regression guards                   06-14
``chapter``                 one set-up for every data chapter                 06-14
``provenance``              what produced the stored outputs                  10
``reproduce``, ``predict``  rebuilding the book, classifying your music       10, 11
``baseline``                MFCC statistics with logistic regression / SVM    10, 13
``musicnn``, ``zeroshot``   a pretrained tagger (MSD tags), zero-shot genres  13, 14
``transfer``                linear probe on musicnn's embedding, probe files  13
``retrieval``               similar songs, thumbnails (``mgc similar``)       14
==========================  ================================================  ============

Heavy modules (TensorFlow, librosa) are imported by the modules that need them, not here.
"""
from .config import GENRES, PAPER_CONFIG, FeatureConfig, label_mapping
from .profiles import Profile, get_profile

__version__ = "0.1.0"

__all__ = ["GENRES", "PAPER_CONFIG", "FeatureConfig", "Profile", "__version__", "get_profile", "label_mapping"]
