"""Beyond the paper (part 5 of the book, chapters 12-14).

================  ========================================================  ==========
module            what it holds                                             chapter(s)
================  ========================================================  ==========
``optimisers``    optimisers, learning rates, activations (paper sec. 4)    12
``musicnn``       a pretrained tagger (MSD tags), in Keras and NumPy        13, 14
``zeroshot``      GTZAN genres from musicnn's tags, zero-shot               13
``transfer``      linear probe on musicnn's embedding, probe files          13
``retrieval``     similar songs, thumbnails (``mgc similar``)               14
================  ========================================================  ==========
"""
