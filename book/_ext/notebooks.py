"""Notebooks from the book's sources: each chapter, and each assignment's starter and solution.

For every page with code cells the HTML build writes `<html>/_notebooks/<docname>.ipynb`, converted
from the MyST source with jupytext, and adds download and "Open in Colab" links to the page's header.
The notebook has no outputs and only the tags as cell metadata; its first cell installs `mlsafety`
only when `import mlsafety` would fail (as on Colab) and stands in for `myst_nb.glue` when myst-nb
is missing. What only the book renders becomes plain Markdown: citations "Author (Year)" with a
reference list, cross-references the title or number the build resolved, glued values the number
the build computed, admonitions block quotes, exercises bold headings, solutions `<details>` (none
in the student edition); labels and comments are dropped.

The programming assignments' notebooks are made the same way, by tools/assignments.py (its
`write_assignments`, called after the build), and `{assignment-links} <name>` links them.

Colab opens notebooks from GitHub only (`/github/<owner>/<repo>/blob/<branch>/<path>`); the deploy
workflow publishes `_build/html/_notebooks/` as the branch `chapter_notebooks_branch`. Configuration
(`sphinx: config:` in _config.yml): `chapter_notebooks_repository` (https://github.com/<owner>/<repo>,
required), `chapter_notebooks_branch` (default "notebooks"), `chapter_notebooks_package_ref` (the git
ref mlsafety is installed from when the site has no address; default "main"). Where the site is
published, the environment variable BOOK_REPOSITORY (`<owner>/<repo>`, set by the deploy workflow)
replaces the repository, and a site with an address (`html.baseurl`, or BOOK_BASEURL) has the
notebooks install the wheel the deploy publishes beside the pages (`make wheel` writes
`_build/html/_wheels/mlsafety-<version>-py3-none-any.whl`): the library the chapter was built with.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tools") not in sys.path:  # tools/sources.py, the one reader of the book's sources
    sys.path.insert(0, str(ROOT / "tools"))
from sources import BookConfigError, book_config, md_parser, split_options  # noqa: E402

LOGGER = logging.getLogger(__name__)

NOTEBOOK_DIR = "_notebooks"
ASSIGNMENTS = "notebooks/assignments"  # the assignments' sources, under the book's root
ASSIGNMENT_DIR = "assignments"  # their notebooks, under _notebooks/
WHEEL_DIR = "_wheels"  # beside the pages; the Makefile's `wheel` target writes the wheel there
COLAB = "https://colab.research.google.com/github"
REPOSITORY = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")
ROLE = re.compile(r"(?<!`)\{([A-Za-z][\w:.-]*)\}`([^`]*)`")  # not inside a code span
EXPLICIT = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.DOTALL)  # `text <target>` in a role
GATE = re.compile(r"^\s*(`{3,}|:{3,})\{solution-(start|end)\}")
VERBATIM = object()  # marks a block copied unchanged
ADMONITIONS = set("note tip hint important warning caution attention danger error seealso admonition".split())
ADMONITIONS |= {"margin", "sidebar", "topic", "epigraph"}
EXERCISES = {"exercise", "exercise-start", "exercise-end", "solution", "solution-start", "solution-end"}
FIGURE_NAMES = {"figure": "Figure", "table": "Table", "code-block": "Listing", "exercise": "Exercise"}

# --------------------------------------------------------------------------------------------
# Where the notebook lives and where it installs from


@dataclass(frozen=True)
class Links:
    """The repository a notebook installs `mlsafety` from and Colab opens it from."""

    repository: str  # https://github.com/<owner>/<repo>
    branch: str = "notebooks"  # the branch the deploy workflow publishes _notebooks/ to
    package_ref: str = "main"  # the git ref mlsafety is installed from when there is no wheel URL
    wheel_url: str = ""  # the published wheel of the library the book was built with

    def __post_init__(self) -> None:
        if not isinstance(self.repository, str) or not REPOSITORY.match(self.repository):
            raise ValueError(
                f"chapter_notebooks_repository must look like https://github.com/<owner>/<repo>, "
                f"got {self.repository!r}"
            )
        for name in ("branch", "package_ref"):
            if not isinstance(getattr(self, name), str) or not re.fullmatch(r"[A-Za-z0-9_./-]+", getattr(self, name)):
                raise ValueError(f"chapter_notebooks_{name} is not a git ref: {getattr(self, name)!r}")

    @property
    def owner_repo(self) -> str:
        return "/".join(REPOSITORY.match(self.repository).groups())  # type: ignore[union-attr]

    def colab_url(self, docname: str) -> str:
        """Colab's URL for the published copy of a page's notebook."""
        return f"{COLAB}/{self.owner_repo}/blob/{self.branch}/{docname}.ipynb"

    def install_requirement(self) -> str:
        if self.wheel_url:
            return f"mlsafety @ {self.wheel_url}"
        return f"mlsafety @ git+https://github.com/{self.owner_repo}@{self.package_ref}"


def wheel_name() -> str:
    """The file name `pip wheel` gives the installed mlsafety (pure Python, any platform)."""
    try:
        return f"mlsafety-{version('mlsafety')}-py3-none-any.whl"
    except PackageNotFoundError:  # not installed: the notebooks fall back to the git install
        return ""


def links_from(values: Any, base: str = "") -> Links:
    """The links that the `chapter_notebooks_*` values ask for (a Sphinx config, or a mapping)."""
    get = values.get if isinstance(values, dict) else lambda name, default: getattr(values, name)
    wheel = wheel_name()
    return Links(
        get("chapter_notebooks_repository", "https://github.com/example/example"),
        get("chapter_notebooks_branch", "notebooks"),
        get("chapter_notebooks_package_ref", "main"),
        f"{base.rstrip('/')}/{WHEEL_DIR}/{wheel}" if base and wheel else "",
    )


def default_links(root: Path = ROOT) -> Links:
    """The links of _config.yml, as the HTML build makes them for a site without an address."""
    try:
        return links_from((book_config(root).get("sphinx") or {}).get("config") or {})
    except ValueError as exc:
        raise BookConfigError(f"{root / '_config.yml'} (sphinx: config:): {exc}") from None


def links_from_config(config) -> Links:
    from sphinx.errors import ConfigError

    try:
        return links_from(config, config.html_baseurl or "")
    except ValueError as exc:
        raise ConfigError(f"_config.yml (sphinx: config:): {exc}") from None


# --------------------------------------------------------------------------------------------
# What the book knows that a standalone notebook cannot compute


@dataclass
class BookContext:
    """Resolved cross-references, glued values and references; empty means plain fallbacks."""

    targets: dict[str, str] = field(default_factory=dict)  # label -> "Fig. 3.1", "Exercise 2.4", a title
    equations: dict[str, str] = field(default_factory=dict)  # equation label -> number "3.2"
    glue: dict[str, str] = field(default_factory=dict)  # glue key -> text/plain the build computed
    entries: Any = None  # pybtex entries (key -> Entry), from references.bib
    page_url: str | None = None  # the chapter online
    title: str = ""  # the chapter's title
    solutions: bool = True  # False in the student edition (book_edition: student): no solutions

    def cite(self, keys: list[str], textual: bool) -> str:
        parts = [self._author_year(key, textual) for key in keys]
        return ", ".join(parts) if textual else f"({'; '.join(parts)})"

    def _author_year(self, key: str, textual: bool) -> str:
        entry = self.entries.get(key) if self.entries is not None else None
        year = str(entry.fields.get("year", "n.d.")) if entry is not None else "n.d."
        people = (entry.persons.get("author") or entry.persons.get("editor") or []) if entry is not None else []
        last = [" ".join(_plain(part) for part in p.rich_prelast_names + p.rich_last_names) for p in people]
        if entry is None:
            authors = key
        elif not last:
            authors = _plain(entry.fields.get("organization", entry.fields.get("title", key)))
        else:
            authors = " and ".join(last) if len(last) <= 2 else f"{last[0]} et al."
        return f"{authors} ({year})" if textual else f"{authors}, {year}"

    def reference_list(self, keys: list[str]) -> str:
        """The cited works as a Markdown list, formatted like a bibliography."""
        known = [k for k in keys if self.entries is not None and k in self.entries]
        lines = []
        if known:
            from pybtex.plugin import find_plugin

            style = find_plugin("pybtex.style.formatting", "unsrt")()
            lines = [e.text.render_as("markdown") for e in style.format_entries(self.entries[k] for k in known)]
        return "\n".join(f"- {line}" for line in lines + [k for k in keys if k not in known])


def _plain(value: Any) -> str:
    """Text of a pybtex rich-text value or a LaTeX string, without braces or macros."""
    from pybtex.richtext import Text

    return str(value if isinstance(value, Text) else Text.from_latex(str(value)))


@cache
def read_bibliography(*paths: Path) -> Any:
    """The entries of .bib files, parsed with pybtex (the parser sphinxcontrib-bibtex uses)."""
    from pybtex.database import BibliographyData, parse_file

    data = BibliographyData()
    for path in paths:
        for key, entry in parse_file(str(path), bib_format="bibtex").entries.items():
            data.add_entry(key, entry)
    return data.entries


# --------------------------------------------------------------------------------------------
# MyST Markdown -> Markdown a notebook renders


class Converter:
    """Rewrites the MyST-only parts of a chapter's Markdown cells; collects citations on the way."""

    def __init__(self, context: BookContext) -> None:
        self.context = context
        self.cited: list[str] = []
        self.md = md_parser()

    # -- inline ------------------------------------------------------------------------------
    def roles(self, text: str) -> str:
        return ROLE.sub(lambda m: self.role(m.group(1), m.group(2)), text)

    def role(self, name: str, content: str) -> str:
        ctx = self.context
        explicit = EXPLICIT.match(content)
        text, target = (explicit.group(1), explicit.group(2)) if explicit else ("", content)
        if name.startswith("cite"):
            keys = [k.strip() for k in content.split(",") if k.strip()]
            self.cited += [k for k in dict.fromkeys(keys) if k not in self.cited]
            return ctx.cite(keys, textual=name in ("cite:t", "cite:ts"))
        if name in ("glue", "glue:text", "glue:any", "glue:md"):
            return self.glued(content.split("::")[-1])
        if name == "numref":
            number = ctx.targets.get(target, target)
            return re.sub(r"%s|\{number\}", lambda _: number.split()[-1], text) if text else number
        reference = text or ctx.targets.get(target, target.split("/")[-1])
        simple = {
            "eq": f"({ctx.equations.get(target, target)})",
            "abbr": content.split(" (")[0],
            "math": f"${content}$",
        }
        simple |= {"sub": f"<sub>{content}</sub>", "sup": f"<sup>{content}</sup>"}
        simple |= dict.fromkeys(("code", "literal", "kbd", "file", "samp"), f"`{content}`")
        simple |= dict.fromkeys(("ref", "doc", "term", "download"), reference)
        return simple.get(name, text or content)

    def glued(self, key: str) -> str:
        key, _, spec = key.rpartition(":") if ":" in key else (key, "", "")
        if key not in self.context.glue:
            return f"`{key}`"
        from myst_nb.core.variables import format_plain_text

        return format_plain_text(self.context.glue[key], spec)

    # -- blocks ------------------------------------------------------------------------------
    def markdown(self, source: str) -> str:
        """Convert a Markdown cell (or a directive's body)."""
        lines = source.splitlines()
        out: list[str] = []
        cursor = 0
        for (start, end), replacement in self.blocks(source):
            if start < cursor:  # nested inside a block already replaced
                continue
            out += [self.roles(line) for line in lines[cursor:start]]
            if replacement is VERBATIM:
                out += lines[start:end]
            elif replacement is not None:
                indent = re.match(r"\s*", lines[start]).group(0)
                out += [indent + line if line else "" for line in replacement.splitlines()]
            cursor = end
        out += [self.roles(line) for line in lines[cursor:]]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")

    def blocks(self, source: str) -> list[tuple[list[int], Any]]:
        """(lines, replacement) of the directives, code and labels in the Markdown: None drops them."""
        found = []
        for token in self.md.parse(source):
            if token.map is None:
                continue
            if token.type in ("fence", "colon_fence") and token.info.strip().startswith("{"):
                found.append((token.map, self.directive(token)))
            elif token.type in ("fence", "code_block"):  # code shown as code: kept as it is
                found.append((token.map, VERBATIM))
            elif token.type in ("myst_target", "myst_line_comment"):
                found.append((token.map, None))
        return found

    def directive(self, token) -> str:
        name, _, argument = token.info.strip()[1:].partition("}")
        name, argument = name.strip(), argument.strip()
        options, _, body = split_options(token.content)
        label = options.get("label", "") if isinstance(options, dict) else ""
        if name in ("code-block", "code", "sourcecode"):
            return f"```{argument}\n{body.rstrip()}\n```"
        if name == "math":
            return self.math_block(label, body.strip())
        if name == "only":
            return self.markdown(body) if "html" in argument or "latex" not in argument else ""
        if name == "bibliography":
            return "**References**\n\n" + self.context.reference_list(self.cited) if self.cited else ""
        if name in EXERCISES:
            return self.exercise_block(name, argument, label, body)
        if name in ("figure", "image"):
            alt = options.get("alt", "") if isinstance(options, dict) else ""
            return f"![{alt}]({self.image_url(argument)})\n\n{self.markdown(body)}".rstrip()
        if name in ADMONITIONS or name.startswith("admonition"):
            title = self.roles(argument) if argument else name.capitalize()
            quoted = textwrap.indent(self.markdown(body), "> ", predicate=lambda _: True)
            return f"> **{title}**\n>\n{quoted}" if name not in ("epigraph", "margin") else quoted
        # anything else (layout directives, glossary, tables): keep its title and content readable
        heading = f"**{self.roles(argument)}**\n\n" if argument else ""
        return heading + self.markdown(body)

    def math_block(self, label: str, math: str) -> str:
        """A {math} block as `$$`, numbered as in the book unless its environment numbers itself."""
        numbered_env = re.search(r"\\begin\{(align|equation|gather|multline|eqnarray)", math)
        equations = self.context.equations
        tag = f" \\tag{{{equations[label]}}}" if label in equations and not numbered_env else ""
        if "\\\\" in math and "\\begin" not in math:
            math = f"\\begin{{split}}\n{math}\n\\end{{split}}"
        return f"$$\n{math}{tag}\n$$"

    def exercise_block(self, name: str, argument: str, label: str, body: str) -> str:
        """An exercise as a bold heading; a solution collapsed (gone in the student edition)."""
        targets = self.context.targets
        if name in ("exercise", "exercise-start"):
            heading = targets.get(label, "Exercise") + (f" ({self.roles(argument)})" if argument else "")
            return f"**{heading}**\n\n{self.markdown(body)}"
        if name not in ("solution", "solution-start") or not self.context.solutions:
            return ""  # the end markers; chapter_notebook has dropped a gated solution's content already
        heading = f"Solution to {targets.get(argument, 'the exercise')}"
        if name == "solution-start":  # the solution's code cells follow as cells of their own
            return f"**{heading}**"
        return f"<details>\n<summary>{heading}</summary>\n\n{self.markdown(body)}\n\n</details>"

    def image_url(self, path: str) -> str:
        if re.match(r"^[a-z]+://", path) or not self.context.page_url:
            return path
        return self.context.page_url.rsplit("/", 1)[0] + "/" + path


