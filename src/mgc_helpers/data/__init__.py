"""Data (part 2 of the book, chapter 06): the datasets, their MFCC segments and their splits.

===============  =========================================================  ==========
module           what it holds                                              chapter(s)
===============  =========================================================  ==========
``synth``        the embedded synthetic genre dataset (a package)           06
``gtzan_lists``  the packaged GTZAN split lists and artists                 06, 10
``datasets``     finding GTZAN and synthetic clips on disk                  06
``segments``     ``SegmentSet``: MFCC segments and their files              06
``trackmap``     one cached, parallel map over tracks (MFCCs, embeddings)   06, 13
``features``     MFCC extraction of a dataset, through ``trackmap``         06
``splits``       train / validation / test splits (protocols)               06, 10
===============  =========================================================  ==========
"""
