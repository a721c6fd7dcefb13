"""mgc_helpers: the helper package of mgc-book.

Modules follow the book's chapters:

==========================  ================================================  ============
module                      what it holds                                     chapter(s)
==========================  ================================================  ============
``config``, ``profiles``    the paper's settings, run sizes                   all
``paths``                   where data, caches and results live               all
``chapter``                 one set-up for every data chapter                 06-11
``audio``                   loading and segmenting audio                      01, 06
``sounds``                  example sounds made by code                       01-05
``spectral``                FFT, STFT, dB, mel scale, filter bank, cepstrum   02-05
``mfcc``                    MFCC from scratch                                 05
``plotting``                every figure, and the audio players               01-11
``synth``                   the embedded synthetic genre dataset              06
``datasets``, ``splits``    GTZAN and synthetic loading, evaluation splits    06, 10
``features``                cached, parallel MFCC extraction                  06
``models``, ``training``    the paper's MLP, RNN-LSTM and CNN                 07-09
``evaluation``              metrics, track-level results, protocols           07-10
``checks``                  the chapters' regression guards                   07-10
``provenance``              what produced the stored outputs                  10
``reproduce``, ``predict``  rebuilding the book, classifying your music       10, 11
``baseline``                MFCC statistics with logistic regression / SVM    10
``retrieval``               similar songs, thumbnails (``mgc similar``)       (13)
``musicnn``, ``zeroshot``   a pretrained tagger (MSD tags), zero-shot genres  11
==========================  ================================================  ============

Heavy modules (TensorFlow, librosa) are imported by the modules that need them, not here.
"""
from .config import GENRES, PAPER_CONFIG, FeatureConfig, label_mapping
from .profiles import Profile, get_profile

__version__ = "0.1.0"

__all__ = ["GENRES", "PAPER_CONFIG", "FeatureConfig", "label_mapping", "Profile", "get_profile", "__version__"]
