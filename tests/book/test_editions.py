"""Student and instructor editions (issue #18): solutions are absent from every student output."""

from __future__ import annotations

import html as htmllib
import json
import re
from functools import cache
from pathlib import Path

import nbformat
import pytest

import notebooks
import sources
from conftest import ROOT, Build, run_build
from minibook import FRONT, mini_book

CHAPTERS = sources.lecture_chapters(ROOT)

GATE = re.compile(r"^\s*(`{3,}|:{3,})\{solution-(start|end)\}")
PLAIN = re.compile(r"^\s*(`{3,}|:{3,})\{solution\}")
FENCE = re.compile(r"^\s*(`{3,}|:{3,})")
WORDS = re.compile(r"(?:[A-Za-z]+ ){5,}[A-Za-z]+")  # a run of six or more plain words: survives rendering


def split_solutions(text: str) -> tuple[list[str], list[str]]:
    """(solution lines, other lines) of a MyST source: gated and plain `{solution}` blocks."""
    inside, other = [], []
    gated = closing = False
    plain = None  # the fence that closes a plain {solution}
    for line in text.splitlines():
        gate = GATE.match(line)
        if plain is not None:
            inside.append(line)
            if line.strip() == plain:
                plain = None
        elif gate and gate.group(2) == "start":
            gated = True
            inside.append(line)
        elif gate and gate.group(2) == "end" and gated:
            closing = True
        elif closing and FENCE.match(line):
            gated = closing = False
        elif gated:
            inside.append(line)
        elif match := PLAIN.match(line):
            plain = match.group(1)
            inside.append(line)
        else:
            other.append(line)
    return inside, other


def normal(text: str) -> str:
    return " ".join(text.split())


def words_only(text: str) -> str:
    """MyST text as the words a reader sees: a role's text kept, markup and punctuation dropped."""
    text = re.sub(r"\{[a-z:-]+\}`([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", text)
    return " ".join(re.sub(r"[^A-Za-z]+", " ", text).split())


def phrases(lines: list[str], elsewhere: str) -> list[str]:
    """Each line's longest run of plain words that the rest of the chapter does not contain."""
    found = []
    for line in lines:
        runs = [r for r in WORDS.findall(re.sub(r"\{[a-z:]+\}`[^`]*`|\$[^$]*\$|`[^`]*`", " | ", line))]
        runs = [r for r in sorted(runs, key=len, reverse=True) if f" {r} " not in f" {elsewhere} "]
        if runs:
            found.append(runs[0])
    return found


@cache
def chapter_phrases(chapter: Path) -> tuple[list[str], list[str]]:
    """(phrases only in solutions, phrases of the rest of the chapter's exercises section)."""
    text = (ROOT / chapter).read_text(encoding="utf-8")
    inside, other = split_solutions(text)
    elsewhere = words_only("\n".join(other))
    exercises = "\n".join(other).split("## Exercises")[-1].splitlines()
    return phrases(inside, elsewhere), phrases(exercises, words_only("\n".join(inside)))


def page_text(path: Path) -> str:
    return normal(htmllib.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))))


def notebook_text(path: Path) -> str:
    return normal("\n".join(c.source for c in nbformat.read(path, as_version=4).cells))


SOLVED = [c for c in CHAPTERS if split_solutions((ROOT / c).read_text(encoding="utf-8"))[0]]


def test_every_chapter_with_exercises_has_solutions_to_look_for() -> None:
    assert len(SOLVED) >= len(CHAPTERS) - 2
    for chapter in SOLVED:
        solution, exercise = chapter_phrases(chapter)
        assert len(solution) >= 3, f"{chapter}: too few distinctive solution lines found: {solution}"
        assert exercise, f"{chapter}: no exercise text found to check the method against"


@pytest.mark.parametrize("chapter", SOLVED, ids=str)
def test_student_edition_has_no_solution_text(html_build: Build, chapter: Path) -> None:
    html = html_build.build_dir / "html"
    solution, exercise = chapter_phrases(chapter)
    page = page_text(html / chapter.with_suffix(".html"))
    notebook = notebook_text(html / "_notebooks" / chapter.with_suffix(".ipynb"))
    # the same extraction finds the exercises' own text, so an absent solution phrase means absent
    assert all(p in page for p in exercise), f"{chapter}: exercise text not found on the page"
    assert all(p in notebook for p in exercise), f"{chapter}: exercise text not found in the notebook"
    assert not [p for p in solution if p in page], f"{chapter}: solution text in the student HTML"
    assert not [p for p in solution if p in notebook], f"{chapter}: solution text in the student notebook"
    assert "Solution to" not in page
    assert not (html / "_sources" / chapter.with_suffix(".md")).exists(), "the source (with solutions) is published"
    assert "download-source-button" not in (html / chapter.with_suffix(".html")).read_text(encoding="utf-8")


def test_student_site_has_no_assignment_solution_notebook(html_build: Build) -> None:
    """Assignment solutions follow the edition switch: the public (student) site publishes starters only."""
    html = html_build.build_dir / "html"
    folder = html / "_notebooks" / "assignments"
    starters = sorted(p.name for p in folder.glob("*.ipynb"))
    assert len(starters) == 5, f"expected the five assignment starters in {folder}, found {starters}"
    assert not [name for name in starters if name.endswith("-solution.ipynb")], "a solution notebook is published"
    index = (html / "notebooks" / "index.html").read_text(encoding="utf-8")
    assert "-solution.ipynb" not in index and "Student notebook" in index


