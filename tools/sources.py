"""How the tools read the book's sources, and the facts they share: one place for each.

- the table of contents, through sphinx-external-toc's own parser (the one Jupyter Book uses),
  as entries in reading order with their `_toc.yml` line (`toc_entries`) or as files (`toc_files`);
- the configuration `_config.yml` (`book_config`) and the MyST Markdown parser it configures
  (`md_parser`: myst-parser's markdown-it set-up with the extensions the book enables);
- the MyST sources git would commit under book/ and notebooks/ (`source_files`), listed or not;
- the block tokens of a page and of its directives' Markdown bodies, with file lines (`walk`); a
  directive's name (`directive`) and options (`split_options`); the directives whose body is not
  Markdown (`NOT_MARKDOWN`); the code cells of a chapter (`code_cells`); the glossary's entries;
- a chapter as the notebook myst-nb executes (`read_notebook`), with the line of each code cell's
  first line of code (`code_cell_lines`);
- the PDF's name, the printed width of a code line, the per-cell execution timeout and a chapter's
  time budget.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("book", "notebooks")  # where the book's MyST sources live
SOURCE_SUFFIXES = (".md", ".ipynb")  # what a toc entry without a suffix may name (Jupyter Book reads both)
CHAPTER_BUDGET_SECONDS = 60  # a chapter's cells on the 2-core machine (`make bench` reports it)

CODE_WIDTH = 88  # characters of a code line that fit one line of the PDF's code blocks (issue #18)
# Directives whose body is not Markdown (code, math, raw text): not parsed for roles and labels.
NOT_MARKDOWN = frozenset(
    "code-cell code code-block sourcecode math raw bibliography literalinclude csv-table toctree eval-rst glue"
    " glue:figure glue:math mermaid solution-end exercise-end".split()
)


# --------------------------------------------------------------------------------------------
# The configuration and the facts it holds


class BookConfigError(Exception):
    """_config.yml cannot be read, or a value the tools read is of the wrong kind; the message says which."""


def book_config(root: Path = ROOT) -> dict:
    """_config.yml as a mapping (empty if it is not one); BookConfigError if it is missing or not YAML."""
    path = root / "_config.yml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or err
        raise BookConfigError(f"{path}: cannot be read ({reason}) — is {root} the book's root folder?") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where, problem = f"{path}:{mark.line + 1}" if mark else str(path), getattr(err, "problem", None) or err
        raise BookConfigError(f"{where}: not valid YAML ({problem}) — fix this line") from None
    return config if isinstance(config, dict) else {}


def pdf_name(root: Path = ROOT) -> str:
    """The whole-book PDF's file name: `latex: latex_documents: targetname` of _config.yml, as .pdf."""
    target = ((book_config(root).get("latex") or {}).get("latex_documents") or {}).get("targetname", "book.tex")
    return str(Path(str(target)).with_suffix(".pdf"))


def cell_timeout(root: Path = ROOT, config: dict | None = None) -> int:
    """Seconds one code cell may run: `execute: timeout` of _config.yml (the build's own limit), or of `config`."""
    config = book_config(root) if config is None else config
    execute = config.get("execute") or {}
    if not isinstance(execute, dict):
        raise BookConfigError(
            f"{root / '_config.yml'}: `execute:` is {execute!r}; it holds settings, e.g. `timeout: 120`"
        )
    value = execute.get("timeout", 30)  # 30: Jupyter Book's default
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BookConfigError(f"{root / '_config.yml'}: `execute: timeout` is {value!r}; give whole seconds, e.g. 120")
    return value


# --------------------------------------------------------------------------------------------
# The table of contents


@dataclass(frozen=True)
class TocEntry:
    key: str  # "root", "file" or "glob"
    name: str  # the docname (no suffix) or the glob pattern, as written
    line: int  # 1-based line in _toc.yml (1 when it cannot be told)
    caption: str | None = None  # the caption of the part it is listed in


def toc_entries(root: Path = ROOT) -> list[TocEntry]:
    """The root, files and globs of _toc.yml in reading order, parsed by sphinx-external-toc.

    Raises OSError, yaml.YAMLError or sphinx_external_toc.parsing.MalformedError for a toc that
    cannot be read.
    """
    from sphinx_external_toc.api import FileItem, GlobItem
    from sphinx_external_toc.parsing import parse_toc_data

    text = (root / "_toc.yml").read_text(encoding="utf-8")
    site_map = parse_toc_data(yaml.safe_load(text))
    lines = _scalar_lines(text)
    entries = [TocEntry("root", site_map.root.docname, lines.get(("root", site_map.root.docname), 1))]

    def walk(docname: str) -> None:
        for tree in site_map[docname].subtrees:
            for item in tree.items:
                if isinstance(item, (GlobItem, FileItem)):
                    key = "glob" if isinstance(item, GlobItem) else "file"
                    entries.append(TocEntry(key, str(item), lines.get((key, str(item)), 1), tree.caption))
                if isinstance(item, FileItem):
                    walk(str(item))

    walk(site_map.root.docname)
    return entries


