"""Execute one chapter (a MyST notebook) in a fresh kernel, offline, and report each code cell's time.

    python tools/run_chapter.py book/background/deep-learning-review.md [--save out.ipynb]

For writing a chapter: faster than a book build. The chapter is read as the book build reads it
(myst-nb), the network is off (tools/offline.py), and a failing cell is reported like `make check`:
`path:line: Error: <exception>` at the cell's first line of code, then the traceback (without colour
codes when the output is not a terminal).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import ANSI, KERNEL_QUIET, THREAD_ENV, code_cell_lines, read_notebook  # noqa: E402
from offline import go_offline, network_hint  # noqa: E402
from sources import CELL_TIMEOUT  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def one_line(text: str) -> str:
    return " ".join(ANSI.sub("", str(text)).split())


def report_failure(where: str, err: Exception, tty: bool) -> None:
    """`path:line: Error: Name: message`, the offline rule if it is a network error, then the traceback."""
    if isinstance(err, CellTimeoutError):
        print(f"{where}: Error: the cell timed out ({one_line(err)[:200]})", file=sys.stderr)
        return
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", "")
    print(f"{where}: Error: {ename}: {one_line(evalue)}", file=sys.stderr)
    hint = network_hint(f"{ename}: {evalue}")
    if hint:
        print(f"{where}: {hint}", file=sys.stderr)
    trace = str(getattr(err, "traceback", "") or err)
    print(trace if tty else ANSI.sub("", trace), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", type=Path)
    parser.add_argument("--save", type=Path, help="write the executed notebook here")
    parser.add_argument(
        "--timeout", type=int, default=CELL_TIMEOUT, help="seconds allowed per cell (default: _config.yml's)"
    )
    args = parser.parse_args(argv)
    if not args.chapter.is_file():
        print(f"{args.chapter}:1: Error: no such file", file=sys.stderr)
        return 2
    if args.chapter.suffix == ".ipynb":  # a notebook has no source lines: cells are named by number only
        import nbformat

        nb, lines = nbformat.read(args.chapter, as_version=4), {}
    else:
        nb = read_notebook(args.chapter)
        lines = code_cell_lines(args.chapter, nb)
    go_offline()
    os.environ.update(THREAD_ENV)
    client = NotebookClient(
        nb,
        timeout=args.timeout,
        kernel_name="python3",
        extra_arguments=KERNEL_QUIET,
        resources={"metadata": {"path": str(args.chapter.parent)}},
    )
    tty = sys.stderr.isatty()
    total = 0.0
    status = 0
    number = 0
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            number += 1
            where = f"{args.chapter}:{lines[index]}" if index in lines else f"{args.chapter}: code cell {number}"
            start = time.perf_counter()
            try:
                client.execute_cell(cell, index)
            except (CellExecutionError, CellTimeoutError) as err:
                total += time.perf_counter() - start
                report_failure(where, err, tty)
                status = 1
                break
            elapsed = time.perf_counter() - start
            total += elapsed
            head = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
            print(f"{elapsed:7.2f} s  cell {number:3d}  line {lines.get(index, 1):4d}  {head}", flush=True)
    print(f"{total:7.2f} s  total for {args.chapter}")
    if args.save:
        import nbformat

        nbformat.write(nb, args.save)
    return status


if __name__ == "__main__":
    sys.exit(main())
