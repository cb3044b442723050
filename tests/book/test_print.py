"""Print quality and per-chapter handouts (issue #18), on a one-chapter book built in both editions."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pdf_check
from conftest import ROOT, run_build
from minibook import FRONT

WIDE = "x = [1, 2, 3]  # a line of exactly eighty-eight characters, to see that it fits the page"
assert len(WIDE) == 88  # tools/sources.py's CODE_WIDTH
LECTURE = (
    FRONT
    + f"""
(ch:lecture)=
# A lecture on quokkas

Some prose citing {{cite:t}}`madry2018towards`; see also {{ref}}`mini-home` and equation {{eq}}`eq-mini-one`,
and {{numref}}`fig-lec-line`.

```{{code-cell}} ipython3
import matplotlib.pyplot as plt

{WIDE}
```

```{{code-cell}} ipython3
---
tags: [print-output-only]
mystnb:
  figure:
    caption: A rising line.
    name: fig-lec-line
  image:
    alt: A rising line.
---
plt.plot(x, x)  # plottingcode
plt.show()
```

## Readings

- {{cite:t}}`madry2018towards` (required): PGD.

````{{only}} html or handout
```{{bibliography}}
:filter: docname in docnames
```
````

## Exercises

```{{exercise}}
:label: ex-lec-a

Compute it.
```

````{{solution}} ex-lec-a
:class: dropdown

The wombat answer.
````
"""
)


def test_figures_must_be_referred_to_and_stay_near_their_reference() -> None:
    pages = [
        "Intro. As Fig. 1.1 shows",
        "Fig. 1.1: A line.",
        "",
        "",
        "text (Fig.",
        "1.2) and",
        "x",
        "Fig. 1.2: far.",
        "Fig. 1.3: never named.",
    ]
    assert pdf_check.figures_far_from_text(pages) == [
        "page 8: Fig. 1.2 floated 3 pages from the nearest reference to it",
        "page 9: Fig. 1.3 is never referred to in the text (add a {numref})",
    ]
    assert pdf_check.figures_far_from_text(pages[:2]) == []


def test_pdf_check_names_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        pdf_check.main(["no-such.pdf"])
    assert exit_.value.code == 2
    assert "no-such.pdf: no such PDF (`make pdf` or `make handouts`" in capsys.readouterr().err


def test_greyscale_sheet_refuses_an_out_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("a file")
    cmd = [
        sys.executable,
        str(ROOT / "tools" / "greyscale_sheet.py"),
        str(tmp_path),
        "--out",
        str(tmp_path / "notes.txt"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and f"--out {tmp_path / 'notes.txt'}: not a folder" in proc.stderr, proc.stderr


def test_pdf_check_names_a_file_that_is_not_a_pdf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.pdf"
    notes.write_text("plain text, not a PDF")
    assert pdf_check.main([str(notes)]) == 2
    err = capsys.readouterr().err
    assert f"{notes}: pdfinfo cannot read it (" in err and "give a PDF `make pdf` wrote" in err, err


def handout_book(tmp_path: Path) -> Path:
    shutil.copy2(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copy2(ROOT / "references.bib", tmp_path / "references.bib")
    shutil.copytree(ROOT / "tools", tmp_path / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("_ext", "_static", "_templates"):
        shutil.copytree(ROOT / "book" / folder, tmp_path / "book" / folder)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: book/part/lecture\n")
    (tmp_path / "index.md").write_text(
        "(mini-home)=\n# Mini book\n\nA test book.\n\n```{math}\n:label: eq-mini-one\n1 + 1 = 2\n```\n"
    )
    (tmp_path / "book" / "part").mkdir()
    (tmp_path / "book" / "part" / "lecture.md").write_text(LECTURE, encoding="utf-8")
    return tmp_path


@pytest.fixture(scope="module")
def handouts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("xelatex") is None or shutil.which("pdftotext") is None:
        pytest.fail("TeX is missing: run `make test` (it installs TeX as root) or see tools/setup_tex.sh")
    root = handout_book(tmp_path_factory.mktemp("handouts"))
    build = run_build("html", root, root=root)
    assert build.returncode == 0, f"HTML build failed:\n{build.stderr}\n{build.stdout[-3000:]}"
    build = run_build("handouts", root, root=root)
    assert build.returncode == 0, f"handouts failed:\n{build.stderr}\n{build.stdout[-3000:]}"
    assert "student: 1 handouts" in build.stdout and "instructor: 1 handouts" in build.stdout
    return root


def text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=120
    ).stdout


def test_handouts_in_both_editions(handouts: Path) -> None:
    student = handouts / "_build" / "handouts" / "student" / "book" / "part" / "lecture.pdf"
    instructor = handouts / "_build" / "handouts" / "instructor" / "book" / "part" / "lecture.pdf"
    for pdf in (student, instructor):
        words = text(pdf)
        assert "A lecture on quokkas" in words  # the chapter's title
        assert "see also Mini book" in words and "mini-home" not in words  # a reference out of the handout
        assert "equation (1)" in words
        assert "A rising line" in words  # the figure's caption, and the figure itself
        assert "Exercise 1" in words and "Compute it." in words
        assert "Towards Deep Learning Models Resistant" in words  # its own reading list, full entry
        assert "plottingcode" not in words  # print-output-only: the figure, not its code
        assert WIDE in " ".join(words.split()) or WIDE.replace("  ", " ") in " ".join(words.split())
        problems, summary = pdf_check.check(pdf, pdf.parent.parent.parent / "_build" / "latex" / "lecture.log")
        assert not problems, problems
    assert "wombat" not in text(student) and "wombat" in text(instructor)
    # one LaTeX document per lecture page: not the landing page, whose toctree is the whole book
    made = sorted(p.name for p in (handouts / "_build" / "handouts" / "student" / "_build" / "latex").glob("*.pdf"))
    assert made == ["book-part-lecture.pdf"], made
    # the public site carries the student handout, linked from the chapter page
    html = handouts / "_build" / "html"
    assert (html / "_handouts" / "book" / "part" / "lecture.pdf").read_bytes() == student.read_bytes()
    assert '_handouts/book/part/lecture.pdf"' in (html / "book" / "part" / "lecture.html").read_text()
