"""Shared pytest set-up for the unit tests and the nbval notebook runs.

Notebook kernels inherit this environment, so nbval executes every notebook under the ``quick``
profile unless ``MGC_PROFILE`` is already set.
"""
import os

os.environ.setdefault("MGC_PROFILE", "quick")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
