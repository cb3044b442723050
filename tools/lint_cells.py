"""Lint the code cells of the MyST chapters with ruff, reporting chapter lines.

    python tools/lint_cells.py [FILE.md ...]    (default: every .md under book/ and notebooks/)
    python tools/lint_cells.py --fit FILE.md ... (rewrite code lines wider than the printed page)

Each chapter's code cells are laid out at their own line numbers in an otherwise blank Python
text (so ruff's line numbers are the chapter's), and checked with pyflakes' rules and bugbear:
undefined or unused names, syntax errors, likely bugs. Style rules are left out: chapter code is
formatted for reading. Prints `path:line: CODE message — fix the cell` per finding; exit 1 if any.

`--fit` is the one mode that rewrites a chapter: each code line wider than CODE_WIDTH (the printed
page, which `make check` enforces) is reformatted by `ruff format --range` (only that statement,
quotes kept), a trailing comment that is still too wide moves onto its own line above, wide comment
and docstring lines are wrapped, and a string literal alone on a wide line is split into adjacent
literals. What is still too wide is printed for a hand edit.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sources import CODE_WIDTH, SOURCE_DIRS, BookConfigError, book_config, code_cells, is_magic  # noqa: E402

RULES = "F,E9,B"
# F811: a chapter may redefine a name on purpose, to show a better version. F401: the setup cell
# imports `mlsafety` and friends for the reader's own experiments. B905, B007: `zip(..., strict=)`
# and `_`-named loop variables would clutter code written to be read.
IGNORE = "F811,F401,B905,B007"
RUFF = Path(sys.executable).parent / "ruff"


def cells_as_python(text: str) -> str:
    """The file's code-cell lines at their own line numbers; every other line blank."""
    lines = text.splitlines()
    out = [""] * len(lines)
    for cell in code_cells(text):
        for i in range(cell.first - 1, min(cell.end - 1, len(lines))):
            out[i] = "" if is_magic(lines[i]) else lines[i]
    return "\n".join(out) + "\n"