# --------------------------------------------------------------------------------------------
# The chapter's notebook


def install_cell(links: Links) -> nbformat.NotebookNode:
    source = f'''\
# Set-up for running this notebook outside the book (on Colab, or in a fresh environment).
import importlib.util
import sys
import types

if importlib.util.find_spec("mlsafety") is None:
    %pip install --quiet "{links.install_requirement()}"
if importlib.util.find_spec("myst_nb") is None:
    import IPython.display

    def glue(name, value, display=True):
        """Stand-in for myst_nb.glue, which puts a computed value into the book's text."""
        if display:
            IPython.display.display(value)

    sys.modules["myst_nb"] = types.SimpleNamespace(glue=glue)'''
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["notebook-setup"]})


def about_cell(links: Links, docname: str, context: BookContext) -> nbformat.NotebookNode:
    title = f"*{context.title}*" if context.title else "This chapter"
    online = f" ([read it online]({context.page_url}))" if context.page_url else ""
    return nbformat.v4.new_markdown_cell(
        f"{title} of *Introduction to ML Safety*{online}, as a notebook "
        f"([open it in Colab]({links.colab_url(docname)})).\n\n"
        "The cell above prepares the environment and does nothing where it is ready: it installs "
        f"the book's library, `mlsafety`, from [the book's repository]({links.repository}) when it "
        "is missing, and, when myst-nb (the book's build tool) is missing, defines `glue`, which "
        "the chapters use to put computed numbers into the book's text, so that it shows them "
        "here instead. Citations, cross-references and exercises are rendered as plain text; "
        "the online book has them with links."
    )


