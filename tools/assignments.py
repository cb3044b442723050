"""The programming assignments: their two notebooks, and grading submissions.

    python tools/assignments.py build [--out DIR]     student and solution .ipynb of each assignment
    python tools/assignments.py grade DIR [--csv F]   grade a folder of submitted notebooks
                                                      (or `make grade NOTEBOOKS=DIR`)

notebooks/README.md describes an assignment's source, `notebooks/assignments/<name>.md` (a chapter
with solution regions, stubs and one `checks` cell), and the grader, and says why not nbgrader or
otter-grader. Both notebooks are made the way a chapter's is (book/_ext/notebooks.py, whose
`build-finished` handler calls `write_assignments`: the HTML build writes them to
`_notebooks/assignments/`, the solution only in the instructor edition, and `{assignment-links} <name>`
links them). The `checks` cell's line
`from assignment_checking import ...` is there for linters and editors; the notebook gets the code
of tools/assignment_checking.py in its place, so that it runs on its own.
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
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "book" / "_ext")]
from assignment_checking import _GRADE_MARK as GRADE_MARK  # noqa: E402  (what the checks print)
from build import THREAD_ENV  # noqa: E402
from notebooks import (  # noqa: E402
    ASSIGNMENT_DIR,
    ASSIGNMENTS,
    Links,
    chapter_notebook,
    default_links,
    notebook_title,
    write_notebook,
)
from sources import BookConfigError  # noqa: E402

CHECKING = ROOT / "tools" / "assignment_checking.py"
CHECKS_TAG = "checks"
RUNTIME_IMPORT = re.compile(r"^from assignment_checking import [^\n]*$", re.MULTILINE)
BEGIN, END, STUB = "# BEGIN SOLUTION", "# END SOLUTION", "# STUB:"
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
MD_PLACEHOLDER = "*Your answer here.*"

CELL_TIMEOUT = 120  # seconds per cell when grading; an assignment runs in under 2 minutes in all
NOTEBOOK_TIMEOUT = 600  # seconds per submitted notebook, checks included
KERNEL_START_ATTEMPTS = 3  # a kernel that dies before it answers is started again (a port race)


class AssignmentError(Exception):
    """A malformed assignment source, or a submission of no known assignment; the message names the file."""


# --------------------------------------------------------------------------------------------
# One source, two notebooks


@dataclass
class Region:
    """A solution region (for the test that no solution leaks into the starter)."""

    line: int  # 1-based line of the BEGIN marker in the source
    lines: list[str] = field(default_factory=list)


def assignment_sources(root: Path = ROOT) -> list[Path]:
    return sorted((root / ASSIGNMENTS).glob("*.md"))


def split_version(text: str, student: bool, path: Path = Path("?"), regions: list[Region] | None = None) -> str:
    """The source text of one version: solutions replaced by their stubs (student) or markers removed (solution)."""
    out: list[str] = []
    region: Region | None = None
    stubs: list[str] = []
    indent, markdown = "", False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped in (BEGIN, MD_BEGIN):
            if region is not None:
                raise AssignmentError(f"{path}:{number}: a solution region starts inside another")
            region, stubs, markdown = Region(number), [], stripped == MD_BEGIN
            indent = line[: len(line) - len(line.lstrip())]
        elif stripped in (END, MD_END):
            if region is None:
                raise AssignmentError(f"{path}:{number}: `{stripped}` without a region to end")
            if student:
                stubs = stubs or [f'{indent}raise NotImplementedError("your code here")']
                out += [MD_PLACEHOLDER] if markdown else [f"{indent}# YOUR CODE HERE", *stubs]
            if regions is not None:
                regions.append(region)
            region = None
        elif region is None:
            out.append(line)
        elif stripped.startswith(STUB):
            stubs.append(indent + stripped[len(STUB) :].strip())
        else:
            region.lines.append(line)
            out += [] if student else [line]
    if region is not None:
        raise AssignmentError(f"{path}:{region.line}: solution region never ends (add `{END}`)")
    return "\n".join(out) + "\n"


def solution_regions(path: Path) -> list[Region]:
    regions: list[Region] = []
    split_version(path.read_text(encoding="utf-8"), student=False, path=path, regions=regions)
    return regions


def checks_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and CHECKS_TAG in c.metadata.get("tags", [])]


def assignment_notebook(path: Path, student: bool, links: Links | None = None) -> nbformat.NotebookNode:
    """The student or solution notebook of the assignment at `path` (no outputs)."""
    links = links or default_links()
    name = path.stem
    docname = f"{ASSIGNMENT_DIR}/{name}" + ("" if student else "-solution")
    text = split_version(path.read_text(encoding="utf-8"), student=student, path=path)
    nb = chapter_notebook(path, docname, links, text=text)
    version = "the starter notebook" if student else "the solution notebook"
    nb.cells[1].source = (
        f"*{notebook_title(nb.cells, name)}*, {version}, from *Introduction to ML Safety* "
        f"([open it in Colab]({links.colab_url(docname)})).\n\n"
        "The cell above installs the book's library, `mlsafety`, when it is missing (as on Colab) "
        "and does nothing otherwise."
    )
    runtime = CHECKING.read_text(encoding="utf-8").strip()
    for cell in checks_cells(nb):
        if not RUNTIME_IMPORT.search(cell.source):
            raise AssignmentError(
                f"{path}: the `{CHECKS_TAG}` cell must start with `from assignment_checking import ...`"
            )
        checks = RUNTIME_IMPORT.sub(lambda _: runtime, cell.source, count=1)
        cell.source = "# @title The checks: run this cell; you need not read it\n" + checks
        cell.metadata["cellView"] = "form"  # Colab shows the title only
        cell.metadata["jupyter"] = {"source_hidden": True}  # JupyterLab collapses it
    nb.metadata["mlsafety_assignment"] = {"name": name, "version": "student" if student else "solution"}
    nbformat.validate(nb)
    return nb


def checks_source(path: Path) -> str:
    """The checks cell of the assignment's notebook, runnable on its own (the runtime first)."""
    cells = checks_cells(assignment_notebook(path, student=False))
    if len(cells) != 1:
        raise AssignmentError(f"{path}: needs exactly one code cell tagged `{CHECKS_TAG}`, found {len(cells)}")
    return cells[0].source


