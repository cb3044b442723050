"""The programming assignments from the command line: build their notebooks, grade submissions.

    python tools/assignments.py build [--out DIR]     student and solution .ipynb of each assignment
    python tools/assignments.py grade DIR [--csv F]   grade a folder of submitted notebooks
                                                      (or `make grade NOTEBOOKS=DIR`)

How an assignment is written, and how its two notebooks are made, is in book/_ext/notebooks.py
(the HTML build publishes them too). The grader runs each submitted notebook in a fresh kernel, in
a temporary folder holding a copy of the notebook and nothing else, with a time limit per cell (an
endless loop is interrupted and the notebook goes on) and per notebook (the kernel's process group
is killed). It then runs the instructor's checks, taken from the source rather than from the
submission, one cell per task, and writes a CSV (student file, task, pass/fail, points) and a
one-line summary. Own code rather than nbgrader or otter-grader: see notebooks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "book" / "_ext")]
from assignment_checking import _GRADE_MARK as GRADE_MARK  # noqa: E402  (what the checks print)
from build import THREAD_ENV  # noqa: E402
from notebooks import AssignmentError, assignment_sources, checks_source, write_assignments  # noqa: E402

CELL_TIMEOUT = 120  # seconds per cell when grading; an assignment runs in under 2 minutes in all
NOTEBOOK_TIMEOUT = 600  # seconds per submitted notebook, checks included
KERNEL_START_ATTEMPTS = 3  # a kernel that dies before it answers is started again (a port race)


def task_names(path: Path) -> list[str]:
    """The tasks in the order the checks cell defines them."""
    return re.findall(r"""^@task\(\s*["']([^"']+)["']""", checks_source(path), re.MULTILINE)


def task_points(path: Path) -> dict[str, float]:
    """Each task's points, from `@task("name", points)` in the checks cell."""
    pattern = r"""^@task\(\s*["']([^"']+)["']\s*(?:,\s*(?:points\s*=\s*)?([\d.]+))?"""
    return {name: float(points or 1) for name, points in re.findall(pattern, checks_source(path), re.MULTILINE)}


# --------------------------------------------------------------------------------------------
# Running a notebook and grading it


@dataclass
class TaskResult:
    task: str
    passed: bool
    points: float
    max_points: float
    message: str


@dataclass
class Graded:
    file: str
    results: list[TaskResult]
    problem: str = ""  # the notebook crashed or ran out of time
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_points for r in self.results)


def grading_cells(source: Path) -> list[nbformat.NotebookNode]:
    """The cells the grader appends: the instructor's checks, then one cell per task."""
    cells = [nbformat.v4.new_code_cell(checks_source(source))]
    cells += [nbformat.v4.new_code_cell(f"_grade_task({name!r})") for name in task_names(source)]
    return cells


def parse_grades(cells: list[nbformat.NotebookNode]) -> dict[str, dict]:
    found = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            for line in text.splitlines():
                if line.startswith(GRADE_MARK):
                    result = json.loads(line[len(GRADE_MARK) :])
                    found[result["task"]] = result
    return found


def kernel_env() -> dict[str, str]:
    """One thread per kernel, as in the build (DESIGN.md: PyTorch oversubscribes small machines); no plot windows."""
    return {**os.environ, **THREAD_ENV, "MPLBACKEND": "Agg"}


def kill_group(pid: int | None) -> None:
    """Kill a kernel and whatever it started (the kernel leads its own process group)."""
    if not pid:
        return
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass


def _execute(run: nbformat.NotebookNode, work: Path, cell_timeout: int, notebook_timeout: int) -> tuple[str, bool]:
    """Run the notebook's cells in a fresh kernel in `work`; (what went wrong or "", whether the kernel started)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    client = NotebookClient(
        run,
        timeout=cell_timeout,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(work)}},
    )
    deadline_hit = threading.Event()
    pid = None
    started = False
    try:
        with client.setup_kernel(env=kernel_env()):
            started = True
            pid = getattr(client.km.provisioner, "pid", None)

            def expire() -> None:
                deadline_hit.set()
                kill_group(pid)

            timer = threading.Timer(notebook_timeout, expire)
            timer.daemon = True
            timer.start()
            try:
                for index, cell in enumerate(run.cells):
                    client.execute_cell(cell, index)
            finally:
                timer.cancel()
    except DeadKernelError:
        if deadline_hit.is_set():
            return f"the notebook ran longer than {notebook_timeout} s and was stopped", started
        return "the kernel died (the notebook crashed Python, or exited)", started
    except Exception as err:  # anything else the run throws is the submission's problem, not ours
        return f"the notebook could not be run ({type(err).__name__}: {str(err)[:200]})", started
    finally:
        kill_group(pid)
    return "", started


def run_submission(
    notebook: Path, source: Path, cell_timeout: int = CELL_TIMEOUT, notebook_timeout: int = NOTEBOOK_TIMEOUT
) -> Graded:
    """Run one submitted notebook in a fresh kernel in a temporary folder; grade it with `source`'s checks."""

    start = time.monotonic()
    names = task_names(source)
    points = task_points(source)
    problem = ""
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as err:  # not a notebook at all: every task fails with the reason
        nb, problem = None, f"not a readable notebook ({type(err).__name__}: {err})"
    grades: dict[str, dict] = {}
    if nb is not None:
        student_cells = [c for c in nb.cells if c.cell_type == "code"]
        for cell in student_cells:
            cell.outputs = []
        extra = grading_cells(source)
        run = nbformat.v4.new_notebook(cells=student_cells + extra, metadata=nb.metadata)
        with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
            work = Path(tmp) / "work"
            work.mkdir()
            shutil.copy2(notebook, work / notebook.name)
            for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
                problem, started = _execute(run, work, cell_timeout, notebook_timeout)
                if started or attempt == KERNEL_START_ATTEMPTS:
                    break
                time.sleep(attempt)  # kernels started at once can race for the same ports: try again
        grades = parse_grades(extra)
    results = []
    for name in names:
        worth = points.get(name, 1.0)
        found = grades.get(name)
        if found is None:
            results.append(TaskResult(name, False, 0.0, worth, problem or "the check did not run"))
        else:
            results.append(
                TaskResult(name, found["passed"], worth if found["passed"] else 0.0, worth, found["message"])
            )
    return Graded(notebook.name, results, problem, time.monotonic() - start)


