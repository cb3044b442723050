"""The built book in a real browser (Debian's Chromium, driven by Playwright; issue #8).

Every page of the site is served from 127.0.0.1 and opened as a reader would open it, and
- loads with no console error, no failed request, and no request to any other origin;
- shows its math with JavaScript off (MathML rendered when the book is built, issue #19), with no
  raw TeX in the text, in any heading or in any link text, and loads no math script;
- passes axe-core (WCAG 2.0/2.1 A and AA, and axe's best practices) in light mode, and its
  colour-contrast rule in dark mode, where figures also keep a white background;
and on a chapter the things readers use work: keyboard skip link, search, copy buttons, the
dark-mode switch and the previous/next links.

The pages tested are those in _toc.yml plus Sphinx's own (search, index, the front door), and a
test fails if the build has a page that is not in that list, so new chapters are covered.
To test an existing build instead of a fresh one: BOOK_HTML=_build/html pytest tests/book/test_browser.py
Set-up: tools/setup_browser.sh (run by `make test`) installs Chromium; axe-core comes with the Python
package axe-playwright-python (requirements.lock), so the tests need no Node.js.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import importlib.resources
import importlib.util
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

import lighthouse
import sources
from conftest import ROOT
from lighthouse import CHROMIUM, CHROMIUM_FLAGS

pytestmark = pytest.mark.browser

FRONT_DOOR = "index.html"  # forwards to the landing page
PAGES = sorted(
    {p.with_suffix(".html").as_posix() for p in sources.toc_files(ROOT)} | {FRONT_DOOR, "search.html", "genindex.html"}
)
CHAPTERS = [p.with_suffix(".html").as_posix() for p in sources.lecture_chapters(ROOT)]
# axe-core as the PyPI package axe-playwright-python bundles it (0.1.8: axe 4.12.1). Its `Axe.run` takes
# axe's options but no time limit, so Visit.axe injects this file and runs axe itself.
AXE_PACKAGE, AXE_FILE = "axe_playwright_python", "axe.min.js"
SETUP_HINT = (
    "run `make browser` (tools/setup_browser.sh installs Chromium; `make test` runs it) and "
    "`make env` (installs requirements.lock, axe-playwright-python among them)"
)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# Rules axe marks experimental that Lighthouse's accessibility score also runs.
AXE_EXTRA = {
    "label-content-name-mismatch": {"enabled": True},
    "table-fake-caption": {"enabled": True},
    "td-has-header": {"enabled": True},
}
VIEWPORT = {"width": 1280, "height": 900}
# Every wait has a limit, and a page that does not answer fails the test with the page and the step.
WAIT_MS = 30_000  # navigation and Playwright's own waits
JS_SECONDS = 90  # a script run in the page (scrolling through a long chapter, checking every formula)
AXE_SECONDS = 120  # one axe-core scan of a long page

# Runs in the page: scroll to the end like a reader, half a screen at a time (lazy figures load on
# the way).
SCROLL_THROUGH = """async () => {
  for (let y = 0; y < document.documentElement.scrollHeight; y += window.innerHeight / 2) {
    window.scrollTo(0, y);
    await new Promise(done => requestAnimationFrame(done));
  }
  window.scrollTo(0, 0);
}"""

# Runs in the page (with the page's own JavaScript off): every formula is MathML that the browser
# lays out as math (MathML Core), and takes up room on the screen once its folded block (an
# exercise's solution, a hidden cell) is opened; no raw TeX is left in the text, and none in a
# heading or a link's text (the table of contents, cross-references, previous and next).
MATH_STATE = r"""() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const where = el => (el.closest('[id]') || {id: '?'}).id;
  const formulas = [...document.querySelectorAll('math')];
  const state = {equations: formulas.length, mathScripts: [], notMath: [], empty: [], rawTex: [], texInLinks: []};
  state.mathScripts = [...document.scripts].map(s => s.src + s.textContent.slice(0, 200))
    .filter(s => /mathjax|katex/i.test(s)).map(s => s.slice(0, 80));
  for (const el of formulas) {
    if (!getComputedStyle(el).display.includes('math')) state.notMath.push(where(el));
    else if (el.checkVisibility() && !(el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().height > 0))
      state.empty.push(where(el));
  }
  const tex = /\\\(|\\\[|\$\$|\\(?:[a-zA-Z]{2,}|[{}_^|,;!])/;
  const skip = 'pre, code, script, style, math, .highlight, .cell_output, kbd, samp';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(skip) || !tex.test(node.textContent)) continue;
    const text = node.textContent.trim().slice(0, 80);
    if (node.parentElement.closest('a, h1, h2, h3, h4, h5, h6, nav, title')) state.texInLinks.push(text);
    else state.rawTex.push(where(node.parentElement) + ': ' + text);
  }
  if (tex.test(document.title)) state.texInLinks.push('title: ' + document.title);
  return state;
}"""

RUN_AXE = """async (options) => {
  const result = await axe.run(document, options);
  const why = n => n.failureSummary
    ? ' [' + n.failureSummary.split('\\n').slice(1).join(' ').trim().slice(0, 160) + ']' : '';
  return result.violations.map(v => `${v.id} (${v.impact}): ${v.help} — ` +
    v.nodes.slice(0, 3).map(n => n.target.join(' ') + why(n)).join('; ') +
    (v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ''));
}"""


@dataclass
class Visit:
    """One page opened in a fresh browser context, with what it asked for and what it logged."""

    page: object
    origin: str
    path: str = ""
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def outside_requests(self) -> list[str]:
        return [
            u
            for u in self.requests
            if urlsplit(u).scheme not in ("data", "blob", "about")
            and f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" != self.origin
        ]

    def run(self, script: str, what: str, arg: object = None, seconds: float = JS_SECONDS) -> object:
        """Evaluate an (async) function in the page; fail naming the page and the step if it takes too long."""
        limited = (
            "async (arg) => Promise.race([(" + script + ")(arg), new Promise((_, fail) => "
            f"setTimeout(() => fail(new Error('no answer after {seconds:g} s')), {int(seconds * 1000)}))])"
        )
        try:
            return self.page.evaluate(limited, arg)
        except PlaywrightError as err:
            pytest.fail(f"{self.path}: {what} failed: {str(err).splitlines()[0]}")

    def axe(self, options: dict) -> list[str]:
        self.page.add_script_tag(content=axe_script())
        return self.run(RUN_AXE, "the axe-core scan", {"resultTypes": ["violations"], **options}, AXE_SECONDS)


@pytest.fixture(scope="session")
def site_dir(request: pytest.FixtureRequest) -> Path:
    if os.environ.get("BOOK_HTML"):
        return Path(os.environ["BOOK_HTML"]).resolve()
    return request.getfixturevalue("html_build").build_dir / "html"


@functools.cache
def axe_script() -> str:
    return importlib.resources.files(AXE_PACKAGE).joinpath(AXE_FILE).read_text(encoding="utf-8")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def site(site_dir: Path) -> Iterator[str]:
    """The built site served on a free port of 127.0.0.1; its base URL (ending in '/')."""
    if not (site_dir / "index.html").exists():
        pytest.fail(f"{site_dir}: no index.html — build the book first (`make book`)")
    handler = functools.partial(QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def missing_tools() -> list[str]:
    """What the browser tests need (Chromium, axe-core) and this machine lacks."""
    missing = [] if shutil.which(CHROMIUM) else [f"{CHROMIUM} (Debian package chromium)"]
    if importlib.util.find_spec(AXE_PACKAGE) is None:
        missing.append("the Python package axe-playwright-python (pinned in requirements.lock)")
    elif not importlib.resources.files(AXE_PACKAGE).joinpath(AXE_FILE).is_file():
        missing.append(
            f"{AXE_FILE} in axe-playwright-python (this version no longer bundles it there: update "
            "tests/book/test_browser.py's AXE_FILE, or pin the version in requirements.lock)"
        )
    return missing


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    missing = missing_tools()
    if missing:
        pytest.fail(f"browser tests need {', '.join(missing)}: {SETUP_HINT}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright gives each launch a fresh temporary profile; --headless comes from headless=True.
        chrome = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[f for f in CHROMIUM_FLAGS if f != "--headless"],
        )
        yield chrome
        chrome.close()


@pytest.fixture
def visit(chromium, site: str) -> Iterator:
    """open(path, **context options) -> Visit; the contexts are closed after the test."""
    contexts = []

    def open_page(path: str, dark: bool = False, **options) -> Visit:
        context = chromium.new_context(viewport=VIEWPORT, **options)
        context.set_default_timeout(WAIT_MS)
        context.set_default_navigation_timeout(WAIT_MS)
        if dark:  # what the theme's switch stores; the theme applies it on load
            context.add_init_script("localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');")
        contexts.append(context)
        page = context.new_page()
        seen = Visit(page, site.rstrip("/"), path)
        page.on("request", lambda r: seen.requests.append(r.url))
        page.on("console", lambda m: seen.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: seen.errors.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: seen.errors.append(f"request failed: {r.url} ({r.failure})"))
        page.on("response", lambda r: seen.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        try:
            page.goto(site + path, wait_until="load")
            if path == FRONT_DOOR:
                page.wait_for_url(site + "book/index.html")
                page.wait_for_load_state("load")
        except PlaywrightError as err:
            pytest.fail(f"{path}: the page did not load: {str(err).splitlines()[0]}")
        return seen

    yield open_page
    for context in contexts:
        context.close()


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--runs", "0"], "--runs must be at least 1, got 0"), (["--port", "99999"], "--port must be a TCP port")],
)
def test_lighthouse_refuses_bad_options_before_serving(argv, message, capsys) -> None:
    """Checked before any server or browser starts (--runs 0 was an IndexError after serving)."""
    with pytest.raises(SystemExit) as exit_:
        lighthouse.main([*argv, "index.html"])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_a_lighthouse_run_cut_short_leaves_no_browser_behind(tmp_path, monkeypatch) -> None:
    """A run that overruns its time is stopped with what it started (Lighthouse starts Chromium)."""
    pid_file = tmp_path / "browser.pid"
    fake = tmp_path / "lighthouse"  # starts a "browser" that outlives it, then hangs
    fake.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\nsleep 300\n")
    fake.chmod(0o755)
    monkeypatch.setattr(lighthouse, "LIGHTHOUSE", fake)
    monkeypatch.setattr(lighthouse, "RUN_TIMEOUT", 2)
    with pytest.raises(RuntimeError, match="took over 2 s"):
        lighthouse.run("https://127.0.0.1:1/index.html", tmp_path / "report")
    browser = int(pid_file.read_text())
    for _ in range(50):  # the kill is sent; give the kernel a moment to reap it
        if not Path(f"/proc/{browser}").exists() or "Z" in Path(f"/proc/{browser}/stat").read_text().split()[2]:
            break
        threading.Event().wait(0.1)
    else:
        os.kill(browser, 9)
        pytest.fail("the browser a cut-short Lighthouse run started is still running")


def test_every_built_page_is_tested(site_dir: Path) -> None:
    """Every page a reader can reach (redirect stubs included) is in PAGES."""
    built = [p.relative_to(site_dir) for p in site_dir.rglob("*.html")]
    skip = ("_static", "_sources", "_images")
    pages = {p.as_posix() for p in built if p.parts[0] not in skip and not p.name.startswith("_")}
    untested = sorted(pages - set(PAGES))
    assert not untested, f"pages built but not listed in _toc.yml (so not tested here): {untested}"


# The theme's switch sets these two attributes (and remembers the choice); the CSS keys on them.
# The theme fades colours over a short CSS transition: wait for it, or axe measures mid-fade.
TO_DARK = """async () => {
  document.documentElement.dataset.mode = 'dark';
  document.documentElement.dataset.theme = 'dark';
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  await Promise.all(document.getAnimations().map(a => a.finished.catch(() => null)));
}"""
DARK_FIGURES = """() => [...document.querySelectorAll('.bd-content img')]
  .filter(img => img.checkVisibility() && getComputedStyle(img).backgroundColor !== 'rgb(255, 255, 255)')
  .map(img => img.getAttribute('src'))"""


@pytest.mark.parametrize("path", PAGES)
def test_page_offline_typeset_and_accessible_in_light_and_dark(visit, path: str) -> None:
    """One visit per page: everything in light mode, then contrast and figures in dark mode."""
    seen = visit(path)
    seen.run(SCROLL_THROUGH, "scrolling through the page")
    try:
        seen.page.wait_for_load_state("networkidle")
    except PlaywrightError as err:
        pytest.fail(f"{path}: the page kept loading (waited for the network to go quiet): {str(err).splitlines()[0]}")
    problems = [f"request outside the site: {u}" for u in seen.outside_requests()]
    problems += seen.errors
    problems += [f"axe: {v}" for v in seen.axe({"runOnly": {"type": "tag", "values": AXE_TAGS}, "rules": AXE_EXTRA})]
    # Dark mode, on the same page (every lazy figure and equation is loaded by now). Plots are
    # drawn for a white page: in dark mode each keeps a white card around it.
    seen.run(TO_DARK, "switching to dark mode", seconds=10)
    dark_figures = seen.run(DARK_FIGURES, "finding figures in dark mode", seconds=10)
    problems += [f"figure without a white background in dark mode: {src}" for src in dark_figures]
    problems += [f"axe (dark): {v}" for v in seen.axe({"runOnly": {"type": "rule", "values": ["color-contrast"]}})]
    assert not problems, f"{path}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", PAGES)
def test_math_shows_without_javascript(visit, path: str) -> None:
    """Math is part of the page (MathML), not the work of a script: with JavaScript off every formula
    is laid out as math, and no raw TeX shows in the text, a heading or a link (issue #19)."""
    seen = visit(path, java_script_enabled=False)
    math = seen.page.evaluate(MATH_STATE)
    problems = [f"loads a math script: {s}" for s in math["mathScripts"]]
    problems += [f"formula not laid out as MathML (in #{t})" for t in math["notMath"][:5]]
    problems += [f"formula with no size on the screen (in #{t})" for t in math["empty"][:5]]
    problems += [f"raw TeX in the text: {t!r}" for t in math["rawTex"][:5]]
    problems += [f"raw TeX in a heading or link text: {t!r}" for t in math["texInLinks"][:5]]
    assert not problems, f"{path} ({math['equations']} formulas):\n  " + "\n  ".join(problems)


# Lighthouse's page weight budget (issue #19): a chapter's HTML, compressed as GitHub Pages sends it.
CHAPTER_HTML_GZIP_BYTES = 400_000
GZIP_LEVEL = 6  # what a static host such as GitHub Pages sends (tools/serve_h2.mjs sends it too)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_html_is_light(site_dir: Path, chapter: str) -> None:
    html = (site_dir / chapter).read_bytes()
    sent = len(gzip.compress(html, compresslevel=GZIP_LEVEL, mtime=0))
    assert sent <= CHAPTER_HTML_GZIP_BYTES, (
        f"{chapter}: {sent / 1000:.0f} kB compressed (at most {CHAPTER_HTML_GZIP_BYTES / 1000:.0f} kB); "
        "move long outputs or data out of the page"
    )


def test_stored_dark_mode_applies_on_load(visit) -> None:
    """A reader's saved choice of dark mode is applied when the next page loads."""
    seen = visit(CHAPTERS[0], dark=True)
    assert seen.page.evaluate("document.documentElement.dataset.theme") == "dark"


@pytest.fixture
def chapter() -> str:
    assert CHAPTERS, "_toc.yml lists no chapter"
    return CHAPTERS[0]


def test_keyboard_reaches_the_content_first(visit, chapter: str) -> None:
    page = visit(chapter).page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main-content")
    for _ in range(6):  # the next stops are in the content, and each shows where the focus is
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
            return {inMain: e.closest('main') !== null, html: e.outerHTML.slice(0, 100),
                    visible: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                             || s.boxShadow !== 'none'}; }""")
        assert focused["inMain"], f"Tab after the skip link leaves the content: {focused['html']}"
        assert focused["visible"], f"no visible focus indicator on {focused['html']}"


def test_search_finds_a_chapter_offline(visit, site: str, chapter: str) -> None:
    seen = visit(chapter)
    page = seen.page
    page.keyboard.press("Control+k")
    box = page.locator("#pst-search-dialog input[name=q]")
    assert box.is_visible(), "Ctrl+K does not open the search box"
    title = page.evaluate("document.querySelector('main h1').textContent").strip("#¶ \n").split(". ", 1)[-1]
    box.fill(title.split()[0])
    box.press("Enter")
    page.wait_for_url("**/search.html?q=*")
    page.wait_for_selector("#search-results ul.search li", timeout=20_000)
    hits = page.locator("#search-results ul.search li a").evaluate_all("links => links.map(a => a.href)")
    assert any(chapter in h for h in hits), f"searching {title.split()[0]!r} does not find {chapter}: {hits[:5]}"
    assert not seen.outside_requests() and not seen.errors, seen.outside_requests() + seen.errors


def test_copy_button_copies_the_code(visit, chapter: str) -> None:
    seen = visit(chapter, permissions=["clipboard-read", "clipboard-write"])
    page = seen.page
    code = page.locator("div.cell div.highlight:visible").first
    code.hover()
    code.locator("button.copybtn").click()
    copied = seen.run("() => navigator.clipboard.readText()", "reading the clipboard", seconds=10)
    assert copied.strip() and copied.strip() == code.locator("pre").inner_text().strip()


def test_theme_switch_and_page_navigation(visit, site: str, chapter: str) -> None:
    page = visit(chapter).page
    seen_themes = set()
    for _ in range(3):  # the switch cycles auto -> dark -> light (or auto -> light -> dark)
        page.locator(".theme-switch-button").first.click()
        seen_themes.add(page.evaluate("document.documentElement.dataset.theme"))
    assert {"light", "dark"} <= seen_themes, f"the theme switch gave only {seen_themes}"
    nav = page.locator("nav.bd-docs-nav a.reference.internal").evaluate_all("links => links.map(a => a.href)")
    for other in (c for c in CHAPTERS if c != chapter):  # the current page links to itself as "#"
        assert any(h.endswith(other) for h in nav), f"the sidebar does not link {other}"
    nxt = page.locator("a.right-next")
    if len(CHAPTERS) > 1:
        nxt.click()
        page.wait_for_load_state("load")
        assert page.url.startswith(site) and not page.url.endswith(chapter)
