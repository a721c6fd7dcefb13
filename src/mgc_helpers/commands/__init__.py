"""Subcommands of ``mgc``: one module each, with ``add_parser(subparsers)``."""