def chapter_notebook(
    path: Path, docname: str, links: Links, context: BookContext | None = None, text: str | None = None
) -> nbformat.NotebookNode | None:
    """The chapter at `path` (or `text`, its content) as a notebook for readers; None if it has no code cells."""
    context = context or BookContext()
    nb = jupytext.reads(path.read_text(encoding="utf-8") if text is None else text, fmt="md:myst")
    if not any(cell.cell_type == "code" for cell in nb.cells):
        return None
    context.title = context.title or notebook_title(nb.cells).strip()
    converter = Converter(context)
    cells = [install_cell(links), about_cell(links, docname, context)]
    for cell in nb.cells if context.solutions else without_gated_solutions(nb.cells):
        source = cell.source if cell.cell_type == "code" else converter.markdown(cell.source)
        if not source.strip() and cell.cell_type != "code":
            continue
        new = (nbformat.v4.new_code_cell if cell.cell_type == "code" else nbformat.v4.new_markdown_cell)(source)
        if cell.metadata.get("tags"):
            new.metadata["tags"] = list(cell.metadata["tags"])
        cells.append(new)
    kernelspec = {"display_name": "Python 3", "language": "python", "name": "python3"}
    metadata = {"kernelspec": kernelspec, "language_info": {"name": "python"}}
    notebook = nbformat.v4.new_notebook(cells=cells, metadata=metadata)
    for i, cell in enumerate(notebook.cells):  # stable ids: the same chapter gives the same file
        cell["id"] = f"cell-{i}"
    nbformat.validate(notebook)
    return notebook


