"""The ``mgc`` command line: :mod:`~mgc_helpers.commands.cli` runs one module here per subcommand.

``extract``, ``predict``, ``reproduce``, ``similar``, ``spread`` and ``synth`` are subcommands
(each defines ``add_parser``); :mod:`~mgc_helpers.commands.common` holds what they share.
"""
