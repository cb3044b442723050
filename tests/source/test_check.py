"""`make check` (tools/check.py): every rule names the exact file, line and message.

Each test builds a tiny, valid project in a temporary folder (`valid_project`), breaks one thing
in it, and compares the check's whole output with the expected lines.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import check
import export_package
import sources
from conftest import ROOT
from minibook import FRONT

TOC = textwrap.dedent(
    """\
    format: jb-book
    root: book/index
    parts:
      - caption: Part
        numbered: true
        chapters:
          - file: book/part/chapter
      - caption: Back matter
        chapters:
          - file: book/glossary
          - file: book/bibliography
    """
)

GLOSSARY = textwrap.dedent(
    """\
    (glossary)=
    # Glossary

    ```{glossary}
    :sorted:

    adversarial example
       An input changed to make a model err, for example by {term}`FGSM`.

    calibration
       Agreement between a model's confidence and its accuracy.

    FGSM
    fast gradient sign method
       A one-step attack.

    PGD
       Projected gradient descent, an iterated {term}`FGSM`.

    robustness
       Performance that holds under perturbations.
    ```
    """
)

BIB = textwrap.dedent(
    """\
    @inproceedings{madry2018towards,
      author = {Madry, Aleksander and Makelov, Aleksandar and Schmidt, Ludwig and Tsipras, Dimitris and Vladu, Adrian},
      title = {Towards Deep Learning Models Resistant to Adversarial Attacks},
      booktitle = {International Conference on Learning Representations},
      year = {2018},
      eprint = {1706.06083},
      archivePrefix = {arXiv}
    }

    @article{guo2017calibration,
      author = {Guo, Chuan and Pleiss, Geoff and Sun, Yu and Weinberger, Kilian Q.},
      title = {On Calibration of Modern Neural Networks},
      journal = {Proceedings of Machine Learning Research},
      year = {2017},
      doi = {10.5555/3305381.3305518}
    }
    """
)

CHAPTER = FRONT + textwrap.dedent(
    """\

    (ch:chapter)=
    # A Chapter

    Opening prose {cite}`madry2018towards`. An {term}`Adversarial  example` is made by the
    {term}`fast method <FGSM>` or {term}`PGD`; {term}`calibration` and {term}`robustness` are measured.

    ```{admonition} Learning objectives
    :class: tip

    1. compute something {cite:p}`guo2017calibration`.
    ```

    ```{code-cell} ipython3
    # @save
    def double(x: float) -> float:
        \"\"\"Twice x.\"\"\"
        return 2 * x
    ```

    ```{code-cell} ipython3
    ---
    mystnb:
      figure:
        caption: A straight line.
        name: fig-chapter-line
      image:
        alt: A line rising from left to right.
    ---
    import matplotlib.pyplot as plt

    plt.plot([1, 2], [1, 2])
    plt.show()
    ```

    (sec-chapter-idea)=
    ## An idea

    ```{math}
    :label: eq-chapter-one
    y = 2x
    ```

    ![A small picture of a line](line.png)

    ## Readings

    - {cite:t}`madry2018towards`, {cite:t}`guo2017calibration`.

    ## Exercises

    ```{exercise}
    :label: ex-chapter-one

    Predict, then check.
    ```

    ````{solution} ex-chapter-one
    :class: dropdown

    The answer.
    ````
    """
)


def valid_project(root: Path) -> Path:
    """A one-chapter project that passes every check."""
    shutil.copy2(ROOT / "_config.yml", root / "_config.yml")
    (root / "_toc.yml").write_text(TOC)
    (root / "references.bib").write_text(BIB)
    (root / "book" / "part").mkdir(parents=True)
    (root / "book" / "index.md").write_text("# Mini book\n\nA landing page, not a chapter.\n")
    (root / "book" / "bibliography.md").write_text("# Bibliography\n\n```{bibliography}\n```\n")
    (root / "book" / "glossary.md").write_text(GLOSSARY)
    (root / "book" / "part" / "chapter.md").write_text(CHAPTER)
    (root / "src" / "mlsafety").mkdir(parents=True)
    assert export_package.main(["--root", str(root)]) == 0
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return valid_project(tmp_path)


def run_check(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    rc = check.main(["--root", str(root)])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert rc != 2, out.err  # 2: the check itself failed
    return rc, out.out.splitlines()


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line of a file that contains `needle`."""
    hits = [i + 1 for i, line in enumerate(path.read_text().splitlines()) if needle in line]
    return hits[nth - 1]


