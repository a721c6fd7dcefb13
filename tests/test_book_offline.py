"""The built HTML book needs no network (issue 13).

The book is built into a temporary folder (see ``_book_build.py``), then every page and style sheet
of the build is read: no script, style sheet, font, image, audio or other resource may point
outside the build (``http:``, ``https:`` or protocol-relative ``//``). Plain hyperlinks
(``<a href>``, to citations and DOIs) are allowed: following one is the reader's choice. Every local
reference must name a file inside the build. ``test_book_browser.py`` checks the same in a browser.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from _book_build import ROOT, built_book, html_pages

pytestmark = pytest.mark.slow

EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)  # http://, https://, ftp://, //host
NON_FILE = re.compile(r"^\s*(?:data|blob|about|javascript|mailto|tel):", re.I)
URL_ATTRIBUTES = {"src", "href", "srcset", "poster", "data", "action", "formaction", "background",
                  "manifest"}
CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"]*))\s*\)""", re.I)
CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.I)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
URL_IN_SCRIPT = re.compile(r"""["'`]((?:https?:)?//[a-z0-9][^"'`\s]*)""", re.I)
# sphinx-thebe (always on in Jupyter Book 1) writes this constant into every page; the script is
# fetched only by the "live code" launch button, which this book does not have (checked below).
THEBE_URL = re.compile(r"""\bconst THEBE_JS_URL = "https://unpkg\.com/thebe@[0-9.]+/lib/index\.js";""")


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    return built_book(tmp_path_factory)


def css_references(text: str) -> list[str]:
    """Targets of ``url(...)`` and ``@import`` in a style sheet or ``style`` attribute."""
    text = CSS_COMMENT.sub("", text)
    refs = [next(g for g in m.groups() if g is not None) for m in CSS_URL.finditer(text)]
    refs += [m.group(1) or m.group(2) for m in CSS_IMPORT.finditer(text)]
    return [r.strip() for r in refs]