def notebook_title(cells: list, default: str = "") -> str:
    """The text of the first `# ` heading in a notebook's Markdown cells (`default` if there is none)."""
    headings = (re.search(r"^# (.+)$", c.source, re.MULTILINE) for c in cells if c.cell_type == "markdown")
    return next((m.group(1) for m in headings if m), default)


def without_gated_solutions(cells: list) -> list:
    """The cells with everything from a `{solution-start}` fence to its `{solution-end}` block removed.

    A gated solution spans cells (prose, then its code cells, then the end marker), so the student
    edition drops it here, line by line, before the Markdown is converted.
    """
    kept, inside, closing = [], False, False
    for cell in cells:
        if cell.cell_type != "markdown":
            kept += [] if inside else [cell]
            continue
        lines = []
        for line in cell.source.splitlines():
            gate = GATE.match(line)
            if gate and gate.group(2) == "start":
                inside = True
            elif gate and inside:
                closing = True  # the end marker's own closing fence follows
            elif closing and re.match(r"^\s*(`{3,}|:{3,})\s*$", line):
                inside = closing = False
            elif not inside:
                lines.append(line)
        if "\n".join(lines).strip():
            kept.append(nbformat.from_dict({**cell, "source": "\n".join(lines)}))
    return kept


def write_notebook(notebook: nbformat.NotebookNode, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(notebook) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Sphinx: what the build resolved


def resolved_targets(env) -> dict[str, str]:
    """label -> "Fig. 3.1" / "Exercise 2.4" for numbered targets, else the section's title.

    Domain.get_objects() is the std domain's public listing of labels (with their titles); the
    numbers come from env.toc_fignumbers, which Sphinx's own numbering fills.
    """
    fignumbers = env.toc_fignumbers
    targets: dict[str, str] = {}
    for label, title, kind, doc, anchor, _ in env.get_domain("std").get_objects():
        if kind != "label":
            continue
        numbered = [
            (figtype, numbers[anchor]) for figtype, numbers in fignumbers.get(doc, {}).items() if anchor in numbers
        ]
        if numbered:
            figtype, number = numbered[0]
            name = FIGURE_NAMES.get(figtype, figtype.capitalize())  # for a type numfig_format does not word
            targets[label] = env.config.numfig_format.get(figtype, f"{name}\u00a0%s") % ".".join(map(str, number))
        elif title != label:
            targets[label] = title
    return targets


def resolved_equations(app) -> dict[str, str]:
    """equation label -> its number as the book shows it (chapter-numbered with math_numfig).

    The math domain's `equations` is the mapping behind its public `get_equation_number_for`.
    """
    from docutils.nodes import make_id

    equations = {}
    for label, (doc, number) in app.env.get_domain("math").equations.items():
        if app.config.math_numfig and app.config.numfig:
            found = app.env.toc_fignumbers.get(doc, {}).get("displaymath", {}).get(make_id(f"equation-{label}"))
            number = ".".join(map(str, found)) if found else number
        equations[label] = str(number)
    return equations


def glued_values(app, docname: str) -> dict[str, str]:
    """The text/plain of each value the page's code glued, read with myst-nb's own glue cache reader.

    myst-nb has no public API for glued values: it keeps them in `<output_folder>/<docname>.glue.json`
    for its cross-page `{glue}` and reads them with `read_glue_cache`; we call the same function with
    the same folder (no upstream issue asks for a public API yet: CONTRIBUTING.md, "Where the book
    works around other packages"; tests/book/test_notebooks.py fails with a clear message if these
    names change).
    """
    from myst_nb.ext.glue.crossref import read_glue_cache

    data = read_glue_cache(str(app.env.mystnb_config.output_folder), docname)
    return {key: value.get("data", {}).get("text/plain", "") for key, value in data.items()}


def book_context(app, docname: str) -> BookContext:
    """What the build resolved for a page: targets, equation numbers, glued values, references."""
    env, config = app.env, app.config
    bibfiles = tuple(Path(app.srcdir, name) for name in getattr(config, "bibtex_bibfiles", None) or ())
    base = (config.html_baseurl or "").rstrip("/")
    return BookContext(
        resolved_targets(env),
        resolved_equations(app),
        glued_values(app, docname),
        read_bibliography(*bibfiles) if bibfiles else None,
        f"{base}/{docname}.html" if base else None,
        env.titles[docname].astext() if docname in env.titles else "",
        getattr(config, "book_edition", "student") != "student",
    )


# --------------------------------------------------------------------------------------------
# Sphinx: writing the notebooks and linking them


def check_config(app, config) -> None:
    """Take the repository from the deployment (BOOK_REPOSITORY=<owner>/<repo>) when it is set, and
    have `make linkcheck` skip Colab, which opens the notebooks only once the deploy has published them."""
    colab = r"https://colab\.research\.google\.com/"
    config.linkcheck_ignore = [*config.linkcheck_ignore, *([] if colab in config.linkcheck_ignore else [colab])]
    deployed = os.environ.get("BOOK_REPOSITORY", "").strip("/")
    if deployed:
        config.chapter_notebooks_repository = f"https://github.com/{deployed}"
    try:
        links_from_config(config)
    except Exception as exc:
        if not deployed:
            raise
        raise type(exc)(f"{exc} (from the environment variable BOOK_REPOSITORY)") from None


def notebook_path(app, docname: str) -> Path:
    return Path(app.outdir) / NOTEBOOK_DIR / f"{docname}.ipynb"


def write_page_notebook(app, docname: str) -> bool:
    """Convert a page with code cells and write its notebook; False if it has none."""
    source = Path(app.env.doc2path(docname))
    if "kernelspec" not in app.env.metadata.get(docname, {}) or source.suffix != ".md":
        return False
    try:
        notebook = chapter_notebook(source, docname, links_from_config(app.config), book_context(app, docname))
    except Exception as exc:  # a source jupytext or nbformat rejects: name the file, fail the strict build
        message = f"cannot convert this page to a notebook: {type(exc).__name__}: {exc}"
        LOGGER.warning(message, location=docname, type="chapter_notebooks")
        return False
    if notebook is not None:
        write_notebook(notebook, notebook_path(app, docname))
    return notebook is not None


def write_other_notebooks(app, exception) -> None:
    """After the build: the notebooks of pages an incremental build did not rewrite, and the assignments'."""
    if exception is not None or app.builder.format != "html":
        return
    for docname in sorted(app.env.found_docs):
        if not notebook_path(app, docname).exists():
            write_page_notebook(app, docname)
    import assignments  # tools/assignments.py, which imports this module

    # The student edition publishes no solution notebook (book/_ext/editions.py, issue #18).
    out = Path(app.outdir) / NOTEBOOK_DIR / ASSIGNMENT_DIR
    assignments.write_assignments(
        out, Path(app.srcdir), links_from_config(app.config), app.config.book_edition == "instructor"
    )


class AssignmentLinks(SphinxDirective):
    """`{assignment-links} <name>`: the starter notebook's download and "Open in Colab" links, and in the
    instructor edition the solution notebook's download link."""

    required_arguments = 1

    def run(self):
        name = self.arguments[0]
        source = Path(self.env.srcdir) / ASSIGNMENTS / f"{name}.md"
        if not source.is_file():
            raise self.error(f"no assignment source {ASSIGNMENTS}/{name}.md")
        self.env.note_dependency(str(source))
        base = f"{'../' * self.env.docname.count('/')}{NOTEBOOK_DIR}/{ASSIGNMENT_DIR}/{name}"
        colab = links_from_config(self.config).colab_url(f"{ASSIGNMENT_DIR}/{name}")
        items = [("Student notebook (.ipynb)", f"{base}.ipynb"), ("Open in Colab", colab)]
        if self.config.book_edition == "instructor":  # the student edition has no solutions
            items.append(("Solution notebook (.ipynb)", f"{base}-solution.ipynb"))
        para = nodes.paragraph()
        for i, (text, url) in enumerate(items):
            para += [nodes.Text(" · ")] if i else []
            para += nodes.reference(text, text, refuri=url)
        return [para]


def add_buttons(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Write the page's notebook and add its download and Colab links to the header buttons."""
    if doctree is None or not write_page_notebook(app, pagename) or context.get("header_buttons") is None:
        return  # no notebook, or not sphinx-book-theme
    buttons = context["header_buttons"]
    download = {
        "type": "link",
        "url": f"{context['pathto'](NOTEBOOK_DIR, 1)}/{pagename}.ipynb",
        "text": ".ipynb",
        "tooltip": "Download this chapter as a Jupyter notebook",
        "icon": "fas fa-code",
        "label": "download-notebook-button",
    }
    colab = {
        "type": "link",
        "url": links_from_config(app.config).colab_url(pagename),
        "text": "Open in Colab",
        "tooltip": "Run this chapter's code in Google Colab",
        "icon": "_static/images/logo_colab.png",  # shipped by sphinx-book-theme
        "label": "colab-button",
    }
    group = next((b for b in buttons if b.get("label") == "download-buttons"), None)
    if group is None:
        group = dict(type="group", tooltip="Download this page", icon="fas fa-download", buttons=[])
        buttons.append(group | {"label": "download-buttons"})
        group = buttons[-1]
    group["buttons"].insert(0, download)
    launch = dict(type="group", tooltip="Run this chapter as a notebook", icon="fas fa-rocket", buttons=[colab])
    buttons.insert(buttons.index(group), launch | {"label": "launch-buttons"})


def setup(app) -> dict:
    app.add_config_value("chapter_notebooks_repository", "", "html", types=[str])
    app.add_config_value("chapter_notebooks_branch", "notebooks", "html", types=[str])
    app.add_config_value("chapter_notebooks_package_ref", "main", "html", types=[str])
    app.connect("config-inited", check_config)
    # after sphinx-book-theme builds its header buttons (priority 501)
    app.connect("html-page-context", add_buttons, priority=600)
    app.connect("build-finished", write_other_notebooks)
    app.add_directive("assignment-links", AssignmentLinks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