def source_for(notebook: Path, root: Path = ROOT, name: str | None = None) -> Path:
    """The assignment a submission belongs to: its metadata, else the file name's start."""
    sources = {p.stem: p for p in assignment_sources(root)}
    if name:
        if name not in sources:
            raise AssignmentError(f"no assignment {name!r}; there are {', '.join(sources)}")
        return sources[name]
    try:
        meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
        name = meta.get("mlsafety_assignment", {}).get("name")
    except (ValueError, OSError, AttributeError):
        name = None
    if name in sources:
        return sources[name]
    for stem in sorted(sources, key=len, reverse=True):
        if notebook.stem.startswith(stem) or stem in notebook.stem:
            return sources[stem]
    raise AssignmentError(
        f"{notebook}: cannot tell which assignment this is (no metadata, and the file name names none of "
        f"{', '.join(sources)}); pass --assignment NAME"
    )


def grade_folder(
    folder: Path,
    csv_path: Path,
    assignment: str | None = None,
    cell_timeout: int = CELL_TIMEOUT,
    notebook_timeout: int = NOTEBOOK_TIMEOUT,
    root: Path = ROOT,
    jobs: int = 1,
) -> tuple[list[Graded], str]:
    """Grade every .ipynb in `folder`; write the CSV; return the results and the summary line."""
    graded: list[Graded] = []
    todo: list[tuple[Path, Path]] = []
    for notebook in sorted(folder.glob("*.ipynb")):
        try:
            todo.append((notebook, source_for(notebook, root, assignment)))
        except AssignmentError as err:
            graded.append(Graded(notebook.name, [], str(err)))
            print(f"{notebook.name}: {err}", flush=True)

    def report(result: Graded) -> None:
        graded.append(result)
        note = f" ({result.problem})" if result.problem else ""
        print(f"{result.file}: {result.score:g}/{result.max_score:g} in {result.seconds:.0f} s{note}", flush=True)

    if jobs > 1 and len(todo) > 1:  # each notebook waits on its own kernel: processes, not threads
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
            futures = [pool.submit(run_submission, nb, src, cell_timeout, notebook_timeout) for nb, src in todo]
            for future in futures:
                report(future.result())
    else:
        for notebook, source in todo:
            report(run_submission(notebook, source, cell_timeout, notebook_timeout))
    graded.sort(key=lambda g: g.file)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student_file", "task", "result", "points", "max_points", "message"])
        for g in graded:
            if not g.results:
                writer.writerow([g.file, "", "fail", 0, 0, g.problem])
            for r in g.results:
                writer.writerow(
                    [g.file, r.task, "pass" if r.passed else "fail", f"{r.points:g}", f"{r.max_points:g}", r.message]
                )
    scores = ", ".join(f"{g.file} {g.score:g}/{g.max_score:g}" for g in graded)
    problems = sum(1 for g in graded if g.problem)
    summary = (
        f"graded {len(graded)} notebook(s) from {folder}: {scores or 'none found'}"
        + (f"; {problems} could not finish" if problems else "")
        + f"; CSV: {csv_path}"
    )
    return graded, summary


# --------------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write the student and solution notebooks")
    build.add_argument("--out", type=Path, default=ROOT / "_build" / "assignments")
    grade = sub.add_parser("grade", help="grade a folder of submitted notebooks")
    grade.add_argument("folder", type=Path)
    grade.add_argument("--csv", type=Path, help="where to write the CSV (default: <folder>/grades.csv)")
    grade.add_argument("--assignment", help="the assignment's name, when the notebooks do not say")
    grade.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    grade.add_argument("--notebook-timeout", type=int, default=NOTEBOOK_TIMEOUT, help="seconds per notebook")
    grade.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (one kernel each)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            for path in write_assignments(args.out):
                print(path)
            return 0
        if not args.folder.is_dir():
            print(f"error: {args.folder}: not a folder of notebooks", file=sys.stderr)
            return 2
        graded, summary = grade_folder(
            args.folder,
            args.csv or args.folder / "grades.csv",
            args.assignment,
            args.cell_timeout,
            args.notebook_timeout,
            jobs=args.jobs,
        )
    except AssignmentError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