class _References(HTMLParser):
    """Collects resource references of one page: ``(where, url)`` pairs; ``<a href>`` apart."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.resources: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.inline_scripts: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if value is None or name == "xmlns" or name.startswith("xmlns:"):
                continue  # XML namespaces of inline SVG are names, never fetched
            if name == "style":
                self.resources += [(f"<{tag} style>", u) for u in css_references(value)]
            elif tag == "a" and name == "href":
                self.links.append(value)
            elif tag == "meta" and name == "content":
                if (attrs.get("http-equiv") or "").lower() == "refresh" and "url=" in value.lower():
                    self.resources.append(("<meta refresh>", value.split("=", 1)[1].strip()))
            elif name in URL_ATTRIBUTES or (name.startswith("data-") and EXTERNAL.match(value)):
                urls = [part.split()[0] for part in value.split(",") if part.strip()] if name == "srcset" else [value]
                self.resources += [(f"<{tag} {name}>", u) for u in urls]
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self.resources += [("<style>", u) for u in css_references(data)]
        elif self._in == "script":
            self.inline_scripts.append(data)


def _parse(page: Path) -> _References:
    parser = _References()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


def _local_target(base: Path, url: str, html: Path) -> Path | None:
    """The file a relative reference names, or None for fragments, data: URIs and the like."""
    if NON_FILE.match(url) or url.startswith("#") or not url.strip():
        return None
    path = unquote(urlsplit(url).path)
    if not path:
        return None
    target = (html / path.lstrip("/")) if path.startswith("/") else (base.parent / path)
    return target.resolve()


def test_the_book_has_every_chapter(html):
    pages = {p.relative_to(html).as_posix() for p in html_pages(html)}
    chapters = {f"notebooks/{p.stem}.html" for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert chapters and chapters <= pages, f"missing chapter pages: {sorted(chapters - pages)}"
    assert {"book/intro.html", "search.html"} <= pages


def test_pages_reference_nothing_outside_the_build(html):
    problems = []
    for page in html_pages(html):
        refs = _parse(page)
        name = page.relative_to(html).as_posix()
        problems += [f"{name}: {where} {url}" for where, url in refs.resources if EXTERNAL.match(url)]
        text = page.read_text(encoding="utf-8")
        launchable = "thebe-launch-button" in text or "initThebe(" in text
        for script in refs.inline_scripts:
            if not launchable:
                script = THEBE_URL.sub("", script)
            problems += [f"{name}: inline <script> {url}" for url in URL_IN_SCRIPT.findall(script)]
    assert not problems, "external references (the book must open with no network):\n" + "\n".join(problems)


def test_local_references_stay_inside_the_build_and_exist(html):
    root = html.resolve()
    problems = []
    for page in html_pages(html):
        for where, url in _parse(page).resources:
            target = _local_target(page, url, html)
            if target is None or EXTERNAL.match(url):
                continue
            if root not in target.parents and target != root:
                problems.append(f"{page.relative_to(html)}: {where} {url} points outside the build")
            elif not target.exists():
                problems.append(f"{page.relative_to(html)}: {where} {url} is missing")
    assert not problems, "\n".join(problems)


def test_style_sheets_reference_nothing_outside_the_build(html):
    root = html.resolve()
    sheets = sorted(html.rglob("*.css"))
    assert sheets
    problems = []
    for sheet in sheets:
        for url in css_references(sheet.read_text(encoding="utf-8", errors="replace")):
            name = sheet.relative_to(html).as_posix()
            if EXTERNAL.match(url):
                problems.append(f"{name}: {url}")
                continue
            target = _local_target(sheet, url, html)
            if target is not None and (root not in target.parents or not target.exists()):
                problems.append(f"{name}: {url} is not a file of the build")
    assert not problems, "style sheet references outside the build:\n" + "\n".join(problems)


def test_mathjax_is_served_from_the_build(html):
    pages_with_math = [p for p in html_pages(html) if 'class="math' in p.read_text(encoding="utf-8")]
    assert pages_with_math, "no page has math: the check below would prove nothing"
    for page in pages_with_math:
        scripts = [url for where, url in _parse(page).resources if where == "<script src>" and "mathjax" in url.lower()]
        assert scripts, f"{page.relative_to(html)} has math but loads no MathJax"
        for url in scripts:
            target = _local_target(page, url, html)
            assert target is not None and target.is_file(), f"{page.relative_to(html)}: {url} is not in the build"
    # the fonts MathJax's CommonHTML output asks for are there too
    assert list((html / "_static" / "mathjax").rglob("*.woff")), "MathJax's fonts are missing from the build"


def test_plain_hyperlinks_are_the_only_external_urls(html):
    """External URLs are allowed in ``<a href>`` only (citations, DOIs), never in a resource."""
    external_links = [u for p in html_pages(html) for u in _parse(p).links if EXTERNAL.match(u)]
    assert all(u.startswith(("http://", "https://")) for u in external_links), external_links


def test_parser_catches_what_it_should(tmp_path):
    page = tmp_path / "p.html"
    page.write_text(
        '<html><head><script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/a.css"><style>@import "https://x.org/b.css";'
        " p { background: url('http://x.org/i.png') }</style>"
        "<script>var s = 'https://x.org/require.js';</script></head>"
        '<body><a href="https://doi.org/10.1000/1">doi</a><svg xmlns="http://www.w3.org/2000/svg"></svg>'
        '<img srcset="a.png 1x, https://x.org/b.png 2x"><div data-jupyter-widgets-cdn="https://x.org/"></div>'
        "</body></html>")
    refs = _parse(page)
    external = [u for _, u in refs.resources if EXTERNAL.match(u)]
    assert len(external) == 6, external
    assert refs.links == ["https://doi.org/10.1000/1"]
    assert URL_IN_SCRIPT.findall(refs.inline_scripts[-1]) == ["https://x.org/require.js"]
    assert css_references("a{b:url(\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'%3E\")}") == [
        "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'%3E"]
