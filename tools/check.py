"""Fast source checks for the book: no execution, one line per problem.

    python tools/check.py [--root DIR]     (or `make check`)

Every problem is printed as `path:line: what is wrong — how to fix it`; the exit status is 1 when
there is any, and 0 with a one-line summary otherwise. CONTRIBUTING.md explains each message.

What is checked (parsers, not regular expressions, wherever a parser exists):
- `_toc.yml` (sphinx-external-toc's parser, as Jupyter Book reads it; lines from PyYAML): every
  listed file exists; every MyST source under `book/` and `notebooks/` (minus `exclude_patterns`
  of `_config.yml`) is listed.
- the BibTeX files of `_config.yml` (bibtexparser 2): syntax errors, duplicate keys, entries
  without author, title, year or a venue, malformed DOIs and arXiv ids.
- each MyST source (myst-parser's markdown-it parser as _config.yml configures it, nested
  directives included; notebooks are generated, never committed): front matter, unclosed
  directives, `{cite}` keys, learning objectives / readings / exercises in lecture chapters,
  exercises without solutions, duplicate labels, `{ref}` / `{numref}` / `{eq}` targets that no
  page defines, figures without caption or alt text, raw `<script>`, `<iframe>`, `<object>`,
  `<embed>` and inline event handlers (unless allowed in tools/check.yml), code cells that download.
- the glossary (book/glossary.md): every `{term}` is defined, no term twice, entries sorted,
  every entry linked from a chapter, each lecture chapter links at least MIN_TERMS terms.
- `src/mlsafety` against the `# @save` cells (tools/export_package.py, run in-process).

A name that is not found (citation key, label, glossary term, toc entry, exercise) gets "did you
mean `x`?" when a known one is close (difflib).

A *lecture chapter* is a source directly inside a part folder, `book/<part>/<lecture>.md`; pages
directly under `book/` (landing page, bibliography, glossary) and `notebooks/` are not chapters.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import logging
import re
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from sources import NOT_MARKDOWN, fence_closed, md_parser, resolve_entry, split_options, toc_entries  # noqa: E402

SOURCE_DIRS = ("book", "notebooks")
CONFIG_FILE = "tools/check.yml"
TEMPLATE = "tools/chapter-template.md"

DANGEROUS_TAGS = {"script", "iframe", "object", "embed"}
# A venue field, by entry type; a type not listed needs any one of VENUE_ANY.
VENUES = {
    "article": ("journal",),
    "inproceedings": ("booktitle",),
    "incollection": ("booktitle",),
    "inbook": ("booktitle", "publisher"),
    "book": ("publisher",),
    "techreport": ("institution",),
    "phdthesis": ("school",),
    "mastersthesis": ("school",),
}
VENUE_ANY = (
    "journal",
    "booktitle",
    "publisher",
    "institution",
    "school",
    "howpublished",
    "eprint",
    "organization",
    "url",
    "note",
)
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
ARXIV = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")
HEADING_REQUIRED = (("readings", "Readings"), ("exercises", "Exercises"))
GLOSSARY = "book/glossary.md"
CODE_WIDTH = 88  # characters of a code line that fit one line of the PDF's code blocks (issue #18)
MIN_TERMS = 5  # {term} links a lecture chapter makes at least: it marks the terms it introduces
# Labels Sphinx itself defines (`{ref}` may point at them)
SPHINX_LABELS = {"genindex", "modindex", "search"}
REFERENCE_ROLES = {"ref": "label", "numref": "label", "eq": "equation"}
EXPLICIT_TARGET = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.DOTALL)  # `text <target>` in a role
# Calls that fetch data from the network, in a code cell's lines (comments removed). The book runs
# with the network off (tools/offline.py): these fail there, so `make check` names them first.
DOWNLOADS = [
    (re.compile(r"\burllib\.request\b|\bfrom\s+urllib\s+import\s+request\b"), "urllib.request"),
    (re.compile(r"\burlopen\s*\("), "urlopen"),
    (re.compile(r"\burlretrieve\s*\("), "urlretrieve"),
    (re.compile(r"\brequests\.(get|post|request|head)\s*\("), "requests"),
    (re.compile(r"\bhttpx\.(get|post|stream)\s*\("), "httpx"),
    (re.compile(r"\bdownload\s*=\s*True\b"), "download=True"),
    (re.compile(r"^\s*!\s*(wget|curl|gdown|git\s+clone)\b"), "a shell download"),
    (re.compile(r"^\s*[%!]\s*pip3?\s+install\b|^\s*%pip\b"), "pip install"),
    (re.compile(r"\btorch\.hub\.(load|download_url_to_file|load_state_dict_from_url)\s*\("), "torch.hub"),
    (re.compile(r"\.from_pretrained\s*\("), "from_pretrained"),
    (
        re.compile(r"\b(hf_hub_download|snapshot_download|datasets\.load_dataset)\s*\(|\bfrom\s+datasets\s+import\b"),
        "the Hugging Face Hub",
    ),
    (
        re.compile(
            r"\bfetch_(openml|20newsgroups\w*|california_housing|covtype|kddcup99|lfw_\w+|olivetti_faces|rcv1"
            r"|species_distributions)\s*\("
        ),
        "a scikit-learn fetch_* loader",
    ),
]
OFFLINE_FIX = (
    "the book downloads nothing (cells run with the network off): use data bundled with a package "
    "(sklearn.datasets.load_digits), data made in code, or a small file in src/mlsafety/data"
)


@dataclass(order=True, frozen=True)
class Problem:
    path: str
    line: int
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} — {self.fix}"


@dataclass
class Source:
    """A chapter source (MyST Markdown) and the code cells the checks found in it."""

    rel: str
    chapter: bool  # a lecture chapter: needs objectives, readings and exercises
    text: str = ""
    code_cells: list[tuple[int, dict, str]] = field(default_factory=list)  # (1-based line, options, code)
    code_starts: list[int] = field(default_factory=list)  # 1-based line of each code cell's first code line


class Checker:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.cites: list[tuple[str, int, str]] = []  # (path, line, key)
        self.labels: dict[tuple[str, str], tuple[str, int]] = {}  # (kind, name) -> first definition
        self.exercises: list[tuple[str, int, str]] = []
        self.references: list[tuple[str, int, str, str]] = []  # (path, line, role, target)
        self.terms: list[tuple[str, int, str]] = []  # (path, line, target) of each {term}
        self.chapters: dict[str, int] = {}  # lecture chapter -> line of its title
        self.solutions: list[tuple[str, int, str]] = []
        self.allow_html: list[dict] = []
        self.md = None
        self.toc_ok = False
        self.counts = {"sources": 0, "citations": 0, "entries": 0}

    def add(self, path: str, line: int, what: str, fix: str) -> None:
        self.problems.append(Problem(path, max(int(line), 1), what, fix))

    # -- configuration -------------------------------------------------------------------------

    def load_yaml(self, rel: str) -> object | None:
        """A YAML file's content; None (with a problem recorded) if it is missing or invalid."""
        path = self.root / rel
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.add(rel, 1, "file is missing", "restore it from the main branch")
            return None
        except (OSError, UnicodeDecodeError) as err:
            self.add(rel, 1, f"cannot be read as UTF-8 text ({err.__class__.__name__})", "save it as UTF-8 text")
            return None
        try:
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            what = getattr(err, "problem", None) or str(err).splitlines()[0]
            self.add(rel, line, f"not valid YAML ({what})", "fix the indentation or quoting on this line")
            return None

    def load_config(self) -> dict:
        node = self.load_yaml("_config.yml")
        config = to_python(node) if node is not None else {}
        if not isinstance(config, dict):
            self.add("_config.yml", 1, "is not a YAML mapping", "restore it from the main branch")
            config = {}
        if (self.root / CONFIG_FILE).exists():
            node = self.load_yaml(CONFIG_FILE)
            allow = (to_python(node) or {}) if node is not None else {}
            entries = allow.get("allow_html", []) if isinstance(allow, dict) else None
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                self.add(
                    CONFIG_FILE,
                    1,
                    "`allow_html` must be a list of {file, tag, reason} entries",
                    "follow the example at the top of the file",
                )
            else:
                self.allow_html = entries
        return config

    # -- table of contents ---------------------------------------------------------------------

    def check_toc(self, config: dict) -> list[str]:
        """Check _toc.yml; return the listed sources (relative paths), in reading order."""
        node = self.load_yaml("_toc.yml")
        if node is None:
            return []
        if not isinstance(node, yaml.MappingNode):
            self.add("_toc.yml", 1, "is not a YAML mapping", "start from the _toc.yml on the main branch")
            return []
        from sphinx_external_toc.parsing import MalformedError

        try:
            entries = toc_entries(self.root)
        except MalformedError as err:
            self.add(
                "_toc.yml",
                1,
                f"is not a table of contents Jupyter Book can read ({err})",
                "compare it with the _toc.yml on the main branch",
            )
            return []
        self.toc_ok = True
        listed: list[str] = []
        for entry in entries:
            found = [str(p) for p in resolve_entry(self.root, entry)]
            if not found:
                self.report_missing_entry(entry.key, entry.name, entry.line)
            listed.extend(found)
        excluded = [str(p) for p in config.get("exclude_patterns") or []]
        listed_set = set(listed)
        for rel in self.source_files(excluded):
            if rel not in listed_set:
                self.add(
                    rel,
                    1,
                    "this source is not listed in _toc.yml, so it is not in the book",
                    "add it to _toc.yml under its part (or delete it)",
                )
        return list(dict.fromkeys(listed))

    def report_missing_entry(self, key: str, name: str, line: int) -> None:
        if key == "glob":
            self.add("_toc.yml", line, f"glob `{name}` matches no file", "fix the pattern or remove it")
            return
        known = [str(Path(f).with_suffix("")) for f in self.source_files([])]
        self.add(
            "_toc.yml",
            line,
            f"lists `{name}` but neither {name}.md nor {name}.ipynb exists",
            did_you_mean(name, known, "fix the path (no suffix, relative to the repository root) or create the file"),
        )

    def source_files(self, excluded: list[str]) -> list[str]:
        """MyST sources under book/ and notebooks/ that git would commit (notebooks are ignored: generated)."""
        files = git_files(self.root)
        if files is None:
            files = [
                str(p.relative_to(self.root))
                for d in SOURCE_DIRS
                if (self.root / d).is_dir()
                for p in (self.root / d).rglob("*")
                if p.is_file()
            ]
        found = []
        for rel in sorted(files):
            parts = Path(rel).parts
            if (
                len(parts) < 2
                or parts[0] not in SOURCE_DIRS
                or Path(rel).suffix != ".md"
                or any(p.startswith((".", "_")) for p in parts[1:])
            ):
                continue
            if any(fnmatch.fnmatch(rel, pat) for pat in excluded):
                continue
            found.append(rel)
        return found

    # -- bibliography --------------------------------------------------------------------------

    def check_bibtex(self, config: dict) -> set[str] | None:
        """Check the BibTeX files; return every key they define (None if one cannot be read)."""
        import bibtexparser

        logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
        keys: set[str] | None = set()
        for rel in config.get("bibtex_bibfiles") or ["references.bib"]:
            rel = str(rel)
            try:
                text = (self.root / rel).read_text(encoding="utf-8")
            except FileNotFoundError:
                self.add(
                    rel,
                    1,
                    "bibliography file is missing (named in _config.yml `bibtex_bibfiles`)",
                    "restore it, or fix the name in _config.yml",
                )
                keys = None  # without it every citation would be reported as unknown
                continue
            except (OSError, UnicodeDecodeError) as err:
                self.add(rel, 1, f"cannot be read as UTF-8 text ({err.__class__.__name__})", "save it as UTF-8")
                keys = None
                continue
            library = bibtexparser.parse_string(text)
            for block in library.failed_blocks:
                line = block.start_line + 1
                if type(block).__name__ == "DuplicateBlockKeyBlock":
                    self.add(
                        rel,
                        line,
                        f"duplicate BibTeX key `{block.key}`",
                        "delete this copy, or give a different work its own key",
                    )
                else:
                    reason = getattr(block.error, "abort_reason", "") or str(block.error) or "unparsable"
                    self.add(
                        rel,
                        line,
                        f"BibTeX syntax error in this entry ({reason.strip()})",
                        "check its braces, quotes and the commas between fields",
                    )
            for entry in library.entries:
                if keys is not None:
                    keys.add(entry.key)
                self.counts["entries"] += 1
                self.check_entry(rel, entry)
        return keys

    def check_entry(self, rel: str, entry) -> None:
        fields = {f.key.lower(): f for f in entry.fields}
        line = entry.start_line + 1
        for name in ("author", "title", "year"):
            if not str(getattr(fields.get(name), "value", "")).strip():
                if name == "author" and str(getattr(fields.get("editor"), "value", "")).strip():
                    continue
                self.add(
                    rel,
                    line,
                    f"entry `{entry.key}` has no {name}",
                    f"add the {name} field, copied from the paper itself",
                )
        kind = entry.entry_type.lower()
        venues = VENUES.get(kind, VENUE_ANY)
        if not any(str(getattr(fields.get(v), "value", "")).strip() for v in venues):
            self.add(
                rel,
                line,
                f"entry `{entry.key}` (@{kind}) has no venue ({' or '.join(venues)})",
                "add where it was published",
            )
        doi = fields.get("doi")
        if doi is not None:
            value = str(doi.value).strip()
            if not DOI.match(value):
                fix = (
                    "give the bare DOI, without the https://doi.org/ prefix"
                    if "doi.org/" in value
                    else "a DOI looks like 10.1234/abc.5678; copy it from the publisher's page"
                )
                self.add(rel, doi.start_line + 1, f"malformed DOI `{value}` in `{entry.key}`", fix)
        prefix = (
            str(getattr(fields.get("archiveprefix"), "value", "") or getattr(fields.get("eprinttype"), "value", ""))
            .strip()
            .lower()
        )
        for name in ("eprint", "arxiv"):
            item = fields.get(name)
            if item is None or (name == "eprint" and prefix != "arxiv"):
                continue
            value = str(item.value).strip()
            if not ARXIV.match(value):
                self.add(
                    rel,
                    item.start_line + 1,
                    f"malformed arXiv id `{value}` in `{entry.key}`",
                    "an arXiv id looks like 1706.06083 (or hep-th/9901001), without a URL or `arXiv:`",
                )

    # -- sources -------------------------------------------------------------------------------

    def read_source(self, rel: str) -> Source | None:
        path = self.root / rel
        parts = Path(rel).parts
        chapter = len(parts) == 3 and parts[0] == "book" and not parts[1].startswith(("_", "."))
        source = Source(rel, chapter)
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
        except OSError as err:
            self.add(rel, 1, f"cannot be read ({err.strerror})", "check the file's permissions")
            return None
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            self.add(rel, line, "not UTF-8 text (binary or another encoding)", "save the file as UTF-8 text")
            return None
        if "\x00" in text:
            self.add(
                rel,
                text[: text.index("\x00")].count("\n") + 1,
                "contains a NUL byte (binary data)",
                "save the file as plain UTF-8 text",
            )
            return None
        source.text = text
        return source

    def parser(self, config: dict):
        if self.md is None:
            try:
                self.md = md_parser(config)
            except Exception as err:  # an unknown extension name
                self.add(
                    "_config.yml",
                    1,
                    f"myst_enable_extensions is not valid ({err})",
                    "use extension names from the MyST documentation",
                )
                self.md = md_parser({})
        return self.md

    def check_source(self, source: Source, config: dict, bib_keys: set[str] | None) -> None:
        found = Found()
        self.check_front_matter(source, source.text)
        self.walk_markdown(source, source.text, 0, found, depth=0, config=config)
        for (line, options, code), start in zip(source.code_cells, source.code_starts, strict=True):
            self.check_figure_cell(source.rel, line, options, code)
            self.check_downloads(source.rel, start, code)
            self.check_code_width(source.rel, start, code)
        if bib_keys is not None:
            for line, key in found.cites:
                self.counts["citations"] += 1
                if key not in bib_keys:
                    self.add(
                        source.rel,
                        line,
                        f"citation key `{key}` is not in the bibliography",
                        did_you_mean(key, bib_keys, "fix the key, or add the work to references.bib"),
                    )
        if source.chapter:
            title_line = found.title_line or 1
            self.chapters[source.rel] = title_line
            if not found.objectives:
                self.add(
                    source.rel,
                    title_line,
                    'chapter has no "Learning objectives" admonition',
                    f"add one after the title, as in {TEMPLATE}",
                )
            for key, name in HEADING_REQUIRED:
                if key not in found.headings:
                    self.add(
                        source.rel,
                        title_line,
                        f'chapter has no "{name}" section',
                        f"add a `## {name}` section, as in {TEMPLATE}",
                    )

    def check_code_width(self, rel: str, start: int, code: str) -> None:
        """Every code line fits the printed page: wider ones wrap with a ↪ mid-token in the PDF."""
        for number, text in enumerate(code.split("\n")):
            if len(text) > CODE_WIDTH:
                self.add(
                    rel,
                    start + number,
                    f"code line is {len(text)} characters, wider than {CODE_WIDTH} (the PDF would wrap it)",
                    f"break it, or run `.venv/bin/python tools/lint_cells.py --fit {rel}`, which does it for you",
                )

    def check_downloads(self, rel: str, start: int, code: str) -> None:
        """The first line of a code cell that fetches from the network (comments ignored): one problem a cell."""
        for number, text in enumerate(code.split("\n")):
            text = text.split("#", 1)[0] if not text.lstrip().startswith(("!", "%")) else text
            what = next((what for pattern, what in DOWNLOADS if pattern.search(text)), None)
            if what is not None:
                self.add(rel, start + number, f"code cell downloads ({what})", OFFLINE_FIX)
                return

    def check_front_matter(self, source: Source, text: str) -> None:
        lines = text.splitlines()
        if not lines or lines[0].rstrip() != "---":
            if "{code-cell}" in text:
                self.add(
                    source.rel,
                    1,
                    "has code cells but no front matter, so they would not run",
                    f"copy the jupytext/kernelspec front matter from {TEMPLATE}",
                )
            return
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
        if end is None:
            self.add(source.rel, 1, "front matter starts with `---` but never ends", "close it with a line `---`")
            return
        try:
            meta = yaml.safe_load("\n".join(lines[1:end]))
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = (mark.line + 2) if mark is not None else 1
            what = getattr(err, "problem", None) or "invalid YAML"
            self.add(
                source.rel,
                line,
                f"front matter is not valid YAML ({what})",
                f"fix this line; compare with the front matter of {TEMPLATE}",
            )
            return
        if meta is not None and not isinstance(meta, dict):
            self.add(source.rel, 2, "front matter is not a YAML mapping", f"copy it from {TEMPLATE}")
            return
        if "{code-cell}" in text and not (meta or {}).get("kernelspec"):
            self.add(
                source.rel,
                1,
                "has code cells but its front matter has no kernelspec, so they would not run",
                f"copy the jupytext/kernelspec front matter from {TEMPLATE}",
            )

    def walk_markdown(self, source: Source, text: str, offset: int, found: Found, depth: int, config: dict) -> None:
        """Parse Markdown whose first line is line `offset` (0-based) of the file, and record what it uses."""
        rel = source.rel
        lines = text.splitlines()
        tokens = self.parser(config).parse(text)
        for i, token in enumerate(tokens):
            if token.map is None:
                continue
            line = offset + token.map[0] + 1
            kind = token.type
            if kind == "front_matter":
                continue
            if kind == "myst_target":
                self.define(rel, line, "label", token.content.strip())
            elif kind == "math_block_label":
                self.define(rel, line, "equation", token.info.strip())
            elif kind == "heading_open":
                inline = tokens[i + 1]
                heading = inline.content.strip().lower()
                if token.tag == "h1" and found.title_line is None:
                    found.title_line = line
                found.headings.update(k for k, _ in HEADING_REQUIRED if heading.startswith(k))
                if heading.startswith("learning objectives"):
                    found.objectives = True
            elif kind == "inline":
                self.check_inline(rel, token, line, found)
            elif kind in ("html_block",):
                self.check_html(rel, line, token.content)
            elif kind in ("fence", "colon_fence"):
                self.check_fence(source, token, lines, line, offset, found, depth, config)

    def check_inline(self, rel: str, token, line: int, found: Found) -> None:
        for child in token.children or []:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "myst_role":
                self.record_role(rel, child.meta.get("name", ""), child.content, line, found)
                line += child.content.count("\n")
            elif child.type == "html_inline":
                self.check_html(rel, line, child.content)
            elif child.type == "image":
                if not "".join(c.content for c in child.children or []).strip():
                    self.add(
                        rel,
                        line,
                        f"image `{child.attrs.get('src', '')}` has no alt text",
                        "write what it shows between the brackets: ![what it shows](path)",
                    )
            elif child.type == "text":
                line += child.content.count("\n")

    def record_role(self, rel: str, name: str, content: str, line: int, found: Found) -> None:
        """Note the citation keys, cross-reference targets and glossary terms a role names."""
        if name == "cite" or name.startswith("cite:"):
            # sphinxcontrib-bibtex: `key1,key2`, optionally with {pre-text} and {post-text}
            found.cites += [(line, key.strip()) for key in re.sub(r"\{[^}]*\}", "", content).split(",") if key.strip()]
        elif name in REFERENCE_ROLES or name == "term":
            explicit = EXPLICIT_TARGET.match(content)
            target = " ".join((explicit.group(2) if explicit else content).split())
            if name == "term":
                self.terms.append((rel, line, target))
            elif target:
                self.references.append((rel, line, name, target.lstrip("~")))

    def check_fence(
        self, source: Source, token, lines: list[str], line: int, offset: int, found: Found, depth: int, config: dict
    ) -> None:
        rel = source.rel
        info = token.info.strip()
        mark = token.markup
        closed = fence_closed(token, lines)
        if not closed:
            name = info.split()[0] if info else "code"
            self.add(
                rel,
                line,
                f"{name} block opened with {mark} is never closed, so it swallows the rest of the file",
                f"close it with a line {mark} (more backticks than any block nested inside it)",
            )
        if not (info.startswith("{") and "}" in info):
            return
        name, _, argument = info[1:].partition("}")
        name, argument = name.strip(), argument.strip()
        options, body_start, body = split_options(token.content)
        opt_line = line + 1
        if isinstance(options, str):  # an error message
            self.add(
                rel,
                opt_line,
                f"options of `{{{name}}}` are not valid YAML ({options})",
                "fix the indentation between the `---` lines",
            )
            options = {}
        if name == "code-cell":
            source.code_cells.append((line, options, body))
            source.code_starts.append(line + 1 + body_start)
            return
        if name == "raw" and argument.lower() == "html":
            self.check_html(rel, line + 1 + body_start, body)
            return
        if name == "admonition" and argument.lower().startswith("learning objectives"):
            found.objectives = True
        self.check_directive(rel, line, name, argument, options, body)
        if closed and name not in NOT_MARKDOWN and depth < 20 and body.strip():
            self.walk_markdown(source, body, offset + token.map[0] + 1 + body_start, found, depth + 1, config)

    def check_directive(self, rel: str, line: int, name: str, argument: str, options: dict, body: str) -> None:
        """The labels a directive defines; exercises, solutions and figures as the book needs them."""
        if name == "math" and options.get("label"):
            self.define(rel, line, "equation", str(options["label"]))
        elif options.get("label") is not None:
            self.define(rel, line, "label", str(options["label"]))
        if options.get("name") is not None:
            self.define(rel, line, "label", str(options["name"]))
        if name in ("exercise", "exercise-start"):
            label = options.get("label")
            if label is None:
                self.add(
                    rel,
                    line,
                    "exercise has no `:label:`, so no solution can refer to it",
                    "add `:label: ex-<chapter>-<topic>` and a {solution} for it",
                )
            else:
                self.exercises.append((rel, line, str(label)))
        elif name in ("solution", "solution-start"):
            if argument:
                self.solutions.append((rel, line, argument.split()[0]))
            else:
                self.add(
                    rel,
                    line,
                    "solution does not name its exercise",
                    "write the exercise's label after the directive: {solution} ex-...",
                )
        elif name in ("figure", "image"):
            if not str(options.get("alt", "")).strip():
                self.add(
                    rel,
                    line,
                    f"{name} `{argument}` has no alt text",
                    "add an `:alt:` option that says what the figure shows",
                )
            if name == "figure" and not body.strip():
                self.add(
                    rel,
                    line,
                    f"figure `{argument}` has no caption",
                    "write a one-sentence caption as the directive's body",
                )

    def check_figure_cell(self, rel: str, line: int, options: dict, code: str) -> None:
        """A code cell that shows a matplotlib figure needs a caption and alt text in its metadata."""
        mystnb = options.get("mystnb") if isinstance(options.get("mystnb"), dict) else {}
        figure = mystnb.get("figure") if isinstance(mystnb.get("figure"), dict) else {}
        image = mystnb.get("image") if isinstance(mystnb.get("image"), dict) else {}
        if figure.get("name") is not None:
            self.define(rel, line, "label", str(figure["name"]))
        if not (figure or shows_figure(code)):
            return
        if not str(figure.get("caption", "")).strip():
            self.add(
                rel,
                line,
                "code cell shows a figure without a caption",
                f"add `mystnb: figure: {{caption, name}}` to the cell options, as in {TEMPLATE}",
            )
        if not str(image.get("alt", "")).strip():
            self.add(
                rel,
                line,
                "code cell shows a figure without alt text",
                f"add `mystnb: image: {{alt}}` saying what the figure shows, as in {TEMPLATE}",
            )

    def check_html(self, rel: str, line: int, html: str) -> None:
        finder = DangerousHTML()
        try:
            finder.feed(html)
            finder.close()
        except Exception:  # html.parser is lenient; guard against the odd assertion on junk
            return
        for offset, what in finder.found:
            if self.html_allowed(rel, what):
                continue
            label = f"<{what}>" if what in DANGEROUS_TAGS else f"inline event handler `{what}=`"
            self.add(
                rel,
                line + offset,
                f"raw HTML {label} is not allowed in contributed pages",
                f"use a MyST directive or a figure instead, or ask a maintainer to allow it in {CONFIG_FILE}",
            )

    def html_allowed(self, rel: str, what: str) -> bool:
        return any(
            fnmatch.fnmatch(rel, str(e.get("file", ""))) and str(e.get("tag", "")).lower() == what
            for e in self.allow_html
        )

    def define(self, rel: str, line: int, kind: str, name: str) -> None:
        if not name:
            return
        first = self.labels.get((kind, name))
        if first is None:
            self.labels[(kind, name)] = (rel, line)
        else:
            self.add(
                rel,
                line,
                f"{kind} `{name}` is already defined at {first[0]}:{first[1]}",
                "rename one of them (and the references to it)",
            )

    def check_exercises(self) -> None:
        solved = {label for _, _, label in self.solutions}
        known = {label for _, _, label in self.exercises}
        for rel, line, label in (e for e in self.exercises if e[2] not in solved):
            fix = f"add a {{solution}} {label} block after it with a worked answer"
            self.add(rel, line, f"exercise `{label}` has no solution", fix)
        for rel, line, label in (s for s in self.solutions if s[2] not in known):
            fix = did_you_mean(label, known, "use the `:label:` of the exercise it answers")
            self.add(rel, line, f"solution refers to `{label}`, which is no exercise's label", fix)

    def check_references(self) -> None:
        """Every {ref}, {numref} and {eq} names a label, figure name or equation defined in some source."""
        known: dict[str, set[str]] = {"label": set(SPHINX_LABELS), "equation": set()}
        for kind, name in self.labels:
            known.setdefault(kind, set()).add(name.lower() if kind == "label" else name)
        for rel, line, role, target in self.references:
            kind = REFERENCE_ROLES[role]
            if (target.lower() if kind == "label" else target) in known[kind]:
                continue
            where = "an equation's `:label:`" if kind == "equation" else "a `(label)=`, figure `name` or `:label:`"
            self.add(
                rel,
                line,
                f"{{{role}}} target `{target}` is not defined anywhere in the book",
                did_you_mean(target, known[kind], f"fix the name, or define it with {where}"),
            )

    # -- glossary ------------------------------------------------------------------------------

    def check_glossary(self, config: dict) -> None:
        """book/glossary.md against the {term} roles of every page (Sphinx matches terms case-insensitively)."""
        path = self.root / GLOSSARY
        if not path.is_file():
            for rel, line, target in self.terms[:1]:
                self.add(rel, line, f"{{term}} `{target}` has no glossary to point to", f"restore {GLOSSARY}")
            return
        entries, is_sorted, line = self.glossary_entries(path.read_text(encoding="utf-8"), config)
        if entries is None:
            self.add(GLOSSARY, line, "has no {glossary} directive", "restore its ```{glossary} block")
            return
        defined = self.check_glossary_entries(entries, is_sorted)
        self.check_term_links(entries, defined)

    def check_glossary_entries(self, entries: list, is_sorted: bool) -> dict[str, int]:
        """Each term once, with a definition, in alphabetical order; return {term key: line}."""
        defined: dict[str, int] = {}
        for terms, line, definition in entries:
            for term in terms:
                if term_key(term) in defined:
                    self.add(
                        GLOSSARY,
                        line,
                        f"glossary term `{term}` is already defined at line {defined[term_key(term)]}",
                        "merge the two entries (terms match case-insensitively)",
                    )
                defined.setdefault(term_key(term), line)
            if not definition:
                self.add(
                    GLOSSARY, line, f"glossary term `{terms[0]}` has no definition", "indent its definition below it"
                )
        if entries and not is_sorted:
            self.add(GLOSSARY, 1, "the {glossary} directive has no :sorted: option", "add `:sorted:` below it")
        order = [unicodedata.normalize("NFD", terms[0].lower()) for terms, _, _ in entries]
        for before, after, (terms, line, _) in zip(order, order[1:], entries[1:], strict=False):
            if after < before:
                self.add(
                    GLOSSARY,
                    line,
                    f"glossary term `{terms[0]}` is out of alphabetical order (it sorts before `{before}`)",
                    "move it to its place: the source is kept sorted as the page is",
                )
        return defined

    def check_term_links(self, entries: list, defined: dict[str, int]) -> None:
        """Every {term} names an entry, every entry is linked, every chapter links MIN_TERMS terms."""
        used: set[str] = set()
        per_chapter: dict[str, int] = {}
        for rel, line, target in self.terms:
            if term_key(target) not in defined:
                self.add(
                    rel,
                    line,
                    f"{{term}} `{target}` is not in the glossary",
                    did_you_mean(
                        target,
                        [t for terms, _, _ in entries for t in terms],
                        f"add an entry to {GLOSSARY}, or link an existing term with {{term}}`text <term>`",
                    ),
                )
            elif rel != GLOSSARY:
                used.add(term_key(target))
            per_chapter[rel] = per_chapter.get(rel, 0) + 1
        for terms, line, _ in entries:
            if not any(term_key(t) in used for t in terms):
                self.add(
                    GLOSSARY,
                    line,
                    f"no page links the glossary term `{terms[0]}`",
                    "mark its first use with {term} in the chapter that introduces it, or remove the entry",
                )
        for rel, line in self.chapters.items():
            count = per_chapter.get(rel, 0)
            if count < MIN_TERMS:
                self.add(
                    rel,
                    line,
                    f"chapter links only {count} glossary term(s), fewer than {MIN_TERMS}",
                    "mark the first use of each term it introduces with {term}`term` (new terms get an entry"
                    f" in {GLOSSARY})",
                )

    def glossary_entries(self, text: str, config: dict) -> tuple[list | None, bool, int]:
        """([(terms, line, definition lines)], whether `:sorted:` is set, line) of the {glossary} directive."""
        tokens = [
            t
            for t in self.parser(config).parse(text)
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
            if not line[0].isspace():
                if in_definition or not entries or was_empty:
                    entries.append(([], first + i, []))
                    in_definition = False
                entries[-1][0].append(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", line).strip())
            elif entries:
                entries[-1][2].append(line.strip())
                in_definition = True
            was_empty = False
        return entries, isinstance(options, dict) and "sorted" in options, tokens[0].map[0] + 1

    def check_package(self) -> None:
        if not self.toc_ok or not (self.root / "src" / "mlsafety").is_dir():
            return
        import export_package

        try:
            stale = export_package.stale(self.root)
        except (OSError, UnicodeDecodeError):
            return  # an unreadable chapter, already reported
        except export_package.ExportError as err:
            path, line, what = split_location(str(err))
            fix = "fix the saved cell, then run `make package`"
            if " — " in what:
                what, fix = what.split(" — ", 1)
            self.add(path, line, what, fix)
            return
        for message in stale:
            path, _, what = message.partition(": ")
            self.add(
                path, 1, f"the mlsafety package is out of sync: {what}", "run `make package` and commit src/mlsafety"
            )

    def run(self) -> int:
        config = self.load_config()
        listed = self.check_toc(config)
        bib_keys = self.check_bibtex(config)
        excluded = [str(p) for p in config.get("exclude_patterns") or []]
        sources = list(dict.fromkeys(listed + self.source_files(excluded)))
        for rel in sources:
            if not rel.endswith(".md"):  # a notebook is generated, never committed (.gitignore)
                continue
            source = self.read_source(rel)
            if source is None:
                continue
            self.counts["sources"] += 1
            self.check_source(source, config, bib_keys)
        self.check_exercises()
        self.check_references()
        self.check_glossary(config)
        self.check_package()
        return len(self.problems)


@dataclass
class Found:
    cites: list[tuple[int, str]] = field(default_factory=list)
    headings: set[str] = field(default_factory=set)
    objectives: bool = False
    title_line: int | None = None


class DangerousHTML(HTMLParser):
    """Collects (line offset, tag or on* attribute) for active content in a piece of HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        offset = self.getpos()[0] - 1
        if tag in DANGEROUS_TAGS:
            self.found.append((offset, tag))
        self.found.extend((offset, name) for name, _ in attrs if name.startswith("on"))

    handle_startendtag = handle_starttag


def did_you_mean(name: str, known, fix: str) -> str:
    """`fix`, preceded by "did you mean `x`?" when a known name is close to `name`."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
    return f"did you mean `{close[0]}`? Otherwise {fix}" if close else fix


def term_key(term: str) -> str:
    """How Sphinx compares glossary terms: case-insensitive, whitespace-normalised."""
    return " ".join(term.split()).lower()


def to_python(node: yaml.Node | None) -> object:
    return yaml.SafeLoader(" ").construct_document(node) if node is not None else None


def shows_figure(code: str) -> bool:
    """True if a cell calls `plt.show()` (or `<figure>.show()`) at its top level."""
    try:
        tree = ast.parse(code)
    except SyntaxError:  # IPython magics: fall back to the text
        return "plt.show()" in code
    for node in tree.body:
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == "show"
        ):
            return True
    return False


def split_location(message: str) -> tuple[str, int, str]:
    match = re.match(r"^([^:\s]+):(\d+): (.*)$", message, re.S)
    if match:
        return match.group(1), int(match.group(2)), match.group(3)
    path, _, rest = message.partition(": ")
    return path, 1, rest


def git_files(root: Path) -> list[str] | None:
    """Files git tracks or would add (ignored ones left out); None outside a git work tree."""
    try:
        top = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=20
        )
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != root.resolve():
            return None
        out = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
                "--",
                *SOURCE_DIRS,
            ],
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return [name for name in out.stdout.decode("utf-8", "replace").split("\0") if name and (root / name).is_file()]


def check(root: Path) -> tuple[list[Problem], dict]:
    checker = Checker(root)
    checker.run()
    return sorted(set(checker.problems), key=lambda p: (p.path, p.line, p.what)), checker.counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="project root (default: this checkout)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    root = args.root.resolve()
    try:
        problems, counts = check(root)
    except Exception as err:  # a bug in the check itself, never the contributor's fault
        print(
            f"tools/check.py:1: the check itself failed ({type(err).__name__}: {err}) — "
            "please report this with the file you changed",
            file=sys.stderr,
        )
        return 2
    elapsed = time.perf_counter() - start
    for problem in problems:
        print(problem)
    if problems:
        files = len({p.path for p in problems})
        print(f"check: {len(problems)} problem(s) in {files} file(s) ({elapsed:.1f} s)", file=sys.stderr)
        return 1
    print(
        f"check: {counts['sources']} sources, {counts['citations']} citations, {counts['entries']} "
        f"BibTeX entries — no problems ({elapsed:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
