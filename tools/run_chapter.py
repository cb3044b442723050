"""Execute one chapter (a MyST notebook) in a fresh kernel and report each cell's time.

    python tools/run_chapter.py book/background/deep-learning-review.md [--save out.ipynb]

For writing a chapter: faster than a book build, and it names the cell that failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", type=Path)
    parser.add_argument("--save", type=Path, help="write the executed notebook here")
    parser.add_argument("--timeout", type=int, default=120, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    if not args.chapter.is_file():
        print(f"error: {args.chapter}: no such file", file=sys.stderr)
        return 2
    nb = jupytext.read(args.chapter)
    client = NotebookClient(
        nb, timeout=args.timeout, kernel_name="python3", resources={"metadata": {"path": str(args.chapter.parent)}}
    )
    total = 0.0
    status = 0
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            start = time.perf_counter()
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as err:
                first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                print(f"{args.chapter}: cell {index} ({first!r}) failed:\n{err}", file=sys.stderr)
                status = 1
                break
            finally:
                elapsed = time.perf_counter() - start
                total += elapsed
            head = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
            print(f"{elapsed:7.2f} s  cell {index:3d}  {head}")
    print(f"{total:7.2f} s  total for {args.chapter}")
    if args.save:
        import nbformat

        nbformat.write(nb, args.save)
    return status


if __name__ == "__main__":
    sys.exit(main())