def lint(path: Path, root: Path) -> list[str]:
    rel = path.relative_to(root)
    source = cells_as_python(path.read_text(encoding="utf-8", errors="replace"))
    if not source.strip():  # no code cells
        return []
    options = ["--select", RULES, "--ignore", IGNORE, "--output-format", "json", "--stdin-filename", f"{rel}.py"]
    proc = subprocess.run(
        [RUFF, "check", "--no-cache", "--isolated", *options, "-"],
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


def fit_code(code: str, ruff: Path) -> str:
    """The cell's code with lines wider than CODE_WIDTH reformatted (statement by statement)."""
    lines: list[str] = []
    for line in code.split("\n"):  # first, trailing comments: less padding, or a line of their own
        indent = line[: len(line) - len(line.lstrip())]
        code_part, hash_, comment = line.partition("  # ")
        quoted = any(code_part.count(q) % 2 for q in "'\"")
        if len(line) <= CODE_WIDTH or line.lstrip().startswith("#") or not hash_ or quoted:
            lines.append(line)
        elif len(tight := f"{code_part.rstrip()}  # {comment.strip()}") <= CODE_WIDTH:
            lines.append(tight)
        else:
            lines += [indent + "# " + comment.strip(), code_part.rstrip()]
    for index in reversed(range(len(lines))):  # then statements, by ruff format
        if index >= len(lines) or len(lines[index]) <= CODE_WIDTH or lines[index].lstrip().startswith("#"):
            continue
        proc = subprocess.run(
            [str(ruff), "format", "--isolated", "--line-length", str(CODE_WIDTH)]
            + ["--config", "format.quote-style='preserve'"]
            + [f"--range={index + 1}:1-{index + 1}:{len(lines[index]) + 1}", "-"],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
        )
        if proc.returncode == 0:
            lines = proc.stdout.rstrip("\n").split("\n")
    return "\n".join(split_strings(wrap_docstrings(wrap_comments(lines))))


STRING_LINE = re.compile(r"^(\s*)([rRfFuU]{0,2})([\"'])(.*)\3(\)?,?\)?)$")


def comment_indent(line: str) -> str | None:
    """The indent of a comment line (not a `# @` marker such as `# @save`); None for any other line."""
    text = line.lstrip()
    return line[: len(line) - len(text)] if text.startswith("#") and not text.startswith("# @") else None


def wrap_comments(lines: list[str]) -> list[str]:
    """Re-wrap each block of comment lines (same indent) that has a line wider than CODE_WIDTH."""
    out: list[str] = []
    for indent, group in itertools.groupby(lines, comment_indent):
        block = list(group)
        if indent is not None and any(len(line) > CODE_WIDTH for line in block):
            text = " ".join(line.strip()[1:].strip() for line in block)
            out += textwrap.wrap(text, CODE_WIDTH, initial_indent=indent + "# ", subsequent_indent=indent + "# ")
        else:
            out += block
    return out


def wrap_docstrings(lines: list[str]) -> list[str]:
    """Wrap the lines of triple-quoted strings (docstrings) that are wider than CODE_WIDTH."""
    out: list[str] = []
    inside = False
    for line in lines:
        quotes = line.count('"""')
        starts = not inside and line.lstrip().startswith('"""')
        if len(line) > CODE_WIDTH and (inside or starts):
            indent = line[: len(line) - len(line.lstrip())]
            text = line.strip()
            opened, closed = text.startswith('"""') and not inside, text.endswith('"""') and (inside or quotes == 2)
            body = text.removeprefix('"""') if opened else text
            body = body.removesuffix('"""') if closed else body
            wrapped = textwrap.wrap(body, CODE_WIDTH - len(indent) - 3, break_on_hyphens=False)
            wrapped = [indent + ('"""' if opened and k == 0 else "") + w for k, w in enumerate(wrapped)]
            out += wrapped + ([indent + '"""'] if closed else [])
        else:
            out.append(line)
        if quotes % 2:
            inside = not inside
    return out


def split_strings(lines: list[str]) -> list[str]:
    """Split a string literal that stands alone on a wide line (inside brackets) into adjacent ones.

    Python joins adjacent literals, so the value is the same; f-string pieces keep their braces whole.
    """
    out: list[str] = []
    for line in lines:
        match = STRING_LINE.match(line)
        while match and len(line) > CODE_WIDTH and match.group(3) not in match.group(4):
            indent, prefix, quote, body, tail = match.groups()
            fstring = "f" in prefix.lower()
            depth, cut = 0, -1
            for i, char in enumerate(body[: CODE_WIDTH - len(indent) - len(prefix) - 2]):
                depth += (char == "{") - (char == "}")
                if char == " " and (depth == 0 or not fstring):
                    cut = i
            if cut <= 0:
                break
            out.append(indent + literal(prefix, quote, body[: cut + 1]))
            line = indent + literal(prefix, quote, body[cut + 1 :]) + tail
            match = STRING_LINE.match(line)
        out.append(line)
    return out


def literal(prefix: str, quote: str, text: str) -> str:
    """A string literal; a piece of an f-string without braces drops the f (ruff's F541)."""
    keep = prefix if "{" in text else prefix.replace("f", "").replace("F", "")
    return f"{keep}{quote}{text}{quote}"


def fit_file(path: Path) -> list[str]:
    """Rewrite the file's over-wide code lines; return `path:line` of those still too wide."""
    lines = path.read_text(encoding="utf-8").split("\n")
    cells = [(cell.first - 1, cell.end - 1) for cell in code_cells("\n".join(lines))]
    for first, end in reversed(cells):
        code = lines[first:end]
        if all(len(line) <= CODE_WIDTH for line in code) or any(map(is_magic, code)):
            continue
        lines[first:end] = fit_code("\n".join(code), RUFF).split("\n")
    path.write_text("\n".join(lines), encoding="utf-8")
    text = cells_as_python("\n".join(lines)).splitlines()
    return [f"{path}:{i + 1}: still {len(line)} characters" for i, line in enumerate(text) if len(line) > CODE_WIDTH]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--fit", action="store_true", help=f"rewrite code lines wider than {CODE_WIDTH} characters")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        book_config()  # the MyST settings come from it: a broken one is named here, not in a traceback
    except BookConfigError as err:
        parser.exit(2, f"error: {err}\n")
    for path in args.files:
        if path.suffix != ".md" or not path.is_file():
            parser.error(f"{path}: no such Markdown file — give chapters as book/<part>/<lecture>.md")
        if not args.fit and not path.resolve().is_relative_to(root):
            parser.error(f"{path}: not under --root {root} — give --root the book that holds it")
    if args.fit:
        if not args.files:
            parser.error("--fit rewrites the chapters it is given: name them, e.g. book/<part>/<lecture>.md")
        left = [line for path in args.files for line in fit_file(path.resolve())]
        print("\n".join(left) or f"every code line fits {CODE_WIDTH} characters")
        return 1 if left else 0
    files = [f.resolve() for f in args.files] or sorted(
        p for d in SOURCE_DIRS if (root / d).is_dir() for p in (root / d).rglob("*.md")
    )
    if not files:
        parser.error(
            f"--root {root}: no .md files under {' or '.join(d + '/' for d in SOURCE_DIRS)} — give the book's folder"
        )
    problems = [line for path in files for line in lint(path, root)]
    for line in problems:
        print(line)
    if problems:
        print(f"lint_cells: {len(problems)} finding(s)", file=sys.stderr)
        return 1
    print(f"lint_cells: code cells of {len(files)} file(s) pass ruff ({RULES})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
