"""Figures of the book, one consistent look.

Every function takes an optional ``ax`` (a new figure is made when it is ``None``) and returns
``(fig, ax, artist)``, where ``artist`` is the main matplotlib object drawn (a line, an image, ...).
Signal figures (chapters 01-05) are in :mod:`.signal`, training and results figures (07-10) in
:mod:`.results`, the retrieval map (13) in :mod:`.retrieval`, audio players in :mod:`.listen`; all
are re-exported here.
"""
from . import listen as _listen
from . import results as _results
from . import retrieval as _retrieval
from . import signal as _signal
from .listen import *  # noqa: F403
from .results import *  # noqa: F403
from .retrieval import *  # noqa: F403
from .signal import *  # noqa: F403
from .style import new_axes, savefig, use_style

__all__ = ["new_axes", "savefig", "use_style", *_signal.__all__, *_results.__all__, *_retrieval.__all__,
           *_listen.__all__]
