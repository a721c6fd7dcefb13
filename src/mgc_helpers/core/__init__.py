"""The core: the paper's settings, run sizes, folders, how training uses the machine, skip records.

Used by every part of the book and importing nothing of the package.

=============  =====================================================================  ==========
module         what it holds                                                          chapter(s)
=============  =====================================================================  ==========
``config``     the paper's settings (:data:`~mgc_helpers.core.config.PAPER_CONFIG`),  all
               genre names and labels
``profiles``   run sizes: ``quick``, ``default``, ``paper``                           all
``paths``      where data, caches and results live                                    all
``compute``    threads, steps per execution, XLA, trainings side by side              07-10
``records``    ``Skipped``: a file reported instead of used                           06, 11
=============  =====================================================================  ==========
"""
