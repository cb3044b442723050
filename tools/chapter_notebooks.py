"""Each chapter as a Jupyter notebook: a Sphinx extension and the converter it uses.

For every page with code cells, the HTML build writes `<html>/_notebooks/<docname>.ipynb`,
converted from the MyST source with jupytext, and adds to the page's header a download link and
an "Open in Colab" link. The notebook:

- starts with a short code cell that installs `mlsafety` from the book's repository only when
  `import mlsafety` would fail (as on Colab), and stands in for `myst_nb.glue` when myst-nb is
  missing (chapters glue computed numbers into the prose; a notebook shows them instead);
- has no outputs, and only the cell metadata a reader needs (tags);
- turns what only the book renders into plain Markdown: citations become "Author (Year)" with a
  reference list, cross-references the section title, figure, exercise or equation number,
  glued values the number the book build computed, admonitions block quotes, exercises bold
  headings and solutions collapsible `<details>`, labels and comments are dropped.

Colab opens notebooks from GitHub only (`/github/<owner>/<repo>/blob/<branch>/<path>`), and the
generated notebooks are not committed: the deploy workflow publishes `_build/html/_notebooks/`
as the root of the branch named by `chapter_notebooks_branch`.

Configuration (`sphinx: config:` in _config.yml):
    chapter_notebooks_repository   https://github.com/<owner>/<repo> (required)
    chapter_notebooks_branch       branch holding the published notebooks (default "notebooks")
    chapter_notebooks_package_ref  git ref the install cell installs mlsafety from when the site has
                                   no address (default "main")

Where the site is published, both addresses follow the deployment rather than the configuration:
the environment variable BOOK_REPOSITORY (`<owner>/<repo>`, set by the deploy workflow from the
repository it runs in) replaces chapter_notebooks_repository, and when the site has an address
(`html.baseurl`, or BOOK_BASEURL) the install cell installs the wheel that the deploy publishes
beside the pages (`make wheel` writes `_build/html/_wheels/mlsafety-<version>-py3-none-any.whl`),
so a notebook installs exactly the library its chapter was built with.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from sphinx.util import logging

from sources import md_parser, split_options

LOGGER = logging.getLogger(__name__)

NOTEBOOK_DIR = "_notebooks"
WHEEL_DIR = "_wheels"  # beside the pages; the Makefile's `wheel` target writes the wheel there
COLAB = "https://colab.research.google.com/github"
REPOSITORY = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")
ROLE = re.compile(r"(?<!`)\{([A-Za-z][\w:.-]*)\}`([^`]*)`")  # not inside a code span
EXPLICIT = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.DOTALL)  # `text <target>` in a role
VERBATIM = object()  # marks a block copied unchanged
ADMONITIONS = {
    "note",
    "tip",
    "hint",
    "important",
    "warning",
    "caution",
    "attention",
    "danger",
    "error",
    "seealso",
    "admonition",
    "margin",
    "sidebar",
    "topic",
    "epigraph",
}


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
        if not REPOSITORY.match(self.repository):
            raise ValueError(
                f"chapter_notebooks_repository must look like https://github.com/<owner>/<repo>, "
                f"got {self.repository!r}"
            )
        for name in ("branch", "package_ref"):
            if not re.fullmatch(r"[A-Za-z0-9_./-]+", getattr(self, name)):
                raise ValueError(f"chapter_notebooks_{name} is not a git ref: {getattr(self, name)!r}")

    @property
    def owner_repo(self) -> str:
        owner, repo = REPOSITORY.match(self.repository).groups()  # type: ignore[union-attr]
        return f"{owner}/{repo}"

    def colab_url(self, docname: str) -> str:
        """Colab's URL for the published copy of a chapter's notebook."""
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


# --------------------------------------------------------------------------------------------
# What the book knows that a standalone notebook cannot compute


@dataclass
class BookContext:
    """Resolved cross-references, glued values and references; empty means plain fallbacks."""

    targets: dict[str, str] = field(default_factory=dict)  # label -> "Figure 3.1", "Exercise 2.4", a title
    equations: dict[str, str] = field(default_factory=dict)  # equation label -> number "3.2"
    glue: dict[str, str] = field(default_factory=dict)  # glue key -> text/plain the build computed
    entries: Any = None  # pybtex entries (key -> Entry), from references.bib
    page_url: str | None = None  # the chapter online
    title: str = ""  # the chapter's title
    solutions: bool = True  # False in the student edition (book_edition: student): no solutions

    def cite(self, keys: str, textual: bool) -> str:
        parts = []
        for key in (k.strip() for k in keys.split(",") if k.strip()):
            authors, year = self._author_year(key)
            parts.append(f"{authors} ({year})" if textual else f"{authors}, {year}")
        return ", ".join(parts) if textual else f"({'; '.join(parts)})"

    def _author_year(self, key: str) -> tuple[str, str]:
        entry = self.entries.get(key) if self.entries is not None else None
        if entry is None:
            return key, "n.d."
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        last = [" ".join(_plain(part) for part in p.rich_prelast_names + p.rich_last_names) for p in people]
        if not last:
            authors = _plain(entry.fields.get("organization", entry.fields.get("title", key)))
        elif len(last) == 1:
            authors = last[0]
        elif len(last) == 2:
            authors = f"{last[0]} and {last[1]}"
        else:
            authors = f"{last[0]} et al."
        return authors, str(entry.fields.get("year", "n.d."))

    def reference_list(self, keys: list[str]) -> str:
        """The cited works as a Markdown list, formatted like a bibliography."""
        if self.entries is None or not keys:
            return "\n".join(f"- {key}" for key in keys)
        from pybtex.plugin import find_plugin

        style = find_plugin("pybtex.style.formatting", "unsrt")()
        known = [k for k in keys if k in self.entries]
        lines = [
            f"- {entry.text.render_as('markdown')}" for entry in style.format_entries(self.entries[k] for k in known)
        ]
        return "\n".join(lines + [f"- {k}" for k in keys if k not in self.entries])


def _plain(value: Any) -> str:
    """Text of a pybtex rich-text value or a LaTeX string, without braces or macros."""
    from pybtex.richtext import Text

    return str(value if isinstance(value, Text) else Text.from_latex(str(value)))


def read_bibliography(path: Path) -> Any:
    """references.bib parsed with pybtex (the parser sphinxcontrib-bibtex uses)."""
    from pybtex.database import parse_file

    return parse_file(str(path), bib_format="bibtex").entries


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
            self.cited += [k for k in keys if k not in self.cited]
            return ctx.cite(content, textual=name in ("cite:t", "cite:ts"))
        if name in ("glue", "glue:text", "glue:any", "glue:md"):
            key = content.split("::")[-1]
            key, _, spec = key.rpartition(":") if ":" in key else (key, "", "")
            if key in ctx.glue:
                from myst_nb.core.variables import format_plain_text

                return format_plain_text(ctx.glue[key], spec)
            return f"`{key}`"
        if name == "eq":
            return f"({ctx.equations[target]})" if target in ctx.equations else f"({target})"
        if name == "numref":
            number = ctx.targets.get(target, target)
            if text:
                return text.replace("%s", number.split()[-1]).replace("{number}", number.split()[-1])
            return number
        if name in ("ref", "doc", "term", "download", "abbr"):
            if name == "abbr":
                return content.split(" (")[0]
            return text or ctx.targets.get(target, target.split("/")[-1])
        if name == "math":
            return f"${content}$"
        if name in ("sub", "sup"):
            return f"<{name}>{content}</{name}>"
        if name in ("code", "literal", "kbd", "file", "samp"):
            return f"`{content}`"
        return text or content

    # -- blocks ------------------------------------------------------------------------------
    def markdown(self, source: str) -> str:
        """Convert a Markdown cell (or a directive's body)."""
        lines = source.splitlines()
        blocks = []
        for token in self.md.parse(source):
            if token.map is None:
                continue
            if token.type in ("fence", "colon_fence") and token.info.strip().startswith("{"):
                blocks.append((token.map, self.directive(token)))
            elif token.type in ("fence", "code_block"):  # code shown as code: kept as it is
                blocks.append((token.map, VERBATIM))
            elif token.type in ("myst_target", "myst_line_comment"):
                blocks.append((token.map, None))
        out: list[str] = []
        cursor = 0
        for (start, end), replacement in blocks:
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

    def directive(self, token) -> str:
        name, _, argument = token.info.strip()[1:].partition("}")
        name, argument = name.strip(), argument.strip()
        options, _, body = split_options(token.content)
        options = options if isinstance(options, dict) else {}
        ctx = self.context
        if name == "code-block" or name in ("code", "sourcecode"):
            return f"```{argument}\n{body.rstrip()}\n```"
        if name == "math":
            return self.math_block(options.get("label", ""), body.strip())
        if name == "only":
            return self.markdown(body) if "html" in argument or "latex" not in argument else ""
        if name == "bibliography":
            if not self.cited:
                return ""
            return "**References**\n\n" + ctx.reference_list(self.cited)
        if name in ("exercise", "exercise-start", "exercise-end", "solution", "solution-start", "solution-end"):
            return self.exercise_block(name, argument, options.get("label", ""), body)
        if name in ("figure", "image"):
            alt = options.get("alt", "")
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
            heading = targets.get(label, "Exercise")
            heading += f" ({self.roles(argument)})" if argument else ""
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
# The notebook


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
    path: Path, docname: str, links: Links, context: BookContext | None = None
) -> nbformat.NotebookNode | None:
    """The chapter at `path` as a notebook for readers, or None if it has no code cells."""
    context = context or BookContext()
    nb = jupytext.read(path, fmt="md:myst")
    if not any(cell.cell_type == "code" for cell in nb.cells):
        return None
    if not context.title:
        context.title = notebook_title(nb.cells).strip()
    converter = Converter(context)
    cells = [install_cell(links), about_cell(links, docname, context)]
    for cell in nb.cells if context.solutions else without_gated_solutions(nb.cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(cell.source)
        else:
            source = converter.markdown(cell.source)
            if not source.strip():
                continue
            new = nbformat.v4.new_markdown_cell(source)
        if tags:
            new.metadata["tags"] = list(tags)
        cells.append(new)
    notebook = nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    for i, cell in enumerate(notebook.cells):  # stable ids: the same chapter gives the same file
        cell["id"] = f"cell-{i}"
    nbformat.validate(notebook)
    return notebook


def notebook_title(cells: list, default: str = "") -> str:
    """The text of the first `# ` heading in a notebook's Markdown cells (`default` if there is none)."""
    headings = (re.search(r"^# (.+)$", c.source, re.MULTILINE) for c in cells if c.cell_type == "markdown")
    return next((m.group(1) for m in headings if m), default)


GATE = re.compile(r"^\s*(`{3,}|:{3,})\{solution-(start|end)\}")


def without_gated_solutions(cells: list) -> list:
    """The cells with everything from a `{solution-start}` fence to its `{solution-end}` block removed.

    A gated solution spans cells (prose, then its code cells, then the end marker), so the student
    edition drops it here, line by line, before the Markdown is converted.
    """
    kept, inside, closing = [], False, False
    for cell in cells:
        if cell.cell_type != "markdown":
            if not inside:
                kept.append(cell)
            continue
        lines = []
        for line in cell.source.splitlines():
            gate = GATE.match(line)
            if gate and gate.group(2) == "start":
                inside = True
            elif gate and gate.group(2) == "end" and inside:
                closing = True  # the end marker's own closing fence follows
            elif closing and re.match(r"^\s*(`{3,}|:{3,})\s*$", line):
                inside = closing = False
            elif not inside:
                lines.append(line)
        if lines and "\n".join(lines).strip():
            copy = nbformat.from_dict(dict(cell))
            copy.source = "\n".join(lines)
            kept.append(copy)
    return kept


def write_notebook(notebook: nbformat.NotebookNode, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(notebook) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Sphinx


def book_context(app, docname: str) -> BookContext:
    """What the build resolved for a page: targets, equation numbers, glued values, references."""
    env = app.env
    fignumbers = env.toc_fignumbers
    names = {"figure": "Figure", "table": "Table", "code-block": "Listing", "exercise": "Exercise"}
    targets: dict[str, str] = {}
    std = env.get_domain("std")
    for label, (doc, labelid) in std.anonlabels.items():
        number = next(
            (
                (names.get(kind, kind.capitalize()), numbers[labelid])
                for kind, numbers in fignumbers.get(doc, {}).items()
                if labelid in numbers
            ),
            None,
        )
        if number:
            targets[label] = f"{number[0]} {'.'.join(map(str, number[1]))}"
        elif label in std.labels:
            targets[label] = std.labels[label][2]
    for label, info in getattr(env, "sphinx_exercise_registry", {}).items():
        numbers = fignumbers.get(info["docname"], {}).get("exercise", {})
        if label in numbers:
            targets[label] = f"Exercise {'.'.join(map(str, numbers[label]))}"
    equations: dict[str, str] = {}
    from docutils.nodes import make_id

    for label, (doc, number) in env.get_domain("math").equations.items():
        if app.config.math_numfig and app.config.numfig:
            found = fignumbers.get(doc, {}).get("displaymath", {}).get(make_id(f"equation-{label}"))
            if found:
                number = ".".join(map(str, found))
        equations[label] = str(number)
    glue_file = Path(app.outdir).parent / "jupyter_execute" / f"{docname}.glue.json"
    glue = {}
    if glue_file.exists():
        glue = {
            k: v.get("data", {}).get("text/plain", "")
            for k, v in json.loads(glue_file.read_text(encoding="utf-8")).items()
        }
    try:
        entries = env.get_domain("cite").bibdata.data.entries
    except Exception:  # sphinxcontrib-bibtex not loaded
        entries = None
    base = (app.config.html_baseurl or "").rstrip("/")
    page_url = f"{base}/{docname}.html" if base else None
    title = env.titles[docname].astext() if docname in env.titles else ""
    solutions = getattr(app.config, "book_edition", "student") != "student"
    return BookContext(targets, equations, glue, entries, page_url, title, solutions)


def links_from_config(config) -> Links:
    from sphinx.errors import ConfigError

    base = (config.html_baseurl or "").rstrip("/")
    wheel = wheel_name()
    try:
        return Links(
            config.chapter_notebooks_repository,
            config.chapter_notebooks_branch,
            config.chapter_notebooks_package_ref,
            f"{base}/{WHEEL_DIR}/{wheel}" if base and wheel else "",
        )
    except ValueError as exc:
        raise ConfigError(f"_config.yml (sphinx: config:): {exc}") from None


def check_config(app, config) -> None:
    """Take the repository from the deployment (BOOK_REPOSITORY=<owner>/<repo>) when it is set."""
    if os.environ.get("BOOK_REPOSITORY"):
        config.chapter_notebooks_repository = f"https://github.com/{os.environ['BOOK_REPOSITORY'].strip('/')}"
    try:
        links_from_config(config)
    except Exception as exc:
        if os.environ.get("BOOK_REPOSITORY"):
            raise type(exc)(f"{exc} (from the environment variable BOOK_REPOSITORY)") from None
        raise


def notebook_path(app, docname: str) -> Path:
    return Path(app.outdir) / NOTEBOOK_DIR / f"{docname}.ipynb"


def write_page_notebook(app, docname: str) -> bool:
    """Convert a page with code cells and write its notebook; False if it has none."""
    if "kernelspec" not in app.env.metadata.get(docname, {}):
        return False
    source = Path(app.env.doc2path(docname))
    if source.suffix != ".md":
        return False
    try:
        notebook = chapter_notebook(source, docname, links_from_config(app.config), book_context(app, docname))
    except Exception as exc:  # a source jupytext or nbformat rejects: name the file, fail the strict build
        LOGGER.warning(
            f"cannot convert this page to a notebook: {type(exc).__name__}: {exc}",
            location=docname,
            type="chapter_notebooks",
        )
        return False
    if notebook is None:
        return False
    write_notebook(notebook, notebook_path(app, docname))
    return True


def write_missing_notebooks(app, exception) -> None:
    """After an incremental build, write the notebooks of pages that were not rewritten."""
    if exception is not None or app.builder.format != "html":
        return
    for docname in sorted(app.env.found_docs):
        if not notebook_path(app, docname).exists():
            write_page_notebook(app, docname)


def add_notebook(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Write the page's notebook and add its download and Colab links to the header buttons."""
    if doctree is None or not write_page_notebook(app, pagename):
        return
    links = links_from_config(app.config)
    buttons = context.get("header_buttons")
    if buttons is None:  # not sphinx-book-theme
        return
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
        "url": links.colab_url(pagename),
        "text": "Open in Colab",
        "tooltip": "Run this chapter's code in Google Colab",
        "icon": "_static/images/logo_colab.png",  # shipped by sphinx-book-theme
        "label": "colab-button",
    }
    group = next((b for b in buttons if b.get("label") == "download-buttons"), None)
    if group is not None:
        group["buttons"].insert(0, download)
        position = buttons.index(group)
    else:
        buttons.append(
            {
                "type": "group",
                "tooltip": "Download this page",
                "icon": "fas fa-download",
                "buttons": [download],
                "label": "download-buttons",
            }
        )
        position = len(buttons) - 1
    buttons.insert(
        position,
        {
            "type": "group",
            "tooltip": "Run this chapter as a notebook",
            "icon": "fas fa-rocket",
            "buttons": [colab],
            "label": "launch-buttons",
        },
    )


def setup(app) -> dict:
    app.add_config_value("chapter_notebooks_repository", "", "html", types=[str])
    app.add_config_value("chapter_notebooks_branch", "notebooks", "html", types=[str])
    app.add_config_value("chapter_notebooks_package_ref", "main", "html", types=[str])
    app.connect("config-inited", check_config)
    # after sphinx-book-theme builds its header buttons (priority 501)
    app.connect("html-page-context", add_notebook, priority=600)
    app.connect("build-finished", write_missing_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
