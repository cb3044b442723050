"""The programming assignments (notebooks/assignments/, tools/assignments.py), issue #16.

Each assignment is run once per test session and shared:

- `solution_kernel(name)`: a kernel that has run the solution notebook top to bottom (timed); the
  wrong-solution fixtures are run in it and the solution's definitions are restored after each.
- `starter_grades(name)`: the grader's verdicts on the student notebook.
Every wait has a time limit (the kernel's cells, the notebook as a whole).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

import assignments as an  # tools/ and book/_ext/ are on sys.path through tests/conftest.py
import notebooks as nbx

ROOT = Path(__file__).resolve().parents[2]

CELL_TIMEOUT = 60  # seconds for any one cell of a solution (the slowest takes a few seconds)
SOLUTION_BUDGET = 120  # seconds: every solution notebook runs top to bottom within this (issue #16)
NAMES = [p.stem for p in an.assignment_sources(ROOT)]


@dataclass
class SolutionRun:
    name: str
    seconds: float
    client: object
    results: dict  # task -> {"passed", "points", "message"}

    def run(self, code: str) -> list[dict]:
        """Run code in the solution's kernel; return the grade lines it printed."""
        cell = nbformat.v4.new_code_cell(code)
        self.client.execute_cell(cell, 0)
        return list(an.parse_grades([cell]).values())

    def grade(self, tasks: list[str], before: str = "") -> dict:
        """Grades of `tasks` after running `before`; the solution's names are restored afterwards."""
        code = (
            "_saved_globals = dict(globals())\n"
            "try:\n"
            f"    exec({before!r}, globals())\n"
            f"    for _name in {tasks!r}:\n"
            "        _grade_task(_name)\n"
            "finally:\n"
            "    for _key in [k for k in globals() if k not in _saved_globals and k != '_saved_globals']:\n"
            "        del globals()[_key]\n"
            "    globals().update(_saved_globals)\n"
            "    del _saved_globals\n"
        )
        return {r["task"]: r for r in self.run(code)}


class Kernels:
    def __init__(self) -> None:
        self.runs: dict[str, SolutionRun | BaseException] = {}
        self.contexts = []
        self.tmp = tempfile.TemporaryDirectory(prefix="assignment-tests-")

    def get(self, name: str) -> SolutionRun:
        if name not in self.runs:
            try:
                self.runs[name] = self.start(name)
            except Exception as err:  # reported once per test that needs it, not retried
                self.runs[name] = err
        run = self.runs[name]
        if isinstance(run, BaseException):
            pytest.fail(f"the solution notebook of {name} failed: {str(run)[-3000:]}")
        return run

    def start(self, name: str) -> SolutionRun:
        from nbclient import NotebookClient

        source = ROOT / an.ASSIGNMENTS / f"{name}.md"
        nb = an.assignment_notebook(source, student=False)
        work = Path(self.tmp.name) / name
        work.mkdir()
        client = NotebookClient(
            nb,
            timeout=CELL_TIMEOUT,
            kernel_name="python3",
            shutdown_kernel="immediate",
            resources={"metadata": {"path": str(work)}},
        )
        context = client.setup_kernel(env=an.kernel_env())
        context.__enter__()
        self.contexts.append(context)
        start = time.monotonic()
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        seconds = time.monotonic() - start
        run = SolutionRun(name, seconds, client, {})
        run.results = run.grade(list(an.task_points(source)))
        return run

    def close(self) -> None:
        for context in reversed(self.contexts):
            try:
                context.__exit__(None, None, None)
            except Exception:  # a kernel that is already gone
                pass
        self.tmp.cleanup()


@pytest.fixture(scope="session")
def kernels():
    k = Kernels()
    yield k
    k.close()


@pytest.fixture(scope="session")
def starter_grades():
    """The grader's verdicts on every starter notebook, graded two at a time on first use."""
    cache: dict[str, an.Graded] = {}

    def grades(name: str) -> an.Graded:
        if not cache:
            with tempfile.TemporaryDirectory() as tmp:
                for other in NAMES:
                    source = ROOT / an.ASSIGNMENTS / f"{other}.md"
                    nbformat.write(an.assignment_notebook(source, student=True), Path(tmp) / f"{other}.ipynb")
                graded, _ = an.grade_folder(
                    Path(tmp), Path(tmp) / "grades.csv", cell_timeout=CELL_TIMEOUT, notebook_timeout=300, jobs=2
                )
            cache.update({Path(g.file).stem: g for g in graded})
        return cache[name]

    return grades


def wrong_solutions() -> list[tuple[str, Path]]:
    """(assignment, fixture file) for every kept wrong solution."""
    found = []
    for name in NAMES:
        found += [(name, p) for p in sorted((Path(__file__).parent / "wrong" / name).glob("*.py"))]
    return found


