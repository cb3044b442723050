"""Serve the built HTML on 127.0.0.1 and start Debian's Chromium for the browser checks.

Used by tests/book/test_browser.py (pages load offline, typeset math, pass axe) and by
tools/lighthouse.py (`make lighthouse`, which serves the site over HTTP/2 with tools/serve_h2.mjs).
Nothing here reaches past this machine.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.resources
import importlib.util
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# axe-core as the PyPI package axe-playwright-python bundles it (0.1.8: axe 4.12.1). Its `Axe.run` takes
# axe's options but no time limit, so tests/book/test_browser.py injects this file and runs axe itself.
AXE_PACKAGE, AXE_FILE = "axe_playwright_python", "axe.min.js"

# Headless Chromium that does not try to reach Google (updates, sync, field trials, QUIC probes).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

SETUP_HINT = (
    "run `make browser` (tools/setup_browser.sh installs Chromium; `make test` runs it) and "
    "`make env` (installs requirements.lock, axe-playwright-python among them)"
)

GZIP_LEVEL = 6  # what a static host such as GitHub Pages sends (test_browser.py counts with it, serve_h2.mjs sends it)


def missing_tools(axe: bool = True) -> list[str]:
    """What the browser checks need (Chromium, and axe unless `axe` is false) and this machine lacks."""
    missing = []
    if shutil.which(CHROMIUM) is None:
        missing.append(f"{CHROMIUM} (Debian package chromium)")
    if not axe:
        return missing
    if importlib.util.find_spec(AXE_PACKAGE) is None:
        missing.append("the Python package axe-playwright-python (pinned in requirements.lock)")
    elif not importlib.resources.files(AXE_PACKAGE).joinpath(AXE_FILE).is_file():
        missing.append(
            f"{AXE_FILE} in axe-playwright-python (this version no longer bundles it there: update "
            "tools/browser.py's AXE_FILE, or pin the version in requirements.lock)"
        )
    return missing


@functools.cache
def axe_script() -> str:
    """The axe-core script that axe-playwright-python bundles (see `missing_tools`)."""
    return importlib.resources.files(AXE_PACKAGE).joinpath(AXE_FILE).read_text(encoding="utf-8")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, quietly."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(directory: Path, port: int = 0) -> Iterator[str]:
    """Serve `directory` on 127.0.0.1 (a free port unless one is given); yield its base URL (ending in '/')."""
    if not (directory / "index.html").exists():
        raise FileNotFoundError(f"{directory}: no index.html — build the book first (`make book`)")
    handler = functools.partial(_Handler, directory=str(directory))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as err:
        raise OSError(f"cannot serve on 127.0.0.1:{port}: {err.strerror}") from None
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def html_pages(html_dir: Path) -> list[str]:
    """Every page a reader can reach, relative to the site root (redirect stubs included)."""
    pages = []
    for path in sorted(html_dir.rglob("*.html")):
        rel = path.relative_to(html_dir)
        if rel.parts[0] in ("_static", "_sources", "_images") or rel.name.startswith("_"):
            continue
        pages.append(rel.as_posix())
    return pages
