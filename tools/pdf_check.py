"""Check a built PDF the way a reader of paper would meet it (issue #18).

    python tools/pdf_check.py _build/pdf/<name>.pdf [--log _build/latex/<name>.log]   (<name>: _config.yml's targetname)

Prints the page count, the size and the number of verbatim lines the PDF wraps (`↪`: code lines
cannot, `make check` keeps them within 88 characters, so these are printed outputs), then one line
per problem; exit 1 if there is any:
- an overfull box wider than OVERFULL_PT in the LaTeX log (text or code sticking into the margin);
- a font that is not embedded (`pdffonts`): a print shop needs every font in the file;
- a blank page (no text but the running header and page number, and no figure);
- text that should never print: `??` (an unresolved reference), raw TeX (`\\begin{`, `\\ref{`...),
  or `[missing]`;
- on a sample of pages rendered with `pdftoppm`, ink in the outer margin strips (something
  outside the text block);
- a figure that the text never refers to, or that LaTeX floated more than FIGURE_PAGES pages away
  from the nearest reference to it.
Uses poppler-utils (pdfinfo, pdffonts, pdfimages, pdftotext, pdftoppm), as the tests do.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from sources import BookConfigError, book_config

OVERFULL_PT = 5.0
RAW_TEX = re.compile(r"\\(begin|end|ref|cite|label|hyperref|textbf|emph|section)\{|\[missing\]|\?\?")
MARGIN = 0.06  # share of the page width at each side that must stay white (A4: 12.6 mm of 31.8 mm)
SAMPLE = 12  # pages rendered
FIGURE_PAGES = 2  # how far a figure may float from the text that refers to it
FIGURE = re.compile(r"Fig\.\s+(\d+(?:\.\d+)?)(:?)")  # "Fig. 7.3: caption", or "Fig. 7.3" in the text


def run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600).stdout


def page_count(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(pdf)), re.MULTILINE).group(1))


def overfull_boxes(log: Path, limit: float = OVERFULL_PT) -> list[str]:
    """`log:line: Overfull \\hbox (Npt too wide) ...` for each box wider than `limit`."""
    found = []
    for number, line in enumerate(log.read_text(errors="replace").splitlines(), 1):
        match = re.match(r"Overfull \\[hv]box \(([\d.]+)pt too (wide|high)\)(.*)", line)
        if match and float(match.group(1)) > limit:
            found.append(f"{log}:{number}: {line.strip()[:160]}")
    return found


def unembedded_fonts(pdf: Path) -> list[str]:
    rows = run("pdffonts", str(pdf)).splitlines()[2:]
    return [row.split()[0] for row in rows if len(row.split()) >= 5 and row.split()[-5] != "yes"]


def blank_pages(pdf: Path, texts: list[str]) -> list[int]:
    """Pages with no text but a header line and a page number, and no image on them."""
    images = run("pdfimages", "-list", str(pdf)).splitlines()[2:]
    with_images = {int(row.split()[0]) for row in images if row.split()}
    title = re.escape(str(book_config().get("title") or ""))  # _config.yml's, in the running header
    running = re.compile(r"[ivxlcdm\d]+|\d+\s+.*" + (f"|.*{title}" if title else ""))  # page number, running header
    blank = []
    for number, text in enumerate(texts, 1):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        body = [line for line in lines if not running.fullmatch(line)]
        if not body and number not in with_images and number > 2:
            blank.append(number)
    return blank


def bad_text(texts: list[str]) -> list[str]:
    found = []
    for number, text in enumerate(texts, 1):
        for line in text.splitlines():
            if RAW_TEX.search(line):
                found.append(f"page {number}: {line.strip()[:120]}")
    return found


def figures_far_from_text(texts: list[str], limit: int = FIGURE_PAGES) -> list[str]:
    """Figures never referred to, or floated more than `limit` pages from the nearest reference."""
    starts, position = [], 0
    for text in texts:
        starts.append(position)
        position += len(text) + 1
    captions, references = {}, {}
    for match in FIGURE.finditer("\n".join(texts)):  # a reference may break across two pages
        page = sum(start <= match.start() for start in starts)
        seen = captions if match.group(2) else references
        seen.setdefault(match.group(1), []).append(page)
    found = []
    for figure, (page, *_) in captions.items():
        nearest = min((abs(page - ref) for ref in references.get(figure, [])), default=None)
        if nearest is None:
            found.append(f"page {page}: Fig. {figure} is never referred to in the text (add a {{numref}})")
        elif nearest > limit:
            found.append(f"page {page}: Fig. {figure} floated {nearest} pages from the nearest reference to it")
    return found


def ink_in_margins(pdf: Path, pages: list[int]) -> list[str]:
    """Render pages in grey at 40 dpi; the outer strips of each must be white."""
    from PIL import Image

    found = []
    with tempfile.TemporaryDirectory() as tmp:
        for page in pages:
            stem = Path(tmp) / f"p{page}"
            run("pdftoppm", "-gray", "-r", "40", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(stem))
            image = Image.open(f"{stem}.pgm")
            width, height = image.size
            strip = int(width * MARGIN)
            for box in ((0, 0, strip, height), (width - strip, 0, width, height)):
                darkest = image.crop(box).getextrema()[0]
                if darkest < 128:
                    found.append(f"page {page}: ink in the {'left' if box[0] == 0 else 'right'} margin")
    return found


def check(pdf: Path, log: Path | None) -> tuple[list[str], str]:
    pages = page_count(pdf)
    texts = run("pdftotext", "-layout", str(pdf), "-").split("\f")[:pages]  # one form feed after each page
    wrapped = sum(text.count("↪") for text in texts)
    summary = f"{pdf}: {pages} pages, {pdf.stat().st_size / 1e6:.1f} MB, {wrapped} wrapped output line(s)"
    problems = overfull_boxes(log) if log and log.exists() else []
    problems += [f"font {name} is not embedded" for name in unembedded_fonts(pdf)]
    problems += [f"page {n} is blank" for n in blank_pages(pdf, texts)]
    problems += bad_text(texts)
    problems += figures_far_from_text(texts)
    sample = sorted({max(1, round(pages * k / SAMPLE)) for k in range(1, SAMPLE + 1)})
    problems += ink_in_margins(pdf, sample)
    return problems, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", type=Path)
    parser.add_argument("--log", type=Path, help="the LaTeX log, for overfull boxes")
    args = parser.parse_args(argv)
    if not args.pdf.is_file():
        parser.error(f"{args.pdf}: no such PDF (`make pdf` or `make handouts` writes them under _build/)")
    try:
        problems, summary = check(args.pdf, args.log)
    except subprocess.CalledProcessError as err:
        reason = (err.stderr or "").strip().splitlines()[-1:] or [f"exit status {err.returncode}"]
        print(f"{args.pdf}: {err.cmd[0]} cannot read it ({reason[0]}) — give a PDF `make pdf` wrote", file=sys.stderr)
        return 2
    except BookConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(summary)
    for problem in problems:
        print(f"  {problem}")
    print(f"pdf_check: {len(problems)} problem(s)" if problems else "pdf_check: no problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