@pytest.mark.parametrize("chapter", SOLVED, ids=str)
def test_notebooks_of_both_editions(chapter: Path) -> None:
    """The converter itself: instructor notebooks carry every solution phrase, student ones none."""
    solution, exercise = chapter_phrases(chapter)
    links = notebooks.Links("https://github.com/o/r")
    for solutions in (True, False):
        context = notebooks.BookContext(solutions=solutions)
        nb = notebooks.chapter_notebook(ROOT / chapter, str(chapter.with_suffix("")), links, context)
        text = words_only("\n".join(c.source for c in nb.cells))
        assert all(p in text for p in exercise)
        found = [p for p in solution if p in text]
        assert found == (solution if solutions else []), f"{chapter} ({'instructor' if solutions else 'student'})"


def index_terms(html: Path) -> set[str]:
    text = (html / "searchindex.js").read_text(encoding="utf-8")
    return set(json.loads(text[text.index("(") + 1 : text.rindex(")")])["terms"])


def test_student_search_index_has_no_word_only_solutions_use(html_build: Build) -> None:
    from sphinx.search.en import SearchEnglish

    stem = SearchEnglish({}).stem
    inside, other = [], []
    for source in [*(ROOT / "book").rglob("*.md"), ROOT / "references.bib"]:
        solution, rest = split_solutions(source.read_text(encoding="utf-8"))
        inside += solution
        other += rest

    def words(lines: list[str], shortest: int) -> set[str]:
        return {stem(w.lower()) for w in re.findall(rf"[A-Za-z]{{{shortest},}}", "\n".join(lines))}

    only_in_solutions = words(inside, 4) - words(other, 1)
    assert len(only_in_solutions) > 20
    leaked = sorted(only_in_solutions & index_terms(html_build.build_dir / "html"))
    assert not leaked, f"words that only solutions use are in the student search index: {leaked[:20]}"


MINI = (
    FRONT
    + """
# Chapter

```{code-cell} ipython3
x = 41
```

## Exercises

```{exercise}
:label: ex-mini-a

Compute the answer to everything please.
```

````{solution} ex-mini-a
:class: dropdown

Plain solution prose about quokkas.
````

```{exercise}
:label: ex-mini-b

Print it with a code cell please.
```

```{solution-start} ex-mini-b
:class: dropdown
```

Gated solution prose about wombats.

```{code-cell} ipython3
print("numbat", x + 1)
```

```{solution-end}
```

Text after the solutions about platypuses.
"""
)
SOLUTION_TEXT = ("quokkas", "wombats", "numbat")


@pytest.fixture(scope="module")
def mini_editions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = mini_book(tmp_path_factory.mktemp("editions"), "x = 0")
    (root / "chapter.md").write_text(MINI, encoding="utf-8")
    for edition in ("student", "instructor"):
        build = run_build("html", root, root=root, edition=edition)
        assert build.returncode == 0, f"{edition} build failed:\n{build.stderr}\n{build.stdout[-3000:]}"
    return root


def test_mini_book_student_edition_drops_both_kinds_of_solution(mini_editions: Path) -> None:
    html = mini_editions / "_build" / "html"
    outputs = {
        "page": (html / "chapter.html").read_text(encoding="utf-8"),
        "search index": (html / "searchindex.js").read_text(encoding="utf-8"),
        "notebook": (html / "_notebooks" / "chapter.ipynb").read_text(encoding="utf-8"),
    }
    for name, text in outputs.items():
        assert not [w for w in SOLUTION_TEXT if w in text], f"solution text in the student {name}"
        assert "platypus" in text, f"the text after the solutions is missing from the student {name}"
    assert not (html / "_sources").exists() or not list((html / "_sources").rglob("*.md"))


def test_mini_book_instructor_edition_keeps_every_solution(mini_editions: Path) -> None:
    html = mini_editions / "_build" / "instructor" / "_build" / "html"
    page = (html / "chapter.html").read_text(encoding="utf-8")
    notebook = (html / "_notebooks" / "chapter.ipynb").read_text(encoding="utf-8")
    for word in SOLUTION_TEXT:
        assert word in page and word in notebook, f"{word!r} missing from the instructor edition"
    assert "numbat 42" in page  # the solution's code ran and its output is shown
    assert "Solution to" in page


def test_notebook_converter_drops_gated_solutions(tmp_path: Path) -> None:
    source = tmp_path / "page.md"
    source.write_text(MINI, encoding="utf-8")
    links = notebooks.Links("https://github.com/o/r")
    for solutions in (False, True):
        nb = notebooks.chapter_notebook(source, "page", links, notebooks.BookContext(solutions=solutions))
        text = "\n".join(c.source for c in nb.cells)
        assert all((w in text) == solutions for w in SOLUTION_TEXT), solutions
        assert "platypuses" in text and "x = 41" in text and "{solution" not in text