def expected_failures(path: Path) -> list[str]:
    """The tasks a wrong solution must fail: its first line is `# fails: task, task`."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# fails:"), f"{path}: the first line must be `# fails: <task>, <task>`"
    return [t.strip() for t in first[len("# fails:") :].split(",") if t.strip()]


# --------------------------------------------------------------------------------------------
# One source, two versions


def test_every_assignment_has_tasks_regions_and_wrong_solutions():
    assert NAMES, "no assignment in notebooks/assignments/"
    for name in NAMES:
        source = ROOT / an.ASSIGNMENTS / f"{name}.md"
        assert an.task_points(source), f"{source}: no `@task` in its checks cell"
        assert an.solution_regions(source), f"{source}: no solution region"
        fixtures = [p for n, p in wrong_solutions() if n == name]
        assert len(fixtures) >= 2, f"{name}: keep at least two wrong solutions in tests/assignments/wrong/{name}/"


def test_split_version_stubs_and_markdown():
    text = (
        "def f(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION\n\n"
        "# BEGIN SOLUTION\n# STUB: y = None\ny = f(3)\n# END SOLUTION\n"
        "<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->\n"
    )
    student = an.split_version(text, student=True)
    assert "return 2 * x" not in student and "y = f(3)" not in student and "Because." not in student
    assert '    raise NotImplementedError("your code here")' in student
    assert "\ny = None\n" in student and an.MD_PLACEHOLDER in student
    solution = an.split_version(text, student=False)
    assert "return 2 * x" in solution and "y = f(3)" in solution and "STUB" not in solution
    assert "BEGIN SOLUTION" not in solution and "END SOLUTION" not in solution
    for broken, what in (("# BEGIN SOLUTION\nx\n", "never ends"), ("# END SOLUTION\n", "without a region")):
        with pytest.raises(an.AssignmentError, match=what):
            an.split_version(broken, student=True, path=Path("a.md"))


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_contains_no_solution_code(name):
    source = ROOT / an.ASSIGNMENTS / f"{name}.md"
    student = an.assignment_notebook(source, student=True)
    text = "\n".join(cell.source for cell in student.cells)
    in_student = {line.strip() for line in text.splitlines()}
    # lines that the source has outside every solution region may appear (a `return out` given to the student)
    inside, given = False, set()
    for line in source.read_text(encoding="utf-8").splitlines():
        marker = line.strip()
        if marker in (an.BEGIN, an.MD_BEGIN, an.END, an.MD_END):
            inside = marker in (an.BEGIN, an.MD_BEGIN)
        elif not inside:
            given.add(marker)
    leaked = [
        f"{source.name}:{region.line}: {line.strip()!r}"
        for region in an.solution_regions(source)
        for line in region.lines
        if line.strip() and not line.strip().startswith("#") and line.strip() in in_student - given
    ]
    assert not leaked, "solution code in the student notebook:\n" + "\n".join(leaked)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert student.metadata["mlsafety_assignment"] == {"name": name, "version": "student"}


# --------------------------------------------------------------------------------------------
# The checks, in both directions


@pytest.mark.parametrize("name", NAMES)
def test_solution_passes_every_check_in_time(kernels, name):
    run = kernels.get(name)
    source = ROOT / an.ASSIGNMENTS / f"{name}.md"
    failed = {t: r["message"] for t, r in run.results.items() if not r["passed"]}
    assert set(run.results) == set(an.task_points(source)), f"checks that did not report: {run.results}"
    assert not failed, f"the solution of {name} fails: {failed}"
    assert run.seconds < SOLUTION_BUDGET, (
        f"the solution of {name} took {run.seconds:.0f} s (budget {SOLUTION_BUDGET} s)"
    )


@pytest.mark.parametrize("name", NAMES)
def test_starter_fails_every_check_and_says_why(starter_grades, name):
    graded = starter_grades(name)
    assert not graded.problem, f"the starter notebook of {name} did not run to the end: {graded.problem}"
    passed = [r.task for r in graded.results if r.passed]
    assert not passed, f"the starter of {name} passes {passed}: its checks accept the stub"
    for r in graded.results:
        assert len(r.message) > 20 and r.message.lower() != "failed", f"{name}/{r.task}: vague message {r.message!r}"


@pytest.mark.parametrize(("name", "fixture"), wrong_solutions(), ids=lambda v: getattr(v, "stem", v))
def test_wrong_solution_fails_its_checks(kernels, name, fixture):
    run = kernels.get(name)
    tasks = expected_failures(fixture)
    grades = run.grade(tasks, before=fixture.read_text(encoding="utf-8"))
    for task in tasks:
        assert task in grades, f"{fixture.name}: task {task} did not report"
        assert not grades[task]["passed"], f"{fixture.name}: the check of {task} accepts this wrong solution"
        assert len(grades[task]["message"]) > 20, f"{fixture.name}/{task}: vague message {grades[task]['message']!r}"
    again = run.grade(tasks)
    assert all(g["passed"] for g in again.values()), f"the solution was not restored after {fixture.name}: {again}"


# --------------------------------------------------------------------------------------------
# make grade: a folder of submissions, some of them hostile

# Assignment 1 runs in about 20 s (its slowest cell, importing PyTorch, takes up to 10 s) on the 2-core CI
# machine; the limits leave room for a loaded machine. All four notebooks are graded at once (--jobs 4):
# the test takes about GRADE_NOTEBOOK_TIMEOUT, the time the endless notebook is given.
GRADE_CELL_TIMEOUT = 40  # seconds per cell
GRADE_NOTEBOOK_TIMEOUT = 120  # seconds per notebook
GRADED = "deep-learning-review"


def submissions(folder: Path) -> dict[str, float]:
    """Write four submissions of assignment 1 into `folder`; return the score each should get."""
    source = ROOT / an.ASSIGNMENTS / f"{GRADED}.md"
    solution = an.assignment_notebook(source, student=False)
    student = an.assignment_notebook(source, student=True)
    total = sum(float(p) for p in an.task_points(source).values())

    def index(nb, text):
        return next(i for i, c in enumerate(nb.cells) if text in c.source)

    def write(name, nb):
        nbformat.write(nb, folder / f"{GRADED}-{name}.ipynb")

    write("correct", solution)
    # partly correct: the update rules left as stubs (so training fails too), and an endless loop
    # that the cell time limit interrupts; the notebook goes on
    partial = nbformat.from_dict(json.loads(json.dumps(solution)))
    i = index(partial, "def sgd_momentum")
    partial.cells[i] = student.cells[i]
    partial.cells.insert(i + 1, nbformat.v4.new_code_cell("import time\n\nwhile True:\n    time.sleep(0.1)"))
    write("partial", partial)
    crash = nbformat.from_dict(json.loads(json.dumps(solution)))
    crash.cells.insert(index(crash, 'check("relu")') + 1, nbformat.v4.new_code_cell("import os\n\nos._exit(1)"))
    write("crash", crash)
    # never ends, ignores interrupts, and deletes the files around it first
    hostile = nbformat.from_dict(json.loads(json.dumps(solution)))
    code = (
        "import os, shutil, signal, time\n\nshutil.rmtree(os.getcwd())\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.5)"
    )
    hostile.cells.insert(index(hostile, 'check("affine")') + 1, nbformat.v4.new_code_cell(code))
    write("endless", hostile)
    points = an.task_points(source)
    return {
        "correct": total,
        "partial": total - sum(points[t] for t in ("sgd_momentum", "adam", "overfit", "train")),
        "crash": 0.0,
        "endless": 0.0,
    }


def test_grade_a_folder_of_submissions(tmp_path):
    import csv
    import subprocess
    import sys

    expected = submissions(tmp_path)
    (tmp_path / "notes.txt").write_text("not a notebook: ignored")
    cmd = [
        sys.executable,
        str(ROOT / "tools" / "assignments.py"),
        "grade",
        str(tmp_path),
        "--cell-timeout",
        str(GRADE_CELL_TIMEOUT),
        "--notebook-timeout",
        str(GRADE_NOTEBOOK_TIMEOUT),
        "--jobs",
        "4",
    ]
    limit = GRADE_NOTEBOOK_TIMEOUT + 90
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, cwd=ROOT)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"make grade did not finish within {limit} s: {err.stdout}")
    seconds = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = proc.stdout.strip().splitlines()[-1]
    with (tmp_path / "grades.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) == {"student_file", "task", "result", "points", "max_points", "message"}
    for name, score in expected.items():
        file = f"{GRADED}-{name}.ipynb"
        got = sum(float(r["points"]) for r in rows if r["student_file"] == file)
        assert got == score, f"{file}: {got} points, expected {score}:\n" + "\n".join(
            f"{r['task']}: {r['result']} {r['message']}" for r in rows if r["student_file"] == file
        )
        assert f"{file} {score:g}/" in summary, summary
    crashed = {r["message"] for r in rows if r["student_file"].endswith("-crash.ipynb")}
    assert any("kernel died" in m for m in crashed), crashed
    endless = {r["message"] for r in rows if r["student_file"].endswith("-endless.ipynb")}
    assert any(f"longer than {GRADE_NOTEBOOK_TIMEOUT} s" in m for m in endless), endless
    assert seconds < limit


def test_grade_refuses_what_it_cannot_grade(tmp_path: Path) -> None:
    """A folder with no notebook directly in it, an unknown --assignment, a CSV that cannot be written, a limit
    below 1: exit 2 and why, before any grading."""
    import subprocess
    import sys

    empty, texts, nested = tmp_path / "empty", tmp_path / "texts", tmp_path / "nested"
    for folder in (empty, texts, nested / "student-1"):
        folder.mkdir(parents=True)
    (texts / "trojans.txt").write_text("not a notebook")
    (nested / "student-1" / f"{GRADED}.ipynb").write_text("{}")
    (texts / f"{GRADED}.ipynb").write_text("{}")  # a folder the remaining cases could grade
    cases = [
        ((empty,), f"error: {empty}: no .ipynb file in it (subfolders are not searched)"),
        ((nested,), f"error: {nested}: no .ipynb file in it (subfolders are not searched)"),
        ((texts, "--assignment", "no-such"), "error: no assignment 'no-such'; there are "),
        ((texts, "--csv", tmp_path), f"error: --csv {tmp_path}: cannot be written (Is a directory)"),
        ((texts, "--jobs", "0"), "--jobs must be at least 1, got 0"),
        ((texts, "--cell-timeout", "0"), "--cell-timeout must be at least 1, got 0"),
        ((texts, "--notebook-timeout", "-5"), "--notebook-timeout must be at least 1, got -5"),
    ]
    for args, message in cases:
        cmd = [sys.executable, str(ROOT / "tools" / "assignments.py"), "grade", *map(str, args)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.returncode, proc.stderr[-2000:])
        assert not (args[0] / "grades.csv").exists(), args


def test_checks_that_cannot_run_say_so(tmp_path: Path) -> None:
    """A notebook that breaks what the checks need (here: imports) gets the checks' error on every task, not
    "there is no task"."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('import sys\n\nsys.modules["json"] = None')])
    nbformat.write(nb, tmp_path / f"{GRADED}.ipynb")
    source = ROOT / an.ASSIGNMENTS / f"{GRADED}.md"
    graded = an.run_submission(tmp_path / f"{GRADED}.ipynb", source, cell_timeout=CELL_TIMEOUT, notebook_timeout=120)
    expected = "the checks could not run (ModuleNotFoundError: import of json halted; None in sys.modules)"
    assert graded.problem.startswith(expected), graded.problem
    assert graded.results and all(r.message == graded.problem and not r.passed for r in graded.results)


