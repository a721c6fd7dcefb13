"""The ``mgc`` command line: :mod:`~mgc_helpers.commands.cli` runs one module here per subcommand.

A module that defines ``add_parser`` is a subcommand; the others are the runner and what the
subcommands share.

=============  =====================================================================  ==========
module         what it holds                                                          chapter(s)
=============  =====================================================================  ==========
``cli``        ``mgc`` itself: builds the parser from the subcommands, runs one       11, 14
``common``     the user-facing error, argument types, writing a report                11, 14
``extract``    ``mgc extract``: MFCC segments of a dataset, to a file                 06
``predict``    ``mgc predict``: the genres of your own audio files, any model         11, 13
``reproduce``  ``mgc reproduce``: run the notebooks, build the book                   10
``similar``    ``mgc similar``: the songs of a folder most like a song                14
``spread``     ``mgc spread``: measure the seed spread of every glued number          10
``synth``      ``mgc synth``: write the synthetic dataset                             06
=============  =====================================================================  ==========
"""