def _scalar_lines(text: str) -> dict[tuple[str, str], int]:
    """{(key, value): 1-based line} of each `root:`, `file:` and `glob:` in a toc (the first one)."""
    found: dict[tuple[str, str], int] = {}

    def walk(node: yaml.Node) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(value, yaml.ScalarNode) and key.value in ("root", "file", "glob"):
                    found.setdefault((key.value, str(value.value).strip()), value.start_mark.line + 1)
                else:
                    walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item)

    walk(yaml.compose(text, Loader=yaml.SafeLoader))
    return found


def resolve_entry(root: Path, entry: TocEntry) -> list[Path]:
    """The files (relative to root) an entry names: a glob's matches, or the one source it names."""
    if entry.key == "glob":
        return sorted(p.relative_to(root) for s in SOURCE_SUFFIXES for p in root.glob(entry.name + s))
    for suffix in ("", *SOURCE_SUFFIXES):
        candidate = root / f"{entry.name}{suffix}"
        if candidate.is_file() and (suffix or candidate.suffix in SOURCE_SUFFIXES):
            return [candidate.relative_to(root)]
    return []


def toc_files(root: Path = ROOT) -> list[Path]:
    """The sources listed in _toc.yml that exist, in reading order, relative to root."""
    return list(dict.fromkeys(p for entry in toc_entries(root) for p in resolve_entry(root, entry)))


def lecture_chapters(root: Path = ROOT) -> list[Path]:
    """The lecture chapters, book/<part>/<lecture>.md, in the order of _toc.yml."""
    return [p for p in toc_files(root) if p.suffix == ".md" and len(p.parts) >= 3]


def source_files(root: Path = ROOT, excluded=()) -> list[str]:
    """The MyST sources under book/ and notebooks/ that git would commit (so not the generated notebooks),
    minus the fnmatch patterns `excluded` and hidden or `_` folders, sorted (outside a git work tree: all)."""
    files = _git_files(root)
    if files is None:
        dirs = [root / d for d in SOURCE_DIRS if (root / d).is_dir()]
        files = [str(p.relative_to(root)) for d in dirs for p in d.rglob("*") if p.is_file()]
    return [
        rel
        for rel in sorted(files)
        if len(Path(rel).parts) > 1
        and Path(rel).parts[0] in SOURCE_DIRS
        and Path(rel).suffix == ".md"
        and not any(p.startswith((".", "_")) for p in Path(rel).parts[1:])
        and not any(fnmatch.fnmatch(rel, str(pattern)) for pattern in excluded or ())
    ]