# --------------------------------------------------------------------------------------------
# The book: the part lists the finished assignments, and the HTML build publishes their notebooks


def test_book_part_lists_every_assignment():
    import sources

    captions = [entry.caption for entry in sources.toc_entries(ROOT)]
    names = [entry.name for entry in sources.toc_entries(ROOT)]
    assert captions[names.index("notebooks/index")] == "Programming assignments"
    assert captions.index("Programming assignments") < captions.index("Back matter")
    index = (ROOT / "notebooks" / "index.md").read_text(encoding="utf-8")
    for name in NAMES:
        assert f"```{{assignment-links}} {name}" in index, f"notebooks/index.md does not link {name}"


def test_html_build_writes_and_links_both_notebooks(tmp_path):
    """A Sphinx build of one page with the directive, using the book's notebook extension."""
    from sphinx.application import Sphinx

    from sources import book_config

    config = book_config(ROOT)["sphinx"]["config"]
    src = tmp_path / "src"
    shutil.copytree(ROOT / an.ASSIGNMENTS, src / an.ASSIGNMENTS)
    (src / "notebooks" / "index.md").write_text(
        "# Assignments\n\n" + "".join(f"```{{assignment-links}} {n}\n```\n\n" for n in NAMES)
    )
    (src / "index.md").write_text("# Book\n\n```{toctree}\nnotebooks/index\n```\n")
    out = tmp_path / "html"
    app = Sphinx(
        str(src),
        None,
        str(out),
        str(tmp_path / "doctrees"),
        "html",
        confoverrides={
            # editions (book/_ext) defines book_edition; the instructor edition publishes both notebooks
            "extensions": "myst_parser,notebooks,editions",
            "book_edition": "instructor",
            "exclude_patterns": "notebooks/assignments/*",
            "chapter_notebooks_repository": config["chapter_notebooks_repository"],
        },
        status=None,
        warningiserror=True,
        freshenv=True,
    )
    app.build()
    page = (out / "notebooks" / "index.html").read_text(encoding="utf-8")
    links = nbx.default_links()
    for name in NAMES:
        for suffix, version in (("", "student"), ("-solution", "solution")):
            href = f"../_notebooks/assignments/{name}{suffix}.ipynb"
            assert f'href="{href}"' in page, f"no link to {href}"
            nb = nbformat.read(out / "notebooks" / href, as_version=4)
            assert nb.metadata["mlsafety_assignment"] == {"name": name, "version": version}
        assert f'href="{links.colab_url(f"assignments/{name}")}"' in page