def edit(path: Path, old: str | None, new: str | None) -> None:
    """Replace the first `old` with `new`; with no `old`, write the file (`new`) or, with neither, delete it."""
    if old is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if new is None:
            path.unlink()
        else:
            path.write_text(new)
        return
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def expected_lines(root: Path, lines: list[str]) -> list[str]:
    """The lines with each `⟨needle⟩` (or `⟨needle#n⟩`) replaced by the line of the file the line names
    (the path before its first colon) that contains needle (the nth such line)."""

    def resolve(line: str) -> str:
        path = root / line.split(":")[0]
        return re.sub(r"⟨(.+?)(?:#(\d+))?⟩", lambda m: str(line_of(path, m.group(1), int(m.group(2) or 1))), line)

    return [resolve(line) for line in lines]


# -- every rule: (edits to the valid project, the exact lines the check then prints) --------------------

CH = "book/part/chapter.md"
IDEA = "(sec-chapter-idea)="  # a place in the chapter where a block may go
OFFLINE_FIX = (
    "the book downloads nothing (cells run with the network off): use data bundled with a package"
    " (sklearn.datasets.load_digits), data made in code, or a small file in src/mlsafety/data"
)
HTML_FIX = "use a MyST directive or a figure instead, or ask a maintainer to allow it in tools/check.yml"
UNUSED = "mark its first use with {term} in the chapter that introduces it, or remove the entry"
TERM_FIX = "add an entry to book/glossary.md, or link an existing term with {term}`text <term>`"
TOC_FIX = "fix the path (no suffix, relative to the repository root) or create the file"
DOWNLOADS = [  # (a cell's code, what the check says it downloads with, the line it names)
    (
        'from urllib.request import urlopen  # noqa\ndata = urlopen("https://example.com/x.csv")',
        "urllib.request",
        "from urllib",
    ),
    ('x = 1\nraw = requests.get("https://example.com/x.csv").content', "requests", "requests.get"),
    *(
        (code, what, code)
        for code, what in [
            ('mnist = torchvision.datasets.MNIST(".", download=True)', "download=True"),
            ("!wget https://example.com/x.csv", "a shell download"),
            ("%pip install transformers", "pip install"),
            ('model = torch.hub.load("pytorch/vision", "resnet18")', "torch.hub"),
            ('model = AutoModel.from_pretrained("gpt2")', "from_pretrained"),
            ('x, y = fetch_openml("mnist_784", return_X_y=True)', "a scikit-learn fetch_* loader"),
        ]
    ),
]
REFERENCES = [  # (role, target, the defined name it is close to)
    ("ref", "sec-chapter-ide", "sec-chapter-idea"),
    ("numref", "fig-chapter-lin", "fig-chapter-line"),
    ("ref", "Figure <fig-chapter-lines>", "fig-chapter-line"),
    ("eq", "eq-chapter-on", "eq-chapter-one"),
    ("ref", "no-such-target", None),
]
WHERE = {"eq": "an equation's `:label:`"}  # where a target is defined (a label, else)
WIDE = "x = [" + ", ".join(["1000"] * 20) + "]"
SECTIONS = {  # heading renamed -> what the chapter lacks
    "```{admonition} Learning objectives": 'chapter has no "Learning objectives" admonition — add one after the'
    " title, as in tools/chapter-template.md",
    "## Readings": 'chapter has no "Readings" section — add a `## Readings` section, as in tools/chapter-template.md',
    "## Exercises": 'chapter has no "Exercises" section — add a `## Exercises` section, as in'
    " tools/chapter-template.md",
}

