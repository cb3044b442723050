"""Contact sheets of the built figures in grey scale, for a person to look at (no pass/fail).

    python tools/greyscale_sheet.py [_build/html] [--out _build/greyscale] [--per-sheet 4]

Each figure of every chapter page is flattened onto white, converted with PIL's
`ImageOps.grayscale` (what a black-and-white printer does, near enough), and tiled two to a row,
labelled with its page and figure name. Open the sheets and ask, figure by figure: can every
series, bar and legend swatch be told apart without colour, and is every label readable?
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

IMG = re.compile(r'<figure[^>]*id="([^"]+)"|<img [^>]*src="\.\./\.\./(_images/[^"]+\.png)"')


def figures(html: Path) -> list[tuple[str, Path]]:
    """(label, png) for every chapter figure, in page order; label is `part/page fig-name`."""
    found = []
    for page in sorted(html.glob("book/*/*.html")):
        name = "?"
        for fig, img in IMG.findall(page.read_text(encoding="utf-8")):
            name = fig or name
            if img:
                found.append((f"{page.parent.name}/{page.stem} {name}", html / img))
    return found


def sheet(tiles: list[tuple[str, Path]], width: int = 2400) -> Image.Image:
    col = width // 2
    cells = []
    for label, png in tiles:
        rgba = Image.open(png).convert("RGBA")
        flat = Image.new("RGBA", rgba.size, "white")
        grey = ImageOps.grayscale(Image.alpha_composite(flat, rgba))
        grey.thumbnail((col - 20, 10_000))
        cells.append((label, grey))
    rows = [cells[i : i + 2] for i in range(0, len(cells), 2)]
    heights = [max(g.height for _, g in row) + 40 for row in rows]
    out = Image.new("L", (width, sum(heights)), 255)
    draw, y = ImageDraw.Draw(out), 0
    for row, h in zip(rows, heights, strict=True):
        for i, (label, grey) in enumerate(row):
            draw.text((i * col + 10, y + 8), label, fill=0, font_size=24)
            out.paste(grey, (i * col + 10, y + 38))
        y += h
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", nargs="?", default="_build/html", type=Path)
    ap.add_argument("--out", default="_build/greyscale", type=Path)
    ap.add_argument("--per-sheet", default=4, type=int, help="figures per sheet (two a row)")
    args = ap.parse_args()
    figs = figures(args.html)
    if not figs:
        sys.exit(f"{args.html}: no chapter figures found; build the book first (make book)")
    args.out.mkdir(parents=True, exist_ok=True)
    n = args.per_sheet
    for k in range(0, len(figs), n):
        path = args.out / f"sheet-{k // n + 1:02d}.png"
        sheet(figs[k : k + n]).save(path)
    print(f"{len(figs)} figures on {-(-len(figs) // n)} sheets in {args.out}/; open them and look")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
