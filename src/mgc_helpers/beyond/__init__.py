"""Beyond the paper (part 5 of the book, chapters 12-14).

===================  ========================================================  ==========
module               what it holds                                             chapter(s)
===================  ========================================================  ==========
``optimisers``       optimisers, learning rates, activations (paper sec. 4)    12
``musicnn_input``    musicnn's input: 16-kHz log-mel spectrogram, 3-s patches  13, 14
``musicnn``          a pretrained tagger (MSD tags), ported to Keras 3         13, 14
``musicnn_dataset``  musicnn embeddings of a dataset, cached (``trackmap``)    13, 14
``musicnn_front``    musicnn as a front end of the one prediction path         11, 13
``zeroshot``         GTZAN genres from musicnn's tags, zero-shot (one model)   13
``transfer``         linear probe on musicnn's embedding, probe files          13
``embedders``        track embeddings for similar songs (cnn, mfcc, musicnn)   14
``retrieval``        cosine neighbours, genre precision@k, maps                14
``library``          a folder's cached embeddings, ``mgc similar``'s search    14
``thumbnails``       a track's thumbnail: the segment most sure of its genre   14
===================  ========================================================  ==========
"""
