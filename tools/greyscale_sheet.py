"""Contact sheets of the built figures in grey scale, for a person to look at (no pass/fail).

    python tools/greyscale_sheet.py [_build/html] [--out _build/greyscale]

Every chapter figure, flattened onto white and converted with PIL's ImageOps.grayscale (what a
black-and-white printer does, near enough), four to a sheet, labelled `part/page fig-name`.
Look at each: can every line, bar, band and legend swatch be told apart, and every label read?
"""

import argparse
import re
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

FIG_OR_IMG = re.compile(r'<figure[^>]*id="([^"]+)"|<img [^>]*src="\.\./\.\./(_images/[^"]+\.png)"')


def figures(html: Path) -> list[tuple[str, Path]]:
    """(label, png) for every figure of the chapter pages, in page order."""
    found, name = [], "?"
    for page in sorted(html.glob("book/*/*.html")):
        for fig, img in FIG_OR_IMG.findall(page.read_text(encoding="utf-8")):
            name = fig or name
            if img:
                found.append((f"{page.parent.name}/{page.stem} {name}", html / img))
    return found


def sheet(tiles: list[tuple[str, Path]], col: int = 1200) -> Image.Image:
    greys = []
    for label, png in tiles:
        rgba = Image.open(png).convert("RGBA")
        grey = ImageOps.grayscale(Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba))
        grey.thumbnail((col - 20, 10_000))
        greys.append((label, grey))
    rows = [greys[i : i + 2] for i in range(0, len(greys), 2)]
    heights = [max(g.height for _, g in row) + 40 for row in rows]
    out, y = Image.new("L", (2 * col, sum(heights)), 255), 0
    for row, height in zip(rows, heights, strict=True):
        for i, (label, grey) in enumerate(row):
            ImageDraw.Draw(out).text((i * col + 10, y + 8), label, fill=0, font_size=24)
            out.paste(grey, (i * col + 10, y + 38))
        y += height
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", nargs="?", default="_build/html", type=Path)
    ap.add_argument("--out", default="_build/greyscale", type=Path)
    args = ap.parse_args()
    if args.out.exists() and not args.out.is_dir():
        ap.error(f"--out {args.out}: not a folder")
    if not (figs := figures(args.html)):
        sys.exit(f"{args.html}: no figures in book/*/*.html; build the book first (make book)")
    args.out.mkdir(parents=True, exist_ok=True)
    for k in range(0, len(figs), 4):
        sheet(figs[k : k + 4]).save(args.out / f"sheet-{k // 4 + 1:02d}.png")
    print(f"{len(figs)} figures on {-(-len(figs) // 4)} sheets in {args.out}/: open each and look")