CASES: dict[str, tuple[list[tuple[str, str | None, str | None]], list[str]]] = {
    "toc lists a missing file": (
        [
            (
                "_toc.yml",
                "      - file: book/part/chapter\n",
                "      - file: book/part/chapter\n      - file: book/part/ghost\n",
            )
        ],
        [
            "_toc.yml:8: lists `book/part/ghost` but neither book/part/ghost.md nor book/part/ghost.ipynb exists"
            f" — {TOC_FIX}"
        ],
    ),
    "toc that Jupyter Book cannot read": (
        [("_toc.yml", "format: jb-book\n", "format: jb-novel\n")],
        [
            "_toc.yml:1: is not a table of contents Jupyter Book can read ('format' key value not recognised:"
            " 'jb-novel') — compare it with the _toc.yml on the main branch"
        ],
    ),
    "source missing from the toc (README.md is in exclude_patterns)": (
        [
            ("notebooks/assignment.md", None, "# Assignment\n"),
            ("notebooks/README.md", None, "# Not a notebook\n"),
        ],
        [
            "notebooks/assignment.md:1: this source is not listed in _toc.yml, so it is not in the book"
            " — add it to _toc.yml under its part (or delete it)"
        ],
    ),
    "notebooks are generated, not sources": (
        [("notebooks/stray.ipynb", None, '{"cells": [\n  {"cell_type": "code",\n}')],
        [],
    ),
    "pages outside a part folder are not chapters": (
        [
            ("book/about.md", None, "# About\n\nNo objectives, readings or exercises.\n"),
            (
                "_toc.yml",
                "      - file: book/bibliography\n",
                "      - file: book/bibliography\n      - file: book/about\n",
            ),
        ],
        [],
    ),
    **{
        f"unknown citation key with {{{role}}}": (
            [(CH, "Predict, then check.", f"Predict, then check.\nSee {{{role}}}`madry2018towards,nokey2099`.")],
            [
                f"{CH}:⟨nokey2099⟩: citation key `nokey2099` is not in the bibliography"
                " — fix the key, or add the work to references.bib"
            ],
        )
        for role in ("cite", "cite:p", "cite:t", "cite:ps")
    },
    "unknown citation key near a known one": (
        [(CH, "Predict, then check.", "Predict, then check {cite:p}`madry2018toward`.")],
        [
            f"{CH}:⟨madry2018toward`⟩: citation key `madry2018toward` is not in the bibliography — did you mean"
            " `madry2018towards`? Otherwise fix the key, or add the work to references.bib"
        ],
    ),
    "duplicate BibTeX key": (
        [("references.bib", None, BIB + "\n" + BIB.split("\n\n")[1])],
        [
            "references.bib:⟨@article{guo2017calibration#2⟩: duplicate BibTeX key `guo2017calibration`"
            " — delete this copy, or give a different work its own key"
        ],
    ),
    "missing bibliography file": (
        [("references.bib", None, None)],
        [
            "references.bib:1: bibliography file is missing (named in _config.yml `bibtex_bibfiles`)"
            " — restore it, or fix the name in _config.yml"
        ],
    ),
    "entry without year and venue": (
        [
            ("references.bib", "  year = {2017},\n", ""),
            ("references.bib", "  journal = {Proceedings of Machine Learning Research},\n", ""),
        ],
        [
            "references.bib:⟨@article{guo⟩: entry `guo2017calibration` (@article) has no venue (journal)"
            " — add where it was published",
            "references.bib:⟨@article{guo⟩: entry `guo2017calibration` has no year — add the year field, copied"
            " from the paper itself",
        ],
    ),
    "malformed DOI and arXiv id": (
        [
            ("references.bib", "doi = {10.5555/", "doi = {https://doi.org/10.5555/"),
            ("references.bib", "eprint = {1706.06083}", "eprint = {arXiv:1706.06083}"),
        ],
        [
            "references.bib:⟨eprint =⟩: malformed arXiv id `arXiv:1706.06083` in `madry2018towards` — an arXiv"
            " id looks like 1706.06083 (or hep-th/9901001), without a URL or `arXiv:`",
            "references.bib:⟨doi =⟩: malformed DOI `https://doi.org/10.5555/3305381.3305518` in"
            " `guo2017calibration` — give the bare DOI, without the https://doi.org/ prefix",
        ],
    ),
    **{
        f"chapter without {old.split()[-1]}": (
            [(CH, old, old.replace(old.split()[-1], "Other"))],
            [f"{CH}:13: {message}"],
        )
        for old, message in SECTIONS.items()
    },
    "exercises without solution or label": (
        [
            (
                CH,
                "```{exercise}\n:label: ex-chapter-one\n\nPredict, then check.\n```\n",
                "```{exercise}\n:label: ex-chapter-one\n\nPredict, then check.\n```\n\n"
                "```{exercise}\n:label: ex-chapter-two\n\nAnother.\n```\n\n```{exercise}\nNo label.\n```\n",
            )
        ],
        [
            f"{CH}:⟨{{exercise}}#2⟩: exercise `ex-chapter-two` has no solution — add a {{solution}} ex-chapter-two"
            " block after it with a worked answer",
            f"{CH}:⟨{{exercise}}#3⟩: exercise has no `:label:`, so no solution can refer to it — add"
            " `:label: ex-<chapter>-<topic>` and a {solution} for it",
        ],
    ),
    "misspelled solution label": (
        [(CH, "````{solution} ex-chapter-one", "````{solution} ex-chapter-on")],
        [
            f"{CH}:⟨{{exercise}}⟩: exercise `ex-chapter-one` has no solution — add a {{solution}} ex-chapter-one"
            " block after it with a worked answer",
            f"{CH}:⟨{{solution}}⟩: solution refers to `ex-chapter-on`, which is no exercise's label — did you mean"
            " `ex-chapter-one`? Otherwise use the `:label:` of the exercise it answers",
        ],
    ),
    "duplicate labels": (
        [
            (CH, "## Readings", f"{IDEA}\n## Readings"),
            (CH, "\ny = 2x\n```\n", "\ny = 2x\n```\n\n```{math}\n:label: eq-chapter-one\nz = 3\n```\n"),
        ],
        [
            f"{CH}:⟨{{math}}#2⟩: equation `eq-chapter-one` is already defined at {CH}:⟨{{math}}⟩"
            " — rename one of them (and the references to it)",
            f"{CH}:⟨{IDEA}#2⟩: label `sec-chapter-idea` is already defined at {CH}:⟨{IDEA}⟩"
            " — rename one of them (and the references to it)",
        ],
    ),
    "glue key written out twice in one chapter": (
        [
            (
                CH,
                IDEA,
                "```{code-cell} ipython3\nfrom myst_nb import glue\n\nglue('n-points', 2, display=False)\n```\n\n"
                "```{code-cell} ipython3\nfor k in (1, 2):\n    glue(f'point-{k}', k, display=False)\n"
                "glue(name='n-points', variable=3, display=False)\n```\n\n" + IDEA,
            )
        ],
        [
            f"{CH}:⟨name='n-points'⟩: glue key `n-points` is already defined at {CH}:⟨glue('n-points'⟩"
            " — rename one of them (and the references to it)"
        ],
    ),
    **{
        f"{{{role}}} to undefined `{target}`": (
            [(CH, "Predict, then check.", f"Predict, then check.\nSee {{{role}}}`{target}`.")],
            [
                f"{CH}:⟨See {{⟩: {{{role}}} target `{target.split('<')[-1].rstrip('>')}` is not defined anywhere in"
                f" the book — {f'did you mean `{close}`? Otherwise ' if close else ''}fix the name, or define it"
                f" with {WHERE.get(role, 'a `(label)=`, figure `name` or `:label:`')}"
            ],
        )
        for role, target, close in REFERENCES
    },
    "references that resolve": (
        [
            (
                CH,
                "Predict, then check.",
                "Predict, then check.\nSee {ref}`SEC-chapter-idea`, {ref}`the idea <sec-chapter-idea>`,"
                " {numref}`Figure %s <fig-chapter-line>`, {eq}`eq-chapter-one`, {ref}`ex-chapter-one`,"
                " {ref}`ch:chapter`, {ref}`glossary`, {ref}`genindex`.",
            )
        ],
        [],
    ),
    "figure cell without caption or alt text": (
        [
            (CH, "    caption: A straight line.\n", ""),
            (CH, "  image:\n    alt: A line rising from left to right.\n", ""),
        ],
        [
            f"{CH}:⟨{{code-cell}}#2⟩: code cell shows a figure without a caption — add `mystnb: figure:"
            " {caption, name}` to the cell options, as in tools/chapter-template.md",
            f"{CH}:⟨{{code-cell}}#2⟩: code cell shows a figure without alt text — add `mystnb: image: {{alt}}`"
            " saying what the figure shows, as in tools/chapter-template.md",
        ],
    ),
    "figure directive and image without alt text": (
        [
            (
                CH,
                "![A small picture of a line](line.png)",
                "![](line.png)\n\n```{figure} line.png\n:name: fig-chapter-file\n```",
            )
        ],
        [
            f"{CH}:⟨![](line.png)⟩: image `line.png` has no alt text — write what it shows between the brackets:"
            " ![what it shows](path)",
            f"{CH}:⟨{{figure}}⟩: figure `line.png` has no alt text — add an `:alt:` option that says what the"
            " figure shows",
            f"{CH}:⟨{{figure}}⟩: figure `line.png` has no caption — write a one-sentence caption as the directive's"
            " body",
        ],
    ),
    "unclosed directive": (
        [(CH, "The answer.\n````\n", "The answer.\n```\n")],
        [
            f"{CH}:⟨{{solution}}⟩: {{solution}} block opened with ```` is never closed, so it swallows the rest of"
            " the file — close it with a line ```` (more backticks than any block nested inside it)"
        ],
    ),
    "raw HTML": (
        [
            (
                CH,
                "## Readings",
                '<iframe src="https://example.org"></iframe>\n\nClick <span onclick="steal()">here</span>.\n\n'
                "```{raw} html\n<p>fine</p>\n<script>x()</script>\n```\n\n## Readings",
            )
        ],
        [
            f"{CH}:⟨<iframe⟩: raw HTML <iframe> is not allowed in contributed pages — {HTML_FIX}",
            f"{CH}:⟨onclick⟩: raw HTML inline event handler `onclick=` is not allowed in contributed pages"
            f" — {HTML_FIX}",
            f"{CH}:⟨<script>⟩: raw HTML <script> is not allowed in contributed pages — {HTML_FIX}",
        ],
    ),
    "raw HTML allowed in tools/check.yml": (
        [
            (
                CH,
                "## Readings",
                '<iframe src="https://example.org"></iframe>\n\nClick <span onclick="steal()">here</span>.\n\n'
                "```{raw} html\n<p>fine</p>\n<script>x()</script>\n```\n\n## Readings",
            ),
            (
                "tools/check.yml",
                None,
                "allow_html:\n  - file: book/part/*.md\n    tag: iframe\n    reason: test\n"
                "  - file: book/part/chapter.md\n    tag: onclick\n    reason: test\n"
                "  - file: book/part/chapter.md\n    tag: script\n    reason: test\n",
            ),
        ],
        [],
    ),
    **{
        f"cell downloads with {what}": (
            [
                (
                    CH,
                    IDEA,
                    "```{code-cell} ipython3\n:tags: [hide-output]\n\n# a comment about urlopen( is fine\n"
                    f"{code}\n```\n\n{IDEA}",
                )
            ],
            [f"{CH}:⟨{needle}⟩: code cell downloads ({what}) — {OFFLINE_FIX}"],
        )
        for code, what, needle in DOWNLOADS
    },
    "download words in prose, bundled data": (
        [
            (
                CH,
                IDEA,
                "Nothing here calls `urlopen()` or sets `download=True`.\n\n```{code-cell} ipython3\n"
                "from sklearn.datasets import load_digits\n\n"
                "x, y = load_digits(return_X_y=True)  # not requests.get(...)\n"
                f"def fetch_batch(i):\n    return x[i]\n```\n\n{IDEA}",
            )
        ],
        [],
    ),
    "code line wider than the page": (
        [(CH, IDEA, f"```{{code-cell}} ipython3\n# fits\n{'y = 1  # ' + 'z' * 70}\n{WIDE}\n```\n\n{IDEA}")],
        [
            f"{CH}:⟨x = [1000⟩: code line is {len(WIDE)} characters, wider than {check.CODE_WIDTH} (the PDF would"
            f" wrap it) — break it, or run `.venv/bin/python tools/lint_cells.py --fit {CH}`, which does it for you"
        ],
    ),
    "package out of sync": (
        [(CH, "return 2 * x", "return x + x")],
        [
            "src/mlsafety/part.py:1: the mlsafety package is out of sync: differs from the `# @save` cells of the"
            " chapters — run `make package` and commit src/mlsafety"
        ],
    ),
    # the glossary
    "unknown glossary terms, one near a known one": (
        [(CH, "Predict, then check.", "Predict, then check {term}`calibratoin` and {term}`PGD attack`.")],
        [
            f"{CH}:⟨calibratoin⟩: {{term}} `PGD attack` is not in the glossary — {TERM_FIX}",
            f"{CH}:⟨calibratoin⟩: {{term}} `calibratoin` is not in the glossary — did you mean `calibration`?"
            f" Otherwise {TERM_FIX}",
        ],
    ),
    "unknown term in a glossary definition": (
        [("book/glossary.md", "an iterated {term}`FGSM`", "an iterated {term}`BIM`")],
        [f"book/glossary.md:⟨BIM⟩: {{term}} `BIM` is not in the glossary — {TERM_FIX}"],
    ),
    "terms in code are not roles": (
        [(CH, IDEA, f"```{{code-cell}} ipython3\n# {{term}}`not a role`\nx = 1\n```\n\n{IDEA}")],
        [],
    ),
    "chapter with too few glossary links": (
        [(CH, "{term}`PGD`; {term}`calibration` and {term}`robustness`", "PGD; calibration and robustness")],
        [
            f"book/glossary.md:⟨calibration⟩: no page links the glossary term `calibration` — {UNUSED}",
            f"book/glossary.md:⟨PGD⟩: no page links the glossary term `PGD` — {UNUSED}",
            f"book/glossary.md:⟨robustness⟩: no page links the glossary term `robustness` — {UNUSED}",
            f"{CH}:13: chapter links only 2 glossary term(s), fewer than 5 — mark the first use of each term it"
            " introduces with {term}`term` (new terms get an entry in book/glossary.md)",
        ],
    ),
    "glossary term twice, out of order, without definition": (
        [
            ("book/glossary.md", "its accuracy.\n", "its accuracy.\n\nCalibration\n   Twice.\n"),
            ("book/glossary.md", "under perturbations.\n", "under perturbations.\n\nbackdoor\n"),
        ],
        [
            "book/glossary.md:⟨Calibration⟩: glossary term `Calibration` is already defined at line ⟨calibration⟩"
            " — merge the two entries (terms match case-insensitively)",
            "book/glossary.md:⟨backdoor⟩: glossary term `backdoor` has no definition — indent its definition below it",
            "book/glossary.md:⟨backdoor⟩: glossary term `backdoor` is out of alphabetical order (it sorts before"
            " `robustness`) — move it to its place: the source is kept sorted as the page is",
            f"book/glossary.md:⟨backdoor⟩: no page links the glossary term `backdoor` — {UNUSED}",
        ],
    ),
    "execute timeout that is not whole seconds": (
        [("_config.yml", "timeout: 120", "timeout: 2 min")],
        [
            "_config.yml:1: `execute: timeout` is '2 min', not a whole number of seconds — give the seconds one code"
            " cell may run, e.g. 120 (the build stops a cell that runs longer)"
        ],
    ),
    "glossary without the sorted option": (
        [("book/glossary.md", ":sorted:\n", "")],
        ["book/glossary.md:1: the {glossary} directive has no :sorted: option — add `:sorted:` below it"],
    ),
}