def _git_files(root: Path) -> list[str] | None:
    """Files under SOURCE_DIRS git tracks or would add (ignored ones left out); None outside a git work tree."""
    git = ["git", "-C", str(root)]
    try:
        top = subprocess.run([*git, "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=20)
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != root.resolve():
            return None
        ls = [*git, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *SOURCE_DIRS]
        out = subprocess.run(ls, capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    names = out.stdout.decode("utf-8", "replace").split("\0") if out.returncode == 0 else None
    return None if names is None else [name for name in names if name and (root / name).is_file()]


# --------------------------------------------------------------------------------------------
# MyST Markdown


@cache
def _parser(extensions: frozenset[str]):
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    return create_md_parser(MdParserConfig(enable_extensions=set(extensions)), RendererHTML)


def md_parser(config: dict | None = None):
    """myst-parser's markdown-it parser, with the extensions `parse: myst_enable_extensions` of _config.yml
    (that of ROOT by default). Raises an exception naming the extension when one is not a MyST extension."""
    extensions = ((book_config() if config is None else config).get("parse") or {}).get("myst_enable_extensions")
    return _parser(frozenset(map(str, extensions or [])))


def split_options(content: str) -> tuple[dict | str, int, str]:
    """(options, lines they take, body) of a directive; options is an error message if invalid."""
    lines = content.split("\n")
    if lines and lines[0].strip() == "---":
        end = next((k for k in range(1, len(lines)) if lines[k].strip() == "---"), None)
        if end is None:
            return "the `---` block is never closed", 0, content
        try:
            options = yaml.safe_load("\n".join(lines[1:end])) or {}
            options = options if isinstance(options, dict) else "not a mapping"
        except yaml.YAMLError as err:
            options = getattr(err, "problem", None) or "invalid YAML"
        return options, end + 1, "\n".join(lines[end + 1 :])
    matches = list(itertools.takewhile(bool, (re.match(r"^:([\w.-]+):\s*(.*)$", text) for text in lines)))
    return {m[1]: m[2].strip() for m in matches}, len(matches), "\n".join(lines[len(matches) :])


def fence_closed(token, lines: list[str]) -> bool:
    """Whether a fence token ends with its closing fence (an unclosed one runs to its container's end)."""
    last = lines[token.map[1] - 1].strip() if token.map[1] - 1 < len(lines) else ""
    mark = token.markup
    return token.map[1] - token.map[0] >= 2 and last.startswith(mark) and set(last) == {mark[0]}


def directive(token) -> tuple[str, str] | None:
    """(name, argument) of a directive (a ```` ```{name} argument ```` or `:::{name}` fence); None for other tokens."""
    info = token.info.strip() if token.type in ("fence", "colon_fence") else ""
    if not info.startswith("{") or "}" not in info:
        return None
    name, _, argument = info[1:].partition("}")
    return name.strip(), argument.strip()


def walk(text: str, md, offset: int = 0, depth: int = 0):
    """Yield (token, lines, offset, depth) for each block token of MyST `text`, in reading order, and (parsed
    in turn, as MyST does) for those of the Markdown body of each closed directive not in NOT_MARKDOWN:
    `lines` are the lines the token's map counts, `offset` the file line (0-based) of their first, `depth`
    how many directives it is inside."""
    lines = text.splitlines()
    for token in md.parse(text):
        yield token, lines, offset, depth
        named = directive(token)
        if named and named[0] not in NOT_MARKDOWN and depth < 20 and token.map and fence_closed(token, lines):
            _, skip, body = split_options(token.content)
            if body.strip():
                yield from walk(body, md, offset + token.map[0] + 1 + skip, depth + 1)


@dataclass(frozen=True)
class CodeCell:
    line: int  # 1-based line of the opening fence
    first: int  # 1-based line of the first line after the options (where the code starts)
    end: int  # 1-based line of the closing fence (or one past the end of the file)
    options: dict | str  # the cell's options, or an error message if they are invalid
    code: str  # the lines after the options
    closed: bool  # False when the fence is never closed
    fence: str  # the opening fence's backticks


def is_magic(line: str) -> bool:
    """Whether a code line is an IPython magic or shell escape (`%...`, `!...`): not Python."""
    return line.lstrip().startswith(("%", "!"))


def code_cell(token, lines: list[str]) -> CodeCell | None:
    """The `{code-cell}` a fence token of `lines` (the parsed text's lines) is, or None if it is none."""
    if token.type != "fence" or not token.info.strip().startswith("{code-cell}") or token.map is None:
        return None
    options, skip, body = split_options(token.content)
    closed = fence_closed(token, lines)
    return CodeCell(token.map[0] + 1, token.map[0] + 2 + skip, token.map[1], options, body, closed, token.markup)


def code_cells(text: str, config: dict | None = None) -> list[CodeCell]:
    """The top-level `{code-cell}` blocks of a MyST chapter (those myst-nb executes), in order."""
    lines = text.splitlines()
    return [cell for token in md_parser(config).parse(text) if (cell := code_cell(token, lines)) is not None]


def read_notebook(path: Path):
    """Read a MyST notebook exactly as myst-nb does, so the execution cache's keys match."""
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook(path.read_text("utf8"), add_source_map=True, path=str(path))


def code_cell_lines(path: Path, nb) -> dict[int, int]:
    """{notebook cell index: 1-based line in the .md of the cell's first line of code} for code cells."""
    lines = path.read_text("utf8").splitlines()
    found = {}
    for index, (cell, fence) in enumerate(zip(nb.cells, nb.metadata.get("source_map", []), strict=False)):
        if cell.cell_type != "code":
            continue
        first = next((line.rstrip() for line in cell.source.splitlines() if line.strip()), None)
        found[index] = next(
            (k + 1 for k in range(fence, len(lines)) if first is not None and lines[k].rstrip() == first),
            fence,  # the fence itself (source_map is 1-based) if the cell is empty
        )
    return found


def glossary_entries(text: str, config: dict | None = None) -> tuple[list | None, bool, int]:
    """The `{glossary}` directive of a page: ([(terms, line, definition lines)], whether it has `:sorted:`,
    1-based line of the directive); (None, False, 1) if the page has none."""
    tokens = [
        t
        for t in md_parser(config).parse(text)
        if t.type in ("fence", "colon_fence") and t.info.strip() == "{glossary}" and t.map
    ]
    if not tokens:
        return None, False, 1
    options, skipped, body = split_options(tokens[0].content)
    first = tokens[0].map[0] + 2 + skipped  # file line of the body's first line
    entries: list[tuple[list[str], int, list[str]]] = []
    in_definition, was_empty = False, True
    for i, line in enumerate(body.split("\n")):
        if not line.strip():
            was_empty = True
            continue
        if not line[0].isspace():  # a term: a new entry unless it follows another term directly
            if in_definition or not entries or was_empty:
                entries.append(([], first + i, []))
                in_definition = False
            entries[-1][0].append(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", line).strip())
        elif entries:
            entries[-1][2].append(line.strip())
            in_definition = True
        was_empty = False
    return entries, isinstance(options, dict) and "sorted" in options, tokens[0].map[0] + 1
