"""Score the built book with Lighthouse (mobile preset) and print a table; `make lighthouse`.

    python tools/lighthouse.py [PAGE ...] [--html DIR] [--out DIR]

PAGE is a path under the site root (default: the landing page and the three heaviest chapters,
HTML and figures together). Each page is scored RUNS times (default 3) and the run with the median
performance score is reported, since one run varies with machine load. Reports (JSON and HTML) go to
_build/lighthouse/, the scores to _build/lighthouse/scores.tsv, with the machine's load average.
Scores vary with machine load, so they are recorded, not asserted.

Served as deployed (issue #19): GitHub Pages serves over HTTP/2 (TLS) with gzip, so the pages are
measured over HTTP/2 with gzip too. Over HTTP/1.1 a browser opens at most six connections to a host
and queues the rest, each with its own handshake and uncompressed headers; a change that only helps
such a server (inlining, bundling, fewer files) would be counted although it does not help readers.
tools/serve_h2.mjs serves the site with Node's built-in http2 module (Node already runs Lighthouse:
no new package), on https://127.0.0.1:PORT/ only. Browsers speak HTTP/2 only over TLS, so a
certificate for 127.0.0.1 is made with `openssl` for each run (self-signed, one day, in a temporary
folder that is deleted afterwards) and Chromium is told to accept it (--ignore-certificate-errors).
Nothing leaves the loopback interface. Each report's main document must have come over h2.

`make lighthouse` first builds the book with BOOK_BASEURL=https://127.0.0.1:PORT/, as a deployment
builds it with its own address: otherwise the canonical links point to another domain, which
Lighthouse's SEO audit rightly fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sources import ROOT, lecture_chapters

CHROMIUM = "/usr/bin/chromium"  # Debian's; tests/book/test_browser.py drives it with these flags too
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

RUN_TIMEOUT = 300  # seconds for one Lighthouse run of one page (about 30 s on an idle machine)
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
METRICS = [
    "first-contentful-paint",
    "largest-contentful-paint",
    "total-blocking-time",
    "cumulative-layout-shift",
    "speed-index",
]


def default_pages(html: Path, heaviest: int = 3) -> list[str]:
    """The landing page and the chapters that weigh most (their HTML and the figures they show)."""
    chapters = [p.with_suffix(".html").as_posix() for p in lecture_chapters(ROOT)]
    chapters = [page for page in chapters if (html / page).exists()]
    images = {f.name: f.stat().st_size for f in (html / "_images").glob("*")}

    def weight(page: str) -> int:
        text = (html / page).read_text(encoding="utf-8")
        return len(text) + sum(size for name, size in images.items() if name in text)

    return list(dict.fromkeys(["book/index.html", *sorted(chapters, key=weight, reverse=True)[:heaviest]]))


SERVER = ROOT / "tools" / "serve_h2.mjs"
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"  # pinned in package-lock.json
SETUP_HINT = "run `make lighthouse` (tools/setup_lighthouse.sh installs Chromium, Node.js and Lighthouse)"


@contextlib.contextmanager
def serve_h2(directory: Path, port: int) -> Iterator[str]:
    """Serve `directory` over HTTP/2 + TLS with gzip on 127.0.0.1:PORT (tools/serve_h2.mjs); yield its base URL."""
    if not (directory / "index.html").exists():
        raise FileNotFoundError(f"{directory}: no index.html — build the book first (`make book`)")
    with tempfile.TemporaryDirectory(prefix="lighthouse-tls-") as tls:
        cert, key = Path(tls) / "cert.pem", Path(tls) / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            + ["-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
            + ["-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        server = subprocess.Popen(
            ["node", str(SERVER), str(directory), str(port), str(cert), str(key)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            line = server.stdout.readline()  # "serving https://127.0.0.1:PORT/" once it listens
            if not line.startswith("serving "):
                raise OSError(f"cannot serve on 127.0.0.1:{port}: {server.stderr.read().strip() or line}")
            yield line.split()[1]
        finally:
            server.terminate()
            server.wait(timeout=10)


def run(url: str, out: Path) -> dict:
    """One Lighthouse run; returns the parsed JSON report (also written with an HTML copy)."""
    with tempfile.TemporaryDirectory(prefix="lighthouse-profile-") as profile:
        cmd = [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            "--output=html",
            f"--output-path={out}",
            "--form-factor=mobile",
            "--throttling-method=simulate",
            f"--only-categories={','.join(CATEGORIES)}",
            # the certificate serve_h2 made for 127.0.0.1 is its own, not a public authority's
            "--chrome-flags="
            + " ".join(CHROMIUM_FLAGS + ["--ignore-certificate-errors", f"--user-data-dir={profile}"]),
        ]
        env = dict(os.environ, CHROME_PATH=CHROMIUM)
        # Its own process group, so that Chromium, which Lighthouse starts, goes too when a run is cut short.
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            stderr = proc.communicate(timeout=RUN_TIMEOUT)[1]
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"lighthouse took over {RUN_TIMEOUT} s on {url}; is the machine busy?") from None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # whatever of the run is left (nothing, normally)
            proc.wait(timeout=10)
    report = out.parent / (out.name + ".report.json")
    if proc.returncode != 0 or not report.exists():
        raise RuntimeError(f"lighthouse failed on {url} (exit {proc.returncode}):\n{stderr[-3000:]}")
    result = json.loads(report.read_text(encoding="utf-8"))
    requests = result["audits"]["network-requests"]["details"]["items"]
    protocol = next((r.get("protocol") for r in requests if r.get("resourceType") == "Document"), None)
    if protocol != "h2":
        raise RuntimeError(f"{url} came over {protocol}, not HTTP/2 (h2)")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="paths under the site root")
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "lighthouse")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    parser.add_argument("--runs", type=int, default=3, help="runs per page; the median is reported (default 3)")
    args = parser.parse_args(argv)
    # `timeout` and CI stop a command with SIGTERM: exit through the `finally` blocks that stop the server and
    # Chromium, instead of leaving them running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    if not 0 < args.port < 65536:
        parser.error(f"--port must be a TCP port, 1 to 65535, got {args.port}")
    tools = {CHROMIUM: "chromium", "node": "nodejs", "openssl": "openssl"}
    missing = [f"{tool} (Debian package {package})" for tool, package in tools.items() if not shutil.which(tool)]
    if not LIGHTHOUSE.exists():
        missing.append(f"{LIGHTHOUSE.relative_to(ROOT)} (npm ci)")
    if missing:
        print(f"lighthouse: missing {', '.join(missing)}; {SETUP_HINT}", file=sys.stderr)
        return 1
    pages = args.pages or default_pages(args.html)
    for page in pages:
        if not (args.html / page).is_file():
            print(f"{args.html / page}: no such page (build with `make book`)", file=sys.stderr)
            return 1
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        with serve_h2(args.html, port=args.port) as base:
            for page in pages:
                name = page.replace("/", "_").removesuffix(".html")
                reports = [run(base + page, args.out / f"{name}-{i + 1}") for i in range(args.runs)]
                reports.sort(key=lambda r: r["categories"]["performance"]["score"])
                report = reports[len(reports) // 2]  # the median run by performance score
                scores = {c: report["categories"][c]["score"] for c in CATEGORIES}
                metrics = {m: report["audits"][m]["numericValue"] for m in METRICS}
                weight = report["audits"]["total-byte-weight"]["numericValue"]
                every = ",".join(f"{r['categories']['performance']['score']:.2f}" for r in reports)
                rows.append((page, scores, metrics, weight, every))
    except (OSError, RuntimeError, subprocess.CalledProcessError) as err:
        print(f"lighthouse: {err} (another port: make lighthouse LIGHTHOUSE_PORT=...)", file=sys.stderr)
        return 1
    header = ["page", *CATEGORIES, "FCP s", "LCP s", "TBT ms", "CLS", "kB", "runs"]
    lines = ["\t".join(header)]
    for page, scores, m, weight, every in rows:
        lines.append(
            "\t".join(
                [
                    page,
                    *(f"{scores[c]:.2f}" for c in CATEGORIES),
                    f"{m['first-contentful-paint'] / 1000:.1f}",
                    f"{m['largest-contentful-paint'] / 1000:.1f}",
                    f"{m['total-blocking-time']:.0f}",
                    f"{m['cumulative-layout-shift']:.3f}",
                    f"{weight / 1000:.0f}",
                    every,
                ]
            )
        )
    load = "load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    (args.out / "scores.tsv").write_text("\n".join(lines) + f"\n# {load}\n", encoding="utf-8")
    widths = [max(len(line.split("\t")[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line.split("\t"), widths, strict=True)))
    print(f"\nServed over HTTP/2 with gzip. Median of {args.runs} run(s) per page (runs: each run's score); {load}")
    print(f"Reports: {args.out}/  (open the .report.html files to see what each score loses on)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