@pytest.mark.parametrize(("edits", "expected"), CASES.values(), ids=CASES.keys())
def test_rule(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    edits: list[tuple[str, str | None, str | None]],
    expected: list[str],
) -> None:
    """Each rule, on its own: the check prints exactly these lines (and exits 1), or passes (exit 0) if none."""
    for name, old, new in edits:
        edit(project / name, old, new)
    rc, lines = run_check(project, capsys)
    if expected:
        assert (rc, lines) == (1, expected_lines(project, expected))
    else:
        assert rc == 0 and len(lines) == 1 and lines[0].startswith("check: ") and "no problems" in lines[0], lines


# -- rules whose message holds text from elsewhere, and the whole book ------------------------------


def test_valid_project_passes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = check.main(["--root", str(project)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert out.startswith("check: 4 sources, 4 citations, 2 BibTeX entries — no problems")
    assert len(out.splitlines()) == 1


def test_bibtex_syntax_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bib = project / "references.bib"
    edit(bib, "Models Resistant to Adversarial Attacks},", "Models Resistant to Adversarial Attacks,")
    rc, lines = run_check(project, capsys)
    assert rc == 1
    # the broken entry is reported at its first line; its key is then unknown to the chapter
    assert lines[-1].startswith("references.bib:1: BibTeX syntax error in this entry (")
    assert lines[-1].endswith(" — check its braces, quotes and the commas between fields")
    assert all("citation key `madry2018towards` is not in the bibliography" in line for line in lines[:-1])


def test_bad_front_matter(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chapter = project / "book/part/chapter.md"
    edit(chapter, "  language: python\n", "  language: [python\n")
    rc, lines = run_check(project, capsys)
    assert rc == 1 and len(lines) == 1
    assert lines[0].startswith("book/part/chapter.md:9: front matter is not valid YAML (")
    assert lines[0].endswith(" — fix this line; compare with the front matter of tools/chapter-template.md")


def test_code_cells_without_kernelspec(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chapter = project / "book/part/chapter.md"
    chapter.write_text(CHAPTER.split("---\n", 2)[2].lstrip("\n"))
    export_package.main(["--root", str(project)])
    capsys.readouterr()
    assert run_check(project, capsys) == (
        1,
        [
            "book/part/chapter.md:1: has code cells but no front matter, so they would not run"
            " — copy the jupytext/kernelspec front matter from tools/chapter-template.md"
        ],
    )


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "_toc.yml",
            "format: jb-book\nroot: [book/index\n",
            "_toc.yml:3: not valid YAML (expected ',' or ']', but got '<stream end>')"
            " — fix the indentation or quoting on this line",
        ),
        (
            "_config.yml",
            b"\xff\xfe\x00junk",
            "_config.yml:1: cannot be read as UTF-8 text (UnicodeDecodeError) — save it as UTF-8 text",
        ),
        (
            "book/part/chapter.md",
            b"\x89PNG\r\n\x1a\n\x00\x00binary",
            "book/part/chapter.md:1: not UTF-8 text (binary or another encoding) — save the file as UTF-8 text",
        ),
        ("references.bib", "@article{x,\n  title = {\xe9}\n", None),
    ],
)
def test_bad_input_never_raises(
    project: Path, capsys: pytest.CaptureFixture[str], name: str, content: str | bytes, expected: str | None
) -> None:
    path = project / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    rc, lines = run_check(project, capsys)
    assert rc == 1
    if expected is not None:
        assert expected in lines
    assert all(": " in line and " — " in line for line in lines), lines


def test_a_broken_config_of_the_checkout_itself_is_reported(project: Path) -> None:
    """The tools read their own checkout's _config.yml: `make check` reports a broken one, every other tool names it
    (exit 2); none stops with a traceback (they read it when imported)."""
    for folder in ("tools", "book/_ext", "notebooks/assignments"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    config = project / "_config.yml"
    text = config.read_text()
    others = [
        ("lint_cells.py",),
        ("export_package.py", "--check"),
        ("run_chapter.py", "book/part/chapter.md"),
        ("assignments.py", "build", "--out", str(project / "out")),
        ("build.py", "html"),
    ]
    repository = re.sub(r"chapter_notebooks_repository: \S+", "chapter_notebooks_repository: github.com/o/r", text)
    cases = [
        (text.replace("title: ", "title: [", 1), "_config.yml:3: not valid YAML (", [("check.py",), *others]),
        (repository, "chapter_notebooks_repository must look like", [("assignments.py", "build")]),
    ]
    wrong = []
    for broken, message, tools in cases:
        config.write_text(broken)
        for tool, *args in tools:
            cmd = [sys.executable, str(project / "tools" / tool), *args]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=project)
            code, out = (1, proc.stdout) if tool == "check.py" else (2, proc.stderr)
            if proc.returncode != code or message not in out or "Traceback" in proc.stderr:
                wrong.append(f"{tool}, {message}: exit {proc.returncode}\n{proc.stdout[-500:]}{proc.stderr[-1000:]}")
    assert not wrong, "\n".join(wrong)


def test_whole_book_passes() -> None:
    """`make check` on this checkout exits 0 (its time is reported by `make bench`, not asserted)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check.py")], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("check: ") and "no problems" in proc.stdout


def test_exit_status_and_stream_for_a_problem(project: Path) -> None:
    (project / "book" / "part" / "stray.md").write_text("# Stray\n")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check.py"), "--root", str(project)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    assert "book/part/stray.md:1: this source is not listed in _toc.yml" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert "problem(s) in 1 file(s)" in proc.stderr


def test_fit_rewrites_wide_code_lines_without_changing_what_they_do() -> None:
    import lint_cells

    code = "\n".join(
        [
            "values = [" + ", ".join(str(1000 + i) for i in range(20)) + "]  # twenty numbers, a comment",
            "def f(x):",
            '    """A docstring that is far too long for the printed page, so that it must be wrapped."""',
            "    return x",
            "text = str(",
            '    f"{len(values)} values, the first {values[0]} and the last {values[-1]}, all of them printed here"',
            ")",
            "# " + "a comment line that goes on " * 4,
        ]
    )
    fitted = lint_cells.fit_code(code, Path(sys.executable).parent / "ruff")
    assert all(len(line) <= check.CODE_WIDTH for line in fitted.splitlines()), fitted
    before, after = {}, {}
    exec(code, before)
    exec(fitted, after)
    assert before["values"] == after["values"] and before["text"] == after["text"]


def test_toc_entry_near_miss(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(project / "_toc.yml", "- file: book/part/chapter\n", "- file: book/part/chaptr\n")
    rc, lines = run_check(project, capsys)
    assert rc == 1
    assert lines[:2] == [
        "_toc.yml:7: lists `book/part/chaptr` but neither book/part/chaptr.md nor book/part/chaptr.ipynb exists"
        " — did you mean `book/part/chapter`? Otherwise fix the path (no suffix, relative to the repository root)"
        " or create the file",
        "book/part/chapter.md:1: this source is not listed in _toc.yml, so it is not in the book"
        " — add it to _toc.yml under its part (or delete it)",
    ]
    # and, since the chapter is out of the book, its saved cells are no longer in the package
    assert all(line.startswith("src/mlsafety/") and "out of sync" in line for line in lines[2:])


def test_the_book_has_a_glossary_that_covers_the_chapters() -> None:
    """The book's own glossary is in the toc, sorted, and holds at least 60 terms."""
    checker = check.Checker(ROOT)
    assert "book/glossary.md" in checker.check_toc(checker.load_config())
    entries, is_sorted, _ = sources.glossary_entries((ROOT / check.GLOSSARY).read_text(), checker.load_config())
    assert entries is not None and is_sorted and len(entries) >= 60


# -- CONTRIBUTING.md explains every message ----------------------------------------------------------


def message_templates() -> list[tuple[str, list[str]]]:
    """(key, constant fragments) of the `what` part of every message in tools/check.py's MESSAGES."""
    found = []
    for key, message in check.MESSAGES.items():
        parts = re.split(r"\$\w+", message.split(" — ", 1)[0])
        fragments = [f for p in parts for f in (p.replace("`", " ").split("  ")) if len(f.strip()) > 2]
        if fragments:  # else a message taken from elsewhere (an export_package error)
            found.append((key, [plain(f) for f in fragments]))
    return found


def plain(text: str) -> str:
    """Text without backticks, runs of spaces, or spaces before punctuation (as the table writes it)."""
    return re.sub(r"\s+([,.;:)])", r"\1", " ".join(text.replace("`", " ").split()))


def test_contributing_lists_every_message() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    section = text.split("## The check", 1)[1].split("\n## ", 1)[0]
    rows = [plain(row) for row in section.splitlines() if row.startswith("| ")]
    templates = message_templates()
    assert len(templates) > 30
    missing = []
    for line, fragments in templates:
        if not any(all(f in row for f in fragments) for row in rows):
            missing.append(f"tools/check.py MESSAGES[{line!r}]: {' … '.join(fragments)}")
    assert not missing, "CONTRIBUTING.md's table of messages lacks:\n" + "\n".join(missing)


def test_template_and_docs_match_the_chapters() -> None:
    """Issue #21: the template's labels follow the chapters' style; the docs give the real notebook path."""
    template = (ROOT / "tools" / "chapter-template.md").read_text()
    targets = re.findall(r"^\(([^)]+)\)=$", template, re.M)
    names = [n for n in re.findall(r"^\s*(?::label:|name:)\s*(\S+)$", template, re.M) if n != "python3"]
    assert targets and names
    assert all(re.fullmatch(r"ch:[a-z-]+|sec-[a-z]+-[a-z0-9-]+", t) for t in targets), targets
    assert all(re.fullmatch(r"(eq|fig|ex)-[a-z]+-[a-z0-9-]+", n) for n in names), names
    for doc in ("README.md", "CONTRIBUTING.md"):
        text = (ROOT / doc).read_text()
        assert "_build/html/_notebooks/book/<part>/" in text, doc
        assert "_build/html/_notebooks/<chapter>" not in text, doc
    contributing = (ROOT / "CONTRIBUTING.md").read_text()
    for needle in ("make preview", "lecture_materials", "- caption:", "sec-<abbrev>-<topic>", "## No downloads"):
        assert needle in contributing, needle
