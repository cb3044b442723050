"""Time the book's builds and print a table (`make bench`).

Runs in a scratch copy of the project so the sources are never touched:
clean build, rebuild with no change, rebuild after a prose edit, rebuild after a code edit,
and the sum of pure cell execution time (every chapter run once in a fresh kernel).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import cell_error, run_cells  # noqa: E402
from offline import go_offline  # noqa: E402
from sources import CHAPTER_BUDGET_SECONDS, cell_timeout, lecture_chapters, read_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COPY = ["_config.yml", "_toc.yml", "references.bib", "book", "notebooks", "src", "tools"]  # what the build reads


def timed_build(root: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "tools/build.py", "html", "--root", str(root), "--output", str(root)],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.exit(f"build failed during the benchmark:\n{proc.stderr}")
    return time.perf_counter() - start


def cell_seconds(chapter: Path) -> float:
    """Execute a chapter as the build does and sum the time spent inside its cells."""
    seconds: list[float] = []
    err = run_cells(read_notebook(chapter), chapter.parent, cell_timeout(), lambda _, elapsed: seconds.append(elapsed))
    if err is not None:
        sys.exit(f"{chapter}: a code cell failed during the benchmark: {': '.join(cell_error(err))}")
    return sum(seconds)


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)  # it takes no arguments
    chapters = lecture_chapters(ROOT)
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="mlsafety-bench-") as tmp:
        root = Path(tmp)
        for name in COPY:
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, root / name)
        rows.append(("clean build (executes every chapter)", timed_build(root)))
        rows.append(("rebuild, no change", timed_build(root)))
        target = root / chapters[-1]
        target.write_text(target.read_text() + "\nA sentence added by the benchmark.\n")
        rows.append((f"rebuild after a prose edit ({chapters[-1].name})", timed_build(root)))
        target.write_text(target.read_text() + "\n```{code-cell} ipython3\nprint('benchmark edit')\n```\n")
        rows.append((f"rebuild after a code edit ({chapters[-1].name})", timed_build(root)))
        go_offline()  # as the build runs the cells
        per_chapter = [(str(c), cell_seconds(root / c)) for c in chapters]
    rows.append(("sum of pure cell execution, all chapters", sum(s for _, s in per_chapter)))
    budget = CHAPTER_BUDGET_SECONDS
    rows += [
        (f"  cells of {name}" + (f"  (over the {budget} s budget)" if s > budget else ""), s) for name, s in per_chapter
    ]
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "tools" / "check.py")], cwd=ROOT, capture_output=True, check=False)
    rows.append(("make check (every source, no execution)", time.perf_counter() - start))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'what':<{width}}  seconds")
    print(f"{'-' * width}  -------")
    for label, seconds in rows:
        print(f"{label:<{width}}  {seconds:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
