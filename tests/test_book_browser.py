"""Every page of the built book, opened in a real browser with no network (issue 13).

The book is built into a temporary folder (``_book_build.py``) and served by ``http.server`` on
127.0.0.1. Headless Chromium from the operating system's packages (``apt-get install chromium``),
driven by Playwright (which downloads no browser of its own here: it is pointed at the system one),
opens every page at a desktop (1280 px) and a phone (390 px) width. Every request that does not go
to the loopback address is blocked and counted as a failure, so a CDN reference fails the test.

Checked on every page: no failed request and no console error; every equation typeset by MathJax
(no raw TeX delimiters left in the text, no MathJax error, no displayed equation clipped); every
image loaded; every audio player has a source the browser can play; no code block (``<pre>``)
wider than its box. The search page must find "MFCC". Screenshots of the chapters at both widths go to ``$MGC_SCREENSHOTS`` (default: a
pytest temporary folder; ``.ci/run`` sets ``_build/screenshots``).

Without Chromium (or Playwright) the tests are skipped with a message saying how to install it.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from _book_build import built_book, html_pages

pytestmark = pytest.mark.slow

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
INSTALL = ("no Chromium found for the browser test: install the operating system's one "
           "(Debian/Ubuntu: `apt-get install chromium`), or set MGC_CHROMIUM to a Chromium/Chrome binary")
#: Places a browser may be; Debian's /usr/bin/chromium is a wrapper script around the first one.
CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
PAGE_TIMEOUT_MS = 30_000
REFRESH = re.compile(r"<meta[^>]+http-equiv=.refresh", re.I)

# Runs in the page once it has loaded: waits for MathJax, the images and the audio players, then
# reports what a reader would see.
INSPECT = r"""
async () => {
  const settle = (el, events) => new Promise(done => {
    for (const e of events) el.addEventListener(e, done, {once: true, capture: true});
    setTimeout(done, 10000);
  });
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (e) { console.error('MathJax: ' + e); }
  }
  const images = Array.from(document.images);
  for (const img of images) img.loading = 'eager';
  await Promise.all(images.filter(i => !i.complete).map(i => settle(i, ['load', 'error'])));
  const audios = Array.from(document.querySelectorAll('audio'));
  await Promise.all(audios.filter(a => a.readyState < 1 && !a.error && a.networkState !== 3)
                          .map(a => { const p = settle(a, ['loadedmetadata', 'error']); a.load(); return p; }));

  const math = Array.from(document.querySelectorAll('.math'));
  const clone = (document.body || document.documentElement).cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, textarea, mjx-container, mjx-assistive-mml')
       .forEach(el => el.remove());
  const text = clone.textContent;
  const rawTex = [];
  for (const delim of ['\\(', '\\)', '\\[', '\\]', '$$', '\\begin{']) {
    const at = text.indexOf(delim);
    if (at >= 0) rawTex.push(text.slice(Math.max(0, at - 30), at + 50).replace(/\s+/g, ' '));
  }
  const typeOf = s => s.type || (s.src.startsWith('data:') ? s.src.slice(5, s.src.search(/[;,]/)) : '');
  return {
    title: document.title,
    math: math.length,
    untypeset: math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60)),
    mathErrors: Array.from(document.querySelectorAll('mjx-merror')).map(m => m.textContent.slice(0, 60)),
    mathJaxContainers: document.querySelectorAll('mjx-container').length,
    rawTex: rawTex,
    images: images.length,
    brokenImages: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80)),
    audios: audios.length,
    unplayable: audios.map((a, n) => {
      const sources = a.getAttribute('src') ? [{src: a.src, type: ''}]
                    : Array.from(a.querySelectorAll('source')).map(s => ({src: s.src, type: s.type}));
      const types = sources.map(typeOf);
      const playable = types.some(t => t && a.canPlayType(t) !== '');
      return (playable && a.readyState >= 1 && !a.error) ? null
             : `audio ${n}: types ${JSON.stringify(types)}, readyState ${a.readyState}, error ${a.error && a.error.code}`;
    }).filter(x => x),
    clippedMath: Array.from(document.querySelectorAll('mjx-container[display="true"]'))
      .filter(m => m.scrollWidth > m.clientWidth + 1 && !['auto', 'scroll'].includes(getComputedStyle(m).overflowX))
      .map(m => `${m.scrollWidth} > ${m.clientWidth} px: ` + (m.querySelector('mjx-assistive-mml') || m).textContent.slice(0, 60)),
    overflowingPre: Array.from(document.querySelectorAll('pre'))
      .filter(p => p.scrollWidth > p.clientWidth + 1)
      .map(p => ({
        code: !!p.closest('.cell_input, div.highlight'),
        scrollable: ['auto', 'scroll'].includes(getComputedStyle(p).overflowX),
        text: `${p.scrollWidth} > ${p.clientWidth} px, white-space ${getComputedStyle(p).whiteSpace}: ` +
              p.textContent.split('\n').reduce((a, b) => b.length > a.length ? b : a, '').slice(0, 90)})),
  };
}
"""


@dataclass
class Visit:
    """What one page showed at one width."""
    page: str
    width: str
    report: dict = field(default_factory=dict)
    failed_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


def find_chromium() -> str | None:
    """The operating system's Chromium (or ``$MGC_CHROMIUM``), or None."""
    if os.environ.get("MGC_CHROMIUM"):
        return os.environ["MGC_CHROMIUM"]
    for name in CANDIDATES:
        path = name if os.path.isabs(name) else shutil.which(name)
        if path and os.access(path, os.X_OK):
            return path
    return None


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".woff": "font/woff", ".woff2": "font/woff2",
                      ".js": "text/javascript", ".json": "application/json"}

    def log_message(self, *args):  # keep the test output clean
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a browser hanging up early is no failure
        pass


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip(INSTALL)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory, chromium_path):
    html = built_book(tmp_path_factory)
    httpd = _Server(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield html, f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser(chromium_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason='Playwright is missing: python -m pip install -e ".[dev]"')
    with sync_api.sync_playwright() as p:
        # The host-resolver rule makes every name but the loopback one unresolvable, a second
        # guard behind the request blocking below: nothing can leave this machine.
        browser = p.chromium.launch(executable_path=chromium_path, headless=True,
                                    args=["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                                          "--no-proxy-server", "--disable-background-networking",
                                          "--disable-component-update", "--autoplay-policy=user-gesture-required"])
        try:
            yield browser
        finally:
            browser.close()


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or (parts.hostname or "") in LOOPBACK


def new_context(browser, width: str, visit_of):
    """A browser context at ``width`` that blocks every non-loopback request and records problems
    (failed requests, HTTP errors, console errors, uncaught exceptions) on ``visit_of()``."""
    w, h = WIDTHS[width]
    phone = width == "phone"
    context = browser.new_context(viewport={"width": w, "height": h}, is_mobile=phone, has_touch=phone,
                                  device_scale_factor=1, service_workers="block")

    def route(r):
        if _is_loopback(r.request.url):
            r.continue_()
        else:
            visit_of().failed_requests.append(f"blocked non-loopback request: {r.request.url[:120]}")
            r.abort("blockedbyclient")

    context.route("**/*", route)

    def on_page(page):
        page.on("requestfailed", lambda req: req.url.startswith(("http://127.0.0.1",)) and
                visit_of().failed_requests.append(f"{req.failure}: {req.url[:120]}"))
        page.on("response", lambda resp: resp.status >= 400 and
                visit_of().failed_requests.append(f"HTTP {resp.status}: {resp.url[:120]}"))
        page.on("console", lambda msg: msg.type == "error" and
                visit_of().console_errors.append(f"{msg.text[:200]} ({msg.location.get('url', '')[:80]})"))
        page.on("pageerror", lambda exc: visit_of().console_errors.append(f"uncaught: {exc}"[:200]))

    context.on("page", on_page)
    return context


def _open(page, url: str, redirects: bool = False) -> None:
    """Open ``url``; for a page that redirects (index.html), wait until its target has loaded."""
    if redirects:
        with page.expect_navigation(url=lambda now: now != url, wait_until="load"):
            page.goto(url, wait_until="commit")
    else:
        page.goto(url, wait_until="load")


def _inspect(page) -> dict:
    """Run :data:`INSPECT` once the page has settled (index.html redirects to the first page)."""
    for attempt in range(3):
        try:
            return page.evaluate(INSPECT)
        except Exception as exc:  # a redirect replaced the page while it was inspected
            if "context was destroyed" not in str(exc) or attempt == 2:
                raise
            page.wait_for_load_state("load")
    raise AssertionError("unreachable")


def _screenshot_dir(tmp_path_factory) -> Path:
    folder = os.environ.get("MGC_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def visits(server, browser, tmp_path_factory) -> list[Visit]:
    html, base = server
    pages = [p.relative_to(html).as_posix() for p in html_pages(html)]
    shots = _screenshot_dir(tmp_path_factory)
    done: list[Visit] = []
    for width in WIDTHS:
        current: list[Visit] = []
        context = new_context(browser, width, lambda: current[-1])
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        for name in pages:
            current.append(Visit(name, width))
            _open(page, base + name, redirects=REFRESH.search((html / name).read_text(encoding="utf-8")) is not None)
            current[-1].report = _inspect(page)
            if name.startswith(("notebooks/", "book/")):
                stem = name.removesuffix(".html").replace("/", "-")
                page.screenshot(path=str(shots / f"{stem}-{WIDTHS[width][0]}px.png"), full_page=True)
        context.close()
        done += current
    desktop = [v.report for v in done if v.width == "desktop"]
    print(f"\nbrowser test: {len(pages)} pages at {len(WIDTHS)} widths, "
          f"{sum(r['math'] for r in desktop)} equations, {sum(r['images'] for r in desktop)} images, "
          f"{sum(r['audios'] for r in desktop)} audio players; screenshots in {shots}")
    return done


def _problems(visits: list[Visit], key) -> list[str]:
    return [f"{v.page} ({v.width}): {item}" for v in visits for item in key(v)]


def test_every_page_was_opened(visits, server):
    html, _ = server
    assert len(visits) == len(WIDTHS) * len(html_pages(html)) >= 2 * 14
    assert all(v.report.get("title") for v in visits), [v.page for v in visits if not v.report.get("title")]


def test_no_failed_request_and_no_request_leaves_the_machine(visits):
    problems = _problems(visits, lambda v: v.failed_requests)
    assert not problems, "failed or blocked requests:\n" + "\n".join(problems)


def test_no_console_errors(visits):
    problems = _problems(visits, lambda v: v.console_errors)
    assert not problems, "console errors:\n" + "\n".join(problems)


def test_every_equation_is_typeset(visits):
    with_math = [v for v in visits if v.report["math"]]
    assert with_math, "no page has math: the check would prove nothing"
    problems = _problems(visits, lambda v: [f"raw TeX in the text: ...{t}..." for t in v.report["rawTex"]]
                         + [f"not typeset: {t}" for t in v.report["untypeset"]]
                         + [f"MathJax error: {t}" for t in v.report["mathErrors"]]
                         + (["math on the page but no MathJax container"]
                            if v.report["math"] and not v.report["mathJaxContainers"] else []))
    assert not problems, "\n".join(problems)


def test_no_equation_is_clipped(visits):
    """A displayed equation wider than the page (on a phone) scrolls sideways (the theme's style)."""
    problems = _problems(visits, lambda v: [f"equation clipped: {t}" for t in v.report["clippedMath"]])
    assert not problems, "\n".join(problems)


def test_every_image_is_loaded(visits):
    assert sum(v.report["images"] for v in visits) > 0
    problems = _problems(visits, lambda v: [f"image not loaded: {src}" for src in v.report["brokenImages"]])
    assert not problems, "\n".join(problems)


def test_every_audio_player_can_play(visits):
    assert sum(v.report["audios"] for v in visits) > 0, "no audio player found: the check would prove nothing"
    problems = _problems(visits, lambda v: v.report["unplayable"])
    assert not problems, "audio players the browser cannot play:\n" + "\n".join(problems)


def test_no_code_line_is_cut_off_at_desktop_width(visits):
    """At 1280 px no code cell or output is wider than its box: long lines wrap (_static/mgc-book.css)."""
    problems = _problems([v for v in visits if v.width == "desktop"],
                         lambda v: [p["text"] for p in v.report["overflowingPre"]])
    assert not problems, "code blocks wider than the page (lines cut off):\n" + "\n".join(problems)


def test_code_cells_wrap_on_a_phone(visits):
    """At 390 px code cells wrap too; an output drawn as a table of box characters (Keras's model
    summary, which sets ``white-space: pre`` itself) may be wider, but must then scroll sideways."""
    problems = _problems([v for v in visits if v.width == "phone"],
                         lambda v: [p["text"] for p in v.report["overflowingPre"] if p["code"] or not p["scrollable"]])
    assert not problems, "code blocks cut off on a phone:\n" + "\n".join(problems)


def test_search_finds_mfcc(server, browser):
    _, base = server
    visit = Visit("search.html?q=MFCC", "desktop")
    context = new_context(browser, "desktop", lambda: visit)
    try:
        page = context.new_page()
        page.goto(base + "search.html?q=MFCC", wait_until="load")
        page.wait_for_selector("#search-results ul.search li", timeout=PAGE_TIMEOUT_MS)
        links = page.eval_on_selector_all("#search-results ul.search li > a", "as => as.map(a => a.href)")
    finally:
        context.close()
    assert links, "the search page found nothing for MFCC"
    assert any("05_mfcc.html" in link for link in links), f"the MFCC chapter is not among the results: {links}"
    assert not visit.failed_requests and not visit.console_errors, (visit.failed_requests, visit.console_errors)


def test_a_cdn_reference_would_fail_the_test(server, browser):
    """The request blocking works: a page loading a script from a CDN reports a blocked request."""
    visit = Visit("canary", "desktop")
    context = new_context(browser, "desktop", lambda: visit)
    try:
        page = context.new_page()
        page.set_content('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
                         '<p>canary</p>', wait_until="load")
    finally:
        context.close()
    assert any("blocked non-loopback request: https://cdn.jsdelivr.net/" in r for r in visit.failed_requests), visit
