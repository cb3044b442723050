"""Each chapter as a notebook: the generated .ipynb runs in a fresh kernel, and pages link to it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

import build
import notebooks
import sources
from conftest import ROOT, Build

CHAPTER = Path("book/hazard-analysis/risk-decomposition.md")  # small: its cells run in ~10 s


def configured_links() -> notebooks.Links:
    """The links the book's _config.yml asks for, read the way the extension reads them."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "notebooks" in config["sphinx"]["local_extensions"]
    values = config["sphinx"]["config"]
    return notebooks.Links(
        values["chapter_notebooks_repository"],
        values.get("chapter_notebooks_branch", "notebooks"),
        values.get("chapter_notebooks_package_ref", "main"),
    )


@pytest.fixture(scope="module")
def notebook() -> nbformat.NotebookNode:
    context = notebooks.BookContext(entries=notebooks.read_bibliography(ROOT / "references.bib"))
    nb = notebooks.chapter_notebook(ROOT / CHAPTER, str(CHAPTER.with_suffix("")), configured_links(), context)
    assert nb is not None
    return nb


def run_in_fresh_kernel(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    error = build.run_cells(nb, cwd, sources.cell_timeout())  # as the build runs a chapter: one thread
    assert error is None, f"the generated notebook failed: {error}"
    return nb


def test_generated_notebook_runs_top_to_bottom(notebook: nbformat.NotebookNode) -> None:
    executed = run_in_fresh_kernel(nbformat.from_dict(notebook), ROOT / CHAPTER.parent)  # fails on any error
    setup = executed.cells[0]
    # mlsafety and myst-nb are installed here, so the set-up cell installed and printed nothing
    assert setup.outputs == [], f"the set-up cell did something although mlsafety is installed: {setup.outputs}"
    assert sum(1 for c in executed.cells if c.cell_type == "code" and c.outputs) >= 5


def test_generated_notebook_shape(notebook: nbformat.NotebookNode) -> None:
    links = configured_links()
    nbformat.validate(notebook)
    setup, about = notebook.cells[0], notebook.cells[1]
    assert setup.cell_type == "code" and 'find_spec("mlsafety") is None' in setup.source
    assert f'%pip install --quiet "{links.install_requirement()}"' in setup.source
    owner_repo = re.match(r"https://github\.com/(.+?)/?$", links.repository).group(1)
    colab = f"https://colab.research.google.com/github/{owner_repo}/blob/{links.branch}/{CHAPTER.with_suffix('.ipynb')}"
    assert links.colab_url(str(CHAPTER.with_suffix(""))) == colab
    assert about.cell_type == "markdown" and f"({colab})" in about.source
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code), "a generated notebook has outputs"
    source_code_cells = (ROOT / CHAPTER).read_text(encoding="utf-8").count("```{code-cell}")
    assert len(code) == source_code_cells + 1
    assert "jupytext" not in notebook.metadata and notebook.metadata.kernelspec.name == "python3"
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    leftovers = re.findall(r"\{[a-z][\w:-]*\}`|^[`:]{3,}\{|^\([\w:-]+\)=$", markdown, re.MULTILINE)
    assert not leftovers, f"MyST syntax left in the notebook's Markdown: {leftovers[:5]}"
    assert "Hanley and Lippman-Hand (1983)" in markdown  # {cite:t} as author (year)
    assert "**References**" in markdown and "<details>" in markdown


def test_setup_cell_stands_in_for_glue_without_myst_nb(tmp_path: Path) -> None:
    """On Colab myst-nb is missing: the chapters' `from myst_nb import glue` must still work."""
    links = configured_links()
    hide = nbformat.v4.new_code_cell('import sys\nsys.modules["myst_nb"] = None  # as if not installed')
    use = nbformat.v4.new_code_cell('from myst_nb import glue\nglue("shown", 41 + 1)\nglue("hidden", 7, display=False)')
    nb = nbformat.v4.new_notebook(cells=[hide, notebooks.install_cell(links), use])
    run_in_fresh_kernel(nb, tmp_path)
    shown = [o["data"]["text/plain"] for o in nb.cells[2].outputs]
    assert shown == ["42"]


def test_converter_renders_myst_as_plain_markdown(tmp_path: Path) -> None:
    source = tmp_path / "page.md"
    source.write_text(
        """---
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
(sec-x)=
# Title

% a comment
As {cite:t}`k1` showed {cite:p}`k1,k2`, see {ref}`the section <sec-x>` and {eq}`eq-a`.

```{math}
:label: eq-a
a = b
```

````{only} latex
Only in the PDF.
````

```{exercise}
:label: ex-a

Do {math}`x^2`.
```

````{solution} ex-a
:class: dropdown

```{note}
Nested.
```
````

```{code-cell} ipython3
print(1)
```
""",
        encoding="utf-8",
    )
    context = notebooks.BookContext(targets={"ex-a": "Exercise 2.1"}, equations={"eq-a": "2.3"})
    nb = notebooks.chapter_notebook(source, "page", notebooks.Links("https://github.com/o/r"), context)
    text = nb.cells[2].source
    assert text.startswith("# Title") and "comment" not in text and "(sec-x)=" not in text
    assert "As k1 (n.d.) showed (k1, n.d.; k2, n.d.), see the section and (2.3)." in text
    assert "$$\na = b \\tag{2.3}\n$$" in text and "Only in the PDF" not in text
    assert "**Exercise 2.1**\n\nDo $x^2$." in text
    assert "<summary>Solution to Exercise 2.1</summary>\n\n> **Note**\n>\n> Nested.\n\n</details>" in text
    with pytest.raises(ValueError, match="chapter_notebooks_repository must look like https://github.com"):
        notebooks.Links("https://gitlab.com/o/r")


