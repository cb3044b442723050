"""Score the built book with Lighthouse (mobile preset) and print a table; `make lighthouse`.

    python tools/lighthouse.py [PAGE ...] [--html DIR] [--out DIR]

PAGE is a path under the site root (default: the landing page and the three heaviest chapters,
HTML and figures together). Each page is scored RUNS times (default 3) and the run with the median
performance score is reported, since one run varies with machine load. The site is served on
127.0.0.1:PORT with gzip for text, as a static host serves it; reports (JSON and HTML) go to
_build/lighthouse/, the scores to _build/lighthouse/scores.tsv, with the machine's load average.
Scores vary with machine load, so they are recorded, not asserted.

`make lighthouse` first builds the book with BOOK_BASEURL=http://127.0.0.1:PORT/, as a deployment
builds it with its own address: otherwise the canonical links point to another domain, which
Lighthouse's SEO audit rightly fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import browser

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
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sources import toc_files

    chapters = [
        p.with_suffix(".html").as_posix()
        for p in toc_files(browser.ROOT)
        if len(p.parts) >= 3 and (html / p.with_suffix(".html")).exists()
    ]
    images = {f.name: f.stat().st_size for f in (html / "_images").glob("*")}

    def weight(page: str) -> int:
        text = (html / page).read_text(encoding="utf-8")
        return len(text) + sum(size for name, size in images.items() if name in text)

    return list(dict.fromkeys(["book/index.html", *sorted(chapters, key=weight, reverse=True)[:heaviest]]))


def run(url: str, out: Path) -> dict:
    """One Lighthouse run; returns the parsed JSON report (also written with an HTML copy)."""
    with tempfile.TemporaryDirectory(prefix="lighthouse-profile-") as profile:
        cmd = [
            str(browser.LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            "--output=html",
            f"--output-path={out}",
            "--form-factor=mobile",
            "--throttling-method=simulate",
            f"--only-categories={','.join(CATEGORIES)}",
            "--chrome-flags=" + " ".join(browser.CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]),
        ]
        env = dict(os.environ, CHROME_PATH=browser.CHROMIUM)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    report = out.parent / (out.name + ".report.json")
    if proc.returncode != 0 or not report.exists():
        raise RuntimeError(f"lighthouse failed on {url} (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(report.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="paths under the site root")
    parser.add_argument("--html", type=Path, default=browser.ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=browser.ROOT / "_build" / "lighthouse")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    parser.add_argument("--runs", type=int, default=3, help="runs per page; the median is reported (default 3)")
    args = parser.parse_args(argv)
    missing = browser.missing_tools()
    if not browser.LIGHTHOUSE.exists():
        missing.append(f"{browser.LIGHTHOUSE.relative_to(browser.ROOT)} (npm ci)")
    if missing:
        print(f"lighthouse: missing {', '.join(missing)}; {browser.SETUP_HINT}", file=sys.stderr)
        return 1
    pages = args.pages or default_pages(args.html)
    for page in pages:
        if not (args.html / page).is_file():
            print(f"{args.html / page}: no such page (build with `make book`)", file=sys.stderr)
            return 1
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        with browser.serve(args.html, gzip_text=True, port=args.port) as base:
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
    except (OSError, RuntimeError) as err:
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
    print(f"\nMedian of {args.runs} run(s) per page (runs: every run's performance score); {load}")
    print(f"Reports: {args.out}/  (open the .report.html files to see what each score loses on)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
