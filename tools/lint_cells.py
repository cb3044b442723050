"""Lint the code cells of the MyST chapters with ruff, reporting chapter lines (never reformatting).

    python tools/lint_cells.py [FILE.md ...]    (default: every .md under book/ and notebooks/)

Each chapter's code cells are laid out at their own line numbers in an otherwise blank Python
text (so ruff's line numbers are the chapter's), and checked with pyflakes' rules and bugbear:
undefined or unused names, syntax errors, likely bugs. Style rules are left out: chapter code is
formatted for reading. Prints `path:line: CODE message — fix the cell` per finding; exit 1 if any.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

RULES = "F,E9,B"
# F811: a chapter may redefine a name on purpose, to show a better version. F401: the setup cell
# imports `mlsafety` and friends for the reader's own experiments. B905, B007: `zip(..., strict=)`
# and `_`-named loop variables would clutter code written to be read.
IGNORE = "F811,F401,B905,B007"


def cells_as_python(text: str) -> str:
    """The file's code-cell lines at their own line numbers; every other line blank."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    from check import split_options

    lines = text.splitlines()
    out = [""] * len(lines)
    md = create_md_parser(MdParserConfig(enable_extensions={"colon_fence", "dollarmath", "amsmath"}), RendererHTML)
    for token in md.parse(text):
        if token.type != "fence" or not token.info.strip().startswith("{code-cell}") or token.map is None:
            continue
        _, skip, _ = split_options(token.content)
        first, end = token.map[0] + 1 + skip, token.map[1] - 1
        for i in range(first, min(end, len(lines))):
            # IPython magics and shell escapes are not Python
            out[i] = "" if lines[i].lstrip().startswith(("%", "!")) else lines[i]
    return "\n".join(out) + "\n"


def lint(path: Path, root: Path) -> list[str]:
    rel = path.relative_to(root)
    source = cells_as_python(path.read_text(encoding="utf-8"))
    if not source.strip():
        return []
    ruff = Path(sys.executable).parent / "ruff"
    proc = subprocess.run(
        [
            str(ruff),
            "check",
            "--no-cache",
            "--isolated",
            "--select",
            RULES,
            "--ignore",
            IGNORE,
            "--output-format",
            "json",
            "--stdin-filename",
            f"{rel}.py",
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        cwd=root,
    )
    if proc.returncode not in (0, 1):
        return [f"{rel}:1: ruff failed ({proc.stderr.strip().splitlines()[-1:]}) — run it by hand to see why"]
    found = []
    for item in json.loads(proc.stdout or "[]"):
        code = item.get("code") or "E999"
        found.append(f"{rel}:{item['location']['row']}: {code} {item['message']} — fix the code cell")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    root = args.root.resolve()
    files = [f.resolve() for f in args.files] or sorted(
        p for d in ("book", "notebooks") if (root / d).is_dir() for p in (root / d).rglob("*.md")
    )
    problems = []
    for path in files:
        if "{code-cell}" in path.read_text(encoding="utf-8", errors="replace"):
            problems += lint(path, root)
    for line in problems:
        print(line)
    if problems:
        print(f"lint_cells: {len(problems)} finding(s)", file=sys.stderr)
        return 1
    print(f"lint_cells: code cells of {len(files)} file(s) pass ruff ({RULES})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