def task_points(path: Path) -> dict[str, float]:
    """Each task's points, from `@task("name", points)` in the checks cell, in the order it defines them."""
    pattern = r"""^@task\(\s*["']([^"']+)["']\s*(?:,\s*(?:points\s*=\s*)?([\d.]+))?"""
    return {name: float(points or 1) for name, points in re.findall(pattern, checks_source(path), re.MULTILINE)}


def write_assignments(out: Path, root: Path = ROOT, links: Links | None = None, solutions: bool = True) -> list[Path]:
    """Write `<name>.ipynb` (student) and, with `solutions`, `<name>-solution.ipynb` for every assignment."""
    written = []
    for path in assignment_sources(root):
        for student in (True, False) if solutions else (True,):
            written.append(out / f"{path.stem}{'' if student else '-solution'}.ipynb")
            write_notebook(assignment_notebook(path, student, links), written[-1])
    return written


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
    """One thread per kernel, as in the build (build.THREAD_ENV); no plot windows."""
    return {**os.environ, **THREAD_ENV, "MPLBACKEND": "Agg"}


def kill_group(pid: int | None) -> None:
    """Kill a kernel and whatever it started (the kernel leads its own process group)."""
    for kill in (os.killpg, os.kill) if pid else ():
        with suppress(OSError):
            kill(pid, signal.SIGKILL)


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
    points = task_points(source)
    grading = [nbformat.v4.new_code_cell(checks_source(source))]
    grading += [nbformat.v4.new_code_cell(f"_grade_task({name!r})") for name in points]
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as err:  # not a notebook at all: every task fails with the reason
        problem = f"not a readable notebook ({type(err).__name__}: {err})"
    else:
        student_cells = [c for c in nb.cells if c.cell_type == "code"]
        for cell in student_cells:
            cell.outputs = []
        run = nbformat.v4.new_notebook(cells=student_cells + grading, metadata=nb.metadata)
        with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
            work = Path(tmp) / "work"  # a notebook that deletes its folder leaves `tmp` to clean up
            work.mkdir()
            shutil.copy2(notebook, work / notebook.name)
            for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
                problem, started = _execute(run, work, cell_timeout, notebook_timeout)
                if started or attempt == KERNEL_START_ATTEMPTS:
                    break
                time.sleep(attempt)  # kernels started at once can race for the same ports: try again
    failed = next((o for o in grading[0].get("outputs", []) if o.get("output_type") == "error"), None)
    if failed and not problem:  # e.g. the notebook lost the cell that imports what the checks use
        problem = (
            f"the checks could not run ({failed['ename']}: {failed['evalue'][:200]}) — the notebook must keep "
            "the cells that import and define what the assignment gave"
        )
    grades = {} if failed else parse_grades(grading)
    results = []
    for name, worth in points.items():
        found = grades.get(name)
        passed = bool(found and found["passed"])
        message = found["message"] if found else problem or "the check did not run"
        results.append(TaskResult(name, passed, worth if passed else 0.0, worth, message))
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
    notebooks, sources = [], []
    for notebook in sorted(folder.glob("*.ipynb")):
        try:
            sources.append(source_for(notebook, root, assignment))
            notebooks.append(notebook)
        except AssignmentError as err:
            graded.append(Graded(notebook.name, [], str(err)))
            print(f"{notebook.name}: {err}", flush=True)

    grade = partial(run_submission, cell_timeout=cell_timeout, notebook_timeout=notebook_timeout)
    parallel = jobs > 1 and len(notebooks) > 1  # each notebook waits on its own kernel: processes, not threads
    with ProcessPoolExecutor(min(jobs, len(notebooks))) if parallel else nullcontext() as pool:
        for result in (pool.map if pool else map)(grade, notebooks, sources):
            graded.append(result)
            note = f" ({result.problem})" if result.problem else ""
            print(f"{result.file}: {result.score:g}/{result.max_score:g} in {result.seconds:.0f} s{note}", flush=True)
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


