"""Build the HTML book once per test session, into a temporary folder (never into the checkout).

Shared by ``test_book_offline.py`` and ``test_book_browser.py``. The sources are staged and built
exactly as ``mgc reproduce`` does it (:func:`mgc_helpers.book.reproduce.stage_book` and
:func:`~mgc_helpers.book.reproduce.build_book`, warnings are errors), from the stored notebooks.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_BUILT: dict[str, Path] = {}


def built_book(tmp_path_factory) -> Path:
    """Return ``_build/html`` of a build of the checkout's book, made on first use."""
    if "html" not in _BUILT:
        from mgc_helpers.book.reproduce import build_book, stage_book

        staging = stage_book(tmp_path_factory.mktemp("book") / "src", executed={}, root=ROOT)
        index = build_book(staging)
        _BUILT["html"] = index.parent
    return _BUILT["html"]


def html_pages(html: Path) -> list[Path]:
    """Every page of the built book (not the theme's or the sources' files)."""
    skip = {"_static", "_sources", "_images", "_downloads"}
    return sorted(p for p in html.rglob("*.html") if not skip & set(p.relative_to(html).parts))