def test_settings_of_the_wrong_type_name_themselves() -> None:
    """A number or a list where _config.yml wants a string: the setting's name, not Python's TypeError."""
    with pytest.raises(ValueError, match="chapter_notebooks_repository must look like https://github.com"):
        notebooks.Links(["https://github.com/o/r"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chapter_notebooks_branch is not a git ref: 5"):
        notebooks.Links("https://github.com/o/r", 5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chapter_notebooks_package_ref is not a git ref: 1.0"):
        notebooks.Links("https://github.com/o/r", package_ref=1.0)  # type: ignore[arg-type]


def test_every_chapter_page_links_its_notebook_and_colab(html_build: Build) -> None:
    html = html_build.build_dir / "html"
    links = configured_links()
    chapters = build.chapters_in_toc(ROOT)
    assert CHAPTER in chapters
    for chapter in chapters:
        page = html / chapter.with_suffix(".html")
        text = page.read_text(encoding="utf-8")
        hrefs = re.findall(r'href="([^"]*_notebooks/[^"]+\.ipynb)"', text)
        assert hrefs, f"{chapter}: no link to its notebook"
        target = (page.parent / hrefs[0]).resolve()
        assert target == (html / "_notebooks" / chapter.with_suffix(".ipynb")).resolve() and target.exists()
        assert f'href="{links.colab_url(str(chapter.with_suffix("")))}"' in text, f"{chapter}: no Colab link"
        nb = nbformat.read(target, as_version=4)
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert not re.findall(r"\{[a-z][\w:-]*\}`", markdown), f"{target}: MyST roles left"
    # the build resolves what a standalone conversion cannot: glued numbers and numbered references
    built = nbformat.read(html / "_notebooks" / CHAPTER.with_suffix(".ipynb"), as_version=4)
    markdown = "\n".join(c.source for c in built.cells if c.cell_type == "markdown")
    assert "`risk-" not in markdown and "Fig.\u00a03." in markdown and "**Exercise 3.1**" in markdown


def test_bad_repository_setting_fails_the_build_with_a_clear_message(tmp_path: Path) -> None:
    from conftest import run_build
    from minibook import mini_book

    root = mini_book(tmp_path, "print(1)")
    config = root / "_config.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        re.sub(r"chapter_notebooks_repository: \S+", "chapter_notebooks_repository: https://example.org/x", text),
        encoding="utf-8",
    )
    result = run_build("html", root, root=root)
    assert result.returncode != 0
    assert (
        "_config.yml (sphinx: config:): chapter_notebooks_repository must look like "
        "https://github.com/<owner>/<repo>, got 'https://example.org/x'"
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_a_fork_gets_its_own_colab_link_and_library_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deployed from a fork, the notebooks point at the fork's Colab copy and the wheel its site serves."""
    from conftest import run_build
    from minibook import mini_book

    root = mini_book(tmp_path, "print(1)")
    monkeypatch.setenv("BOOK_REPOSITORY", "a-fork/ml-safety")
    monkeypatch.setenv("BOOK_BASEURL", "https://a-fork.github.io/ml-safety/")
    result = run_build("html", root, root=root)
    assert result.returncode == 0, result.stderr
    html = root / "_build" / "html"
    setup = nbformat.read(html / "_notebooks" / "chapter.ipynb", as_version=4).cells[0].source
    wheel = notebooks.wheel_name()
    assert wheel.startswith("mlsafety-") and wheel.endswith("-py3-none-any.whl")
    assert f'%pip install --quiet "mlsafety @ https://a-fork.github.io/ml-safety/_wheels/{wheel}"' in setup
    page = (html / "chapter.html").read_text(encoding="utf-8")
    assert "https://colab.research.google.com/github/a-fork/ml-safety/blob/notebooks/chapter.ipynb" in page
    assert "ml-safety-notes/intro-ml-safety" not in setup + page


def test_glued_values_come_from_myst_nbs_glue_cache(tmp_path: Path) -> None:
    """myst-nb has no public API for glued values: the converter calls its own cache reader, with its folder.

    When this fails after a myst-nb upgrade, update `glued_values` in book/_ext/notebooks.py.
    """
    from types import SimpleNamespace

    try:
        from myst_nb.core.config import NbParserConfig
        from myst_nb.ext.glue.crossref import read_glue_cache  # noqa: F401 (what glued_values calls)
    except ImportError as err:
        pytest.fail(f"myst-nb moved its glue cache reader ({err}): update glued_values in book/_ext/notebooks.py")
    (tmp_path / "part").mkdir()
    cache = {"risk": {"data": {"text/plain": "0.25"}, "metadata": {}}}  # what myst-nb writes for glue("risk", 0.25)
    (tmp_path / "part" / "page.glue.json").write_text(json.dumps(cache), encoding="utf-8")
    app = SimpleNamespace(env=SimpleNamespace(mystnb_config=NbParserConfig(output_folder=str(tmp_path))))
    assert notebooks.glued_values(app, "part/page") == {"risk": "0.25"}
