"""Serve the built HTML on 127.0.0.1 and start Debian's Chromium for the browser checks.

Used by tests/book/test_browser.py (pages load offline, typeset math, pass axe) and by
tools/lighthouse.py (`make lighthouse`, which serves the site over HTTP/2 with tools/serve_h2.mjs).
Nothing here reaches past this machine.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"

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

SETUP_HINT = "run `make test` (tools/setup_browser.sh installs Chromium and the npm tools) or that script alone"

GZIP_LEVEL = 6  # what a static host such as GitHub Pages sends (test_browser.py counts with it, serve_h2.mjs sends it)


def missing_tools() -> list[str]:
    """What the browser checks need and this machine lacks."""
    missing = []
    if shutil.which(CHROMIUM) is None:
        missing.append(f"{CHROMIUM} (Debian package chromium)")
    if not AXE.exists():
        missing.append(f"{AXE.relative_to(ROOT)} (npm ci)")
    return missing


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
