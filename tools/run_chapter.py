"""Execute one chapter (a MyST notebook) in a fresh kernel, offline, and report each code cell's time.

    python tools/run_chapter.py book/background/deep-learning-review.md [--save out.ipynb]
    python tools/run_chapter.py NOTEBOOK.ipynb   (a generated notebook: its cells are named by number)

For writing a chapter: faster than a book build, and run as the build runs it (`build.run_cells`, the
chapter read by myst-nb, the network off). A failing cell is reported like `make check`:
`path:line: Error: <exception>` at the cell's first line of code, then the traceback (without colour
codes when the output is not a terminal).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import ANSI, NO_KERNEL, cell_error, failing_cell, one_line, run_cells  # noqa: E402
from offline import go_offline, network_hint  # noqa: E402
from sources import BookConfigError, cell_timeout, code_cell_lines, read_notebook  # noqa: E402


def report_failure(where: str, err: Exception, tty: bool) -> None:
    """`path:line: Error: Name: message`, the offline rule if it is a network error, then the traceback."""
    name, value = cell_error(err)
    if name == "NoSuchKernel":
        print(NO_KERNEL.format(where=where, value=value), file=sys.stderr)
        return
    if name == "CellTimeoutError":
        print(f"{where}: Error: the cell timed out ({one_line(value)[:200]})", file=sys.stderr)
        return
    print(f"{where}: Error: {name}: {one_line(value)}", file=sys.stderr)
    if hint := network_hint(f"{name}: {value}"):
        print(f"{where}: {hint}", file=sys.stderr)
    trace = str(getattr(err, "traceback", "") or err)
    print(trace if tty else ANSI.sub("", trace), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", type=Path)
    parser.add_argument("--save", type=Path, help="write the executed notebook here")
    parser.add_argument("--timeout", type=int, help="seconds allowed per cell (default: _config.yml's)")
    args = parser.parse_args(argv)
    if args.timeout is not None and args.timeout < 1:
        parser.error(f"--timeout must be at least 1 second, got {args.timeout}")
    if args.save and (args.save.is_dir() or not args.save.parent.is_dir()):  # found out before the run, not after
        parser.error(f"--save {args.save}: give a file in an existing folder, e.g. _build/chapter.ipynb")
    chapter = args.chapter
    if not chapter.is_file():
        print(f"{chapter}:1: Error: no such file", file=sys.stderr)
        return 2
    if chapter.suffix not in (".md", ".ipynb"):
        print(f"{chapter}:1: Error: not a chapter — give its MyST source, book/<part>/<lecture>.md", file=sys.stderr)
        return 2
    try:
        timeout = args.timeout or cell_timeout()
    except BookConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:  # a corrupt notebook fails in many ways inside nbformat
        if chapter.suffix == ".ipynb":  # a notebook has no source lines: cells are named by number only
            nb, lines = nbformat.read(chapter, as_version=4), {}
        else:
            nb = read_notebook(chapter)
            lines = code_cell_lines(chapter, nb)
    except Exception as err:
        print(f"{chapter}:1: Error: cannot read it ({type(err).__name__}: {one_line(err)[:200]})", file=sys.stderr)
        return 2
    if not any(cell.cell_type == "code" for cell in nb.cells):
        print(f"{chapter}: no code cells to run (a chapter's code is in ```{{code-cell}} blocks)")
        return 0
    numbers = {i: n for n, i in enumerate((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), start=1)}
    seconds: list[float] = []

    def report(index: int, elapsed: float) -> None:
        seconds.append(elapsed)
        head = nb.cells[index].source.strip().splitlines()[0][:60] if nb.cells[index].source.strip() else ""
        print(f"{elapsed:7.2f} s  cell {numbers[index]:3d}  line {lines.get(index, 1):4d}  {head}", flush=True)

    go_offline()
    err = run_cells(nb, chapter.parent, timeout, report)
    if err is not None:
        index = failing_cell(nb)
        where = f"{chapter}:{lines[index]}" if index in lines else f"{chapter}: code cell {numbers.get(index)}"
        report_failure(where, err, sys.stderr.isatty())
    print(f"{sum(seconds):7.2f} s  total for {chapter}")
    if args.save:
        nbformat.write(nb, args.save)
    return 0 if err is None else 1


if __name__ == "__main__":
    sys.exit(main())
