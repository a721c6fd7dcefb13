"""The numbers a chapter's prose states: glued into the text, and kept for the chapter's guard.

Every result the book's prose states is computed by the chapter's own run and *glued* into the text
with MyST-NB ({glue:text}`cnn_accuracy:.3f` in a markdown cell); a number typed into the prose by
hand is refused by ``tests/test_prose_numbers.py``. :func:`glue` is :func:`myst_nb.glue` that also
keeps each value in :data:`GLUED`, so that the guard cell at the end of the chapter
(:func:`mgc_helpers.book.checks.check_glued`) checks every glued result against the spread measured over
several seeds, and none can be left unguarded.

Explained in ``10_results.ipynb`` ("How the results are guarded").
"""
from __future__ import annotations

from typing import Any

__all__ = ["GLUED", "glue"]

#: Every value glued in this process (one notebook's kernel), by name, in the order glued.
GLUED: dict[str, Any] = {}


def glue(name: str, value: Any, display: bool = True) -> None:
    """Glue ``value`` under ``name`` for the book's text (:func:`myst_nb.glue`) and keep it in :data:`GLUED`.

    Parameters
    ----------
    name : str
        The name a markdown cell refers to: ``{glue:text}`name``` or ``{glue:text}`name:.3f```.
    value : object
        A number, a string or any object MyST-NB can show.
    display : bool
        Also show the value as the cell's output (MyST-NB's default); chapters pass ``False``.

    Examples
    --------
    >>> glue("n_genres", 10, display=False)   # doctest: +SKIP
    >>> GLUED["n_genres"]                     # doctest: +SKIP
    10
    """
    from myst_nb import glue as myst_glue

    GLUED[name] = value
    myst_glue(name, value, display=display)