def check_folder(folder: Path, csv_path: Path, assignment: str | None) -> None:
    """Refuse, before the grading (minutes), a folder with no notebook in it, an unknown assignment or a CSV that
    cannot be written."""
    if not folder.is_dir():
        raise AssignmentError(f"{folder}: not a folder of notebooks")
    if not any(folder.glob("*.ipynb")):
        raise AssignmentError(f"{folder}: no .ipynb file in it (subfolders are not searched)")
    if assignment:
        source_for(folder, name=assignment)
    try:
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        csv_path.open("a", encoding="utf-8").close()
    except OSError as err:
        raise AssignmentError(f"--csv {csv_path}: cannot be written ({err.strerror})") from None


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
    for option in ("cell_timeout", "notebook_timeout", "jobs"):
        if getattr(args, option, 1) < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1, got {getattr(args, option)}")
    try:
        if args.command == "build":
            try:
                written = write_assignments(args.out)
            except OSError as err:
                raise AssignmentError(f"--out {args.out}: cannot write the notebooks there ({err.strerror})") from None
            print("\n".join(map(str, written)))
            return 0
        csv_path = args.csv or args.folder / "grades.csv"
        check_folder(args.folder, csv_path, args.assignment)
        graded, summary = grade_folder(
            args.folder,
            csv_path,
            args.assignment,
            args.cell_timeout,
            args.notebook_timeout,
            jobs=args.jobs,
        )
    except (AssignmentError, BookConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
