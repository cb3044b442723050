"""Fast source checks for the book: no execution, one line per problem.

    python tools/check.py [--root DIR]     (or `make check`)

Every problem is printed as `path:line: what is wrong — how to fix it` (MESSAGES below; CONTRIBUTING.md explains
each), "did you mean `x`?" added when a name is close to a known one; the exit status is 1 when there is any, and
0 with a one-line summary otherwise. The sources are read through tools/sources.py (the toc, the MyST parser, code
cells, the glossary), the BibTeX files with bibtexparser 2, and `src/mlsafety` is compared with the `# @save`
cells by tools/export_package.py. A *lecture chapter* is a source directly inside a part folder,
`book/<part>/<lecture>.md`: only lecture chapters need objectives, readings, exercises and glossary links.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import logging
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from string import Template

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import sources  # noqa: E402

CONFIG_FILE = "tools/check.yml"
TEMPLATE = "tools/chapter-template.md"
GLOSSARY = "book/glossary.md"
CODE_WIDTH = sources.CODE_WIDTH
MIN_TERMS = 5  # {term} links a lecture chapter makes at least: it marks the terms it introduces
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
VENUE_ANY = tuple("journal booktitle publisher institution school howpublished eprint organization url note".split())
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
ARXIV = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")
HEADING_REQUIRED = (("readings", "Readings"), ("exercises", "Exercises"))
SPHINX_LABELS = {"genindex", "modindex", "search"}  # labels Sphinx itself defines (`{ref}` may point at them)
REFERENCE_ROLES = {"ref": "label", "numref": "label", "eq": "equation"}
EXPLICIT_TARGET = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.DOTALL)  # `text <target>` in a role
# Calls that fetch data from the network, in a code cell's lines (comments removed), first match named. The
# book runs with the network off (tools/offline.py): these fail there, so `make check` names them first.
DOWNLOADS = {
    what: re.compile(pattern)
    for what, pattern in {
        "urllib.request": r"\burllib\.request\b|\bfrom\s+urllib\s+import\s+request\b",
        "urlopen": r"\burlopen\s*\(",
        "urlretrieve": r"\burlretrieve\s*\(",
        "requests": r"\brequests\.(get|post|request|head)\s*\(",
        "httpx": r"\bhttpx\.(get|post|stream)\s*\(",
        "download=True": r"\bdownload\s*=\s*True\b",
        "a shell download": r"^\s*!\s*(wget|curl|gdown|git\s+clone)\b",
        "pip install": r"^\s*[%!]\s*pip3?\s+install\b|^\s*%pip\b",
        "torch.hub": r"\btorch\.hub\.(load|download_url_to_file|load_state_dict_from_url)\s*\(",
        "from_pretrained": r"\.from_pretrained\s*\(",
        "the Hugging Face Hub": r"\b(hf_hub_download|snapshot_download|datasets\.load_dataset)\s*\("
        r"|\bfrom\s+datasets\s+import\b",
        "a scikit-learn fetch_* loader": r"\bfetch_(openml|20newsgroups\w*|california_housing|covtype|kddcup99|lfw_\w+"
        r"|olivetti_faces|rcv1|species_distributions)\s*\(",
    }.items()
}
OFFLINE_FIX = (
    "the book downloads nothing (cells run with the network off): use data bundled with a package "
    "(sklearn.datasets.load_digits), data made in code, or a small file in src/mlsafety/data"
)
# Every message, `what is wrong — how to fix it`, as a string.Template: `$name` fields come from `Checker.add`
# ($path, $template, $glossary, $config, $width and $min_terms always). CONTRIBUTING.md's table lists each.
MESSAGES = {
    "missing": "file is missing — restore it from the main branch",
    "not-utf8-file": "cannot be read as UTF-8 text ($error) — save it as UTF-8 text",
    "not-yaml": "not valid YAML ($problem) — fix the indentation or quoting on this line",
    "config-shape": "is not a YAML mapping — restore it from the main branch",
    "allow-shape": "`allow_html` must be a list of {file, tag, reason} entries — follow the example at the top of"
    " the file",
    "toc-shape": "is not a YAML mapping — start from the _toc.yml on the main branch",
    "toc-malformed": "is not a table of contents Jupyter Book can read ($error) — compare it with the _toc.yml on the"
    " main branch",
    "unlisted": "this source is not listed in _toc.yml, so it is not in the book — add it to _toc.yml under its part"
    " (or delete it)",
    "empty-glob": "glob `$name` matches no file — fix the pattern or remove it",
    "no-toc-file": "lists `$name` but neither $name.md nor $name.ipynb exists — fix the path (no suffix, relative to"
    " the repository root) or create the file",
    "no-bibfile": "bibliography file is missing (named in _config.yml `bibtex_bibfiles`) — restore it, or fix the name"
    " in _config.yml",
    "bib-duplicate": "duplicate BibTeX key `$key` — delete this copy, or give a different work its own key",
    "bib-syntax": "BibTeX syntax error in this entry ($reason) — check its braces, quotes and the commas between"
    " fields",
    "no-field": "entry `$key` has no $field — add the $field field, copied from the paper itself",
    "no-venue": "entry `$key` (@$kind) has no venue ($venues) — add where it was published",
    "doi-url": "malformed DOI `$value` in `$key` — give the bare DOI, without the https://doi.org/ prefix",
    "doi": "malformed DOI `$value` in `$key` — a DOI looks like 10.1234/abc.5678; copy it from the publisher's page",
    "arxiv": "malformed arXiv id `$value` in `$key` — an arXiv id looks like 1706.06083 (or hep-th/9901001), without"
    " a URL or `arXiv:`",
    "unreadable": "cannot be read ($error) — check the file's permissions",
    "not-utf8": "not UTF-8 text (binary or another encoding) — save the file as UTF-8 text",
    "nul": "contains a NUL byte (binary data) — save the file as plain UTF-8 text",
    "timeout": "`execute: timeout` is $value, not a whole number of seconds — give the seconds one code cell may"
    " run, e.g. 120 (the build stops a cell that runs longer)",
    "extensions": "myst_enable_extensions is not valid ($error) — use extension names from the MyST documentation",
    "cite": "citation key `$name` is not in the bibliography — fix the key, or add the work to references.bib",
    "no-objectives": 'chapter has no "Learning objectives" admonition — add one after the title, as in $template',
    "no-section": 'chapter has no "$name" section — add a `## $name` section, as in $template',
    "wide-code": "code line is $length characters, wider than $width (the PDF would wrap it) — break it, or run"
    " `.venv/bin/python tools/lint_cells.py --fit $path`, which does it for you",
    "download": f"code cell downloads ($what) — {OFFLINE_FIX}",
    "no-front-matter": "has code cells but no front matter, so they would not run — copy the jupytext/kernelspec"
    " front matter from $template",
    "front-matter-open": "front matter starts with `---` but never ends — close it with a line `---`",
    "front-matter-yaml": "front matter is not valid YAML ($problem) — fix this line; compare with the front matter of"
    " $template",
    "front-matter-shape": "front matter is not a YAML mapping — copy it from $template",
    "no-kernelspec": "has code cells but its front matter has no kernelspec, so they would not run — copy the"
    " jupytext/kernelspec front matter from $template",
    "image-alt": "image `$src` has no alt text — write what it shows between the brackets: ![what it shows](path)",
    "unclosed": "$name block opened with $mark is never closed, so it swallows the rest of the file — close it with a"
    " line $mark (more backticks than any block nested inside it)",
    "options": "options of `{$name}` are not valid YAML ($error) — fix the indentation between the `---` lines",
    "exercise-label": "exercise has no `:label:`, so no solution can refer to it — add `:label: ex-<chapter>-<topic>`"
    " and a {solution} for it",
    "solution-name": "solution does not name its exercise — write the exercise's label after the directive:"
    " {solution} ex-...",
    "figure-alt": "$name `$argument` has no alt text — add an `:alt:` option that says what the figure shows",
    "figure-caption": "figure `$argument` has no caption — write a one-sentence caption as the directive's body",
    "cell-caption": "code cell shows a figure without a caption — add `mystnb: figure: {caption, name}` to the cell"
    " options, as in $template",
    "cell-alt": "code cell shows a figure without alt text — add `mystnb: image: {alt}` saying what the figure shows,"
    " as in $template",
    "html": "raw HTML $what is not allowed in contributed pages — use a MyST directive or a figure instead, or ask a"
    " maintainer to allow it in $config",
    "defined-twice": "$kind `$name` is already defined at $first — rename one of them (and the references to it)",
    "unsolved": "exercise `$name` has no solution — add a {solution} $name block after it with a worked answer",
    "solution-target": "solution refers to `$name`, which is no exercise's label — use the `:label:` of the exercise it"
    " answers",
    "reference": "{$role} target `$name` is not defined anywhere in the book — fix the name, or define it with $where",
    "no-glossary": "{term} `$name` has no glossary to point to — restore $glossary",
    "no-glossary-directive": "has no {glossary} directive — restore its ```{glossary} block",
    "term-twice": "glossary term `$name` is already defined at line $first — merge the two entries (terms match"
    " case-insensitively)",
    "no-definition": "glossary term `$name` has no definition — indent its definition below it",
    "unsorted": "the {glossary} directive has no :sorted: option — add `:sorted:` below it",
    "term-order": "glossary term `$name` is out of alphabetical order (it sorts before `$before`) — move it to its"
    " place: the source is kept sorted as the page is",
    "term": "{term} `$name` is not in the glossary — add an entry to $glossary, or link an existing term with"
    " {term}`text <term>`",
    "unused-term": "no page links the glossary term `$name` — mark its first use with {term} in the chapter that"
    " introduces it, or remove the entry",
    "few-terms": "chapter links only $count glossary term(s), fewer than $min_terms — mark the first use of each term"
    " it introduces with {term}`term` (new terms get an entry in $glossary)",
    "package": "the mlsafety package is out of sync: $what — run `make package` and commit src/mlsafety",
    "export": "$what — $fix",  # tools/export_package.py's own message about a `# @save` cell
}
CONSTANTS = dict(template=TEMPLATE, glossary=GLOSSARY, config=CONFIG_FILE, width=CODE_WIDTH, min_terms=MIN_TERMS)


@dataclass(order=True, frozen=True)
class Problem:
    path: str
    line: int
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} — {self.fix}"


@dataclass
class Found:
    """What the Markdown of one source uses and defines."""

    cites: list[tuple[int, str]] = field(default_factory=list)  # (line, key)
    cells: list[tuple[int, sources.CodeCell]] = field(default_factory=list)  # (line offset, cell)
    headings: set[str] = field(default_factory=set)
    objectives: bool = False
    title_line: int | None = None
    front_matter: object = None  # the front_matter token, if the source has one


class Checker:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.labels: dict[tuple[str, str], tuple[str, int]] = {}  # (kind, name) -> first definition
        self.exercises: list[tuple[str, int, str]] = []  # (path, line, label)
        self.solutions: list[tuple[str, int, str]] = []  # (path, line, label of its exercise)
        self.references: list[tuple[str, int, str, str]] = []  # (path, line, role, target)
        self.terms: list[tuple[str, int, str]] = []  # (path, line, target) of each {term}
        self.chapters: dict[str, int] = {}  # lecture chapter -> line of its title
        self.allow_html: list[dict] = []
        self.md, self.md_config = None, {}  # the Markdown parser and the configuration it was made from
        self.toc_ok = False
        self.counts = {"sources": 0, "citations": 0, "entries": 0}

    def add(self, path: str, line: int, message: str, /, near=None, **fields) -> None:
        """Record MESSAGES[message] with these fields; `near`: known names, to suggest one close to `name`."""
        values = {**CONSTANTS, "path": path, **fields}
        what, fix = (Template(part).substitute(values) for part in MESSAGES[message].split(" — ", 1))
        fix = fix if near is None else did_you_mean(fields["name"], near, fix)
        self.problems.append(Problem(path, max(int(line), 1), what, fix))

    # -- configuration, table of contents, bibliography ----------------------------------------

    def read(self, rel: str) -> str | None:
        """A file's text; None (with a problem recorded) if it is missing or not UTF-8."""
        try:
            return (self.root / rel).read_text(encoding="utf-8")
        except FileNotFoundError:
            self.add(rel, 1, "no-bibfile" if rel.endswith(".bib") else "missing")
        except (OSError, UnicodeDecodeError) as err:
            self.add(rel, 1, "not-utf8-file", error=err.__class__.__name__)
        return None

    def load_yaml(self, rel: str) -> object:
        """A YAML file's content; None (with a problem recorded) if it is missing or invalid."""
        text = self.read(rel)
        try:
            return None if text is None else yaml.safe_load(text)
        except yaml.YAMLError as err:
            line, problem = yaml_problem(err)
            return self.add(rel, line, "not-yaml", problem=problem or str(err).splitlines()[0])

    def load_config(self) -> dict:
        config = self.load_yaml("_config.yml")
        if not isinstance(config, dict):
            if config is not None:
                self.add("_config.yml", 1, "config-shape")
            config = {}
        if (self.root / CONFIG_FILE).exists():
            allow = self.load_yaml(CONFIG_FILE) or {}
            entries = allow.get("allow_html", []) if isinstance(allow, dict) else None
            if isinstance(entries, list) and all(isinstance(e, dict) for e in entries):
                self.allow_html = entries
            else:
                self.add(CONFIG_FILE, 1, "allow-shape")
        try:
            sources.cell_timeout(self.root, config)
        except sources.BookConfigError:
            execute = config.get("execute")
            self.add(
                "_config.yml",
                1,
                "timeout",
                value=repr(execute.get("timeout") if isinstance(execute, dict) else execute),
            )
        try:
            self.md, self.md_config = sources.md_parser(config), config
        except Exception as err:  # an unknown extension name
            self.add("_config.yml", 1, "extensions", error=err)
            self.md = sources.md_parser({})
        return config

    def check_toc(self, config: dict) -> list[str]:
        """Check _toc.yml; return the listed sources (relative paths), in reading order."""
        toc = self.load_yaml("_toc.yml")
        if not isinstance(toc, dict):
            if toc is not None:
                self.add("_toc.yml", 1, "toc-shape")
            return []
        from sphinx_external_toc.parsing import MalformedError

        try:
            entries = sources.toc_entries(self.root)
        except MalformedError as err:
            self.add("_toc.yml", 1, "toc-malformed", error=err)
            return []
        self.toc_ok = True
        listed: list[str] = []
        for entry in entries:
            found = [str(p) for p in sources.resolve_entry(self.root, entry)]
            if not found and entry.key == "glob":
                self.add("_toc.yml", entry.line, "empty-glob", name=entry.name)
            elif not found:
                known = [str(Path(f).with_suffix("")) for f in sources.source_files(self.root)]
                self.add("_toc.yml", entry.line, "no-toc-file", near=known, name=entry.name)
            listed.extend(found)
        for rel in set(sources.source_files(self.root, config.get("exclude_patterns"))) - set(listed):
            self.add(rel, 1, "unlisted")
        return list(dict.fromkeys(listed))

    def check_bibtex(self, config: dict) -> set[str] | None:
        """Check the BibTeX files; return every key they define (None if one cannot be read)."""
        import bibtexparser

        logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
        keys: set[str] | None = set()
        for rel in map(str, config.get("bibtex_bibfiles") or ["references.bib"]):
            text = self.read(rel)
            if text is None:
                keys = None  # without it every citation would be reported as unknown
                continue
            library = bibtexparser.parse_string(text)
            for block in library.failed_blocks:
                if type(block).__name__ == "DuplicateBlockKeyBlock":
                    self.add(rel, block.start_line + 1, "bib-duplicate", key=block.key)
                else:
                    reason = getattr(block.error, "abort_reason", "") or str(block.error) or "unparsable"
                    self.add(rel, block.start_line + 1, "bib-syntax", reason=reason.strip())
            for entry in library.entries:
                self.counts["entries"] += 1
                self.check_entry(rel, entry)
            keys = None if keys is None else keys | {entry.key for entry in library.entries}
        return keys

    def check_entry(self, rel: str, entry) -> None:
        fields = {f.key.lower(): f for f in entry.fields}

        def value(name: str) -> str:
            return str(getattr(fields.get(name), "value", "") or "").strip()

        key, line, kind = entry.key, entry.start_line + 1, entry.entry_type.lower()
        for name in ("author", "title", "year"):
            if not value(name) and not (name == "author" and value("editor")):
                self.add(rel, line, "no-field", key=key, field=name)
        venues = VENUES.get(kind, VENUE_ANY)
        if not any(value(v) for v in venues):
            self.add(rel, line, "no-venue", key=key, kind=kind, venues=" or ".join(venues))
        if "doi" in fields and not DOI.match(value("doi")):
            message = "doi-url" if "doi.org/" in value("doi") else "doi"
            self.add(rel, fields["doi"].start_line + 1, message, value=value("doi"), key=key)
        arxiv = (value("archiveprefix") or value("eprinttype")).lower() == "arxiv"
        for name in ("eprint", "arxiv") if arxiv else ("arxiv",):
            if name in fields and not ARXIV.match(value(name)):
                self.add(rel, fields[name].start_line + 1, "arxiv", value=value(name), key=key)

    # -- sources -------------------------------------------------------------------------------

    def read_source(self, rel: str) -> str | None:
        try:
            raw = (self.root / rel).read_bytes()
            text = raw.decode("utf-8")
        except OSError as err:
            return self.add(rel, 1, "unreadable", error=err.strerror)
        except UnicodeDecodeError as err:
            return self.add(rel, raw[: err.start].count(b"\n") + 1, "not-utf8")
        if "\x00" in text:
            return self.add(rel, text[: text.index("\x00")].count("\n") + 1, "nul")
        return text

    def check_source(self, rel: str, text: str, bib_keys: set[str] | None) -> None:
        found = Found()
        self.walk_markdown(rel, text, found)
        self.check_front_matter(rel, text, found.front_matter)
        glued: dict[tuple[str, str], tuple[str, int]] = {}  # glue keys are per page
        for offset, cell in found.cells:
            self.check_cell(rel, offset, cell, glued)
        for line, key in found.cites if bib_keys is not None else []:
            self.counts["citations"] += 1
            if key not in bib_keys:
                self.add(rel, line, "cite", near=bib_keys, name=key)
        parts = Path(rel).parts
        if len(parts) == 3 and parts[0] == "book" and not parts[1].startswith(("_", ".")):  # a lecture chapter
            title_line = self.chapters[rel] = found.title_line or 1
            if not found.objectives:
                self.add(rel, title_line, "no-objectives")
            for key, name in HEADING_REQUIRED:
                if key not in found.headings:
                    self.add(rel, title_line, "no-section", name=name)

    def check_cell(self, rel: str, offset: int, cell: sources.CodeCell, glued: dict) -> None:
        """A figure's caption and alt text; lines wider than the printed page (they wrap with a ↪ mid-token
        in the PDF); the first line that downloads; the glue keys it writes out."""
        start, tree = offset + cell.first, parse_code(cell.code)
        self.check_figure_cell(rel, offset + cell.line, cell.options if isinstance(cell.options, dict) else {}, tree)
        downloads = False
        for number, text in enumerate(cell.code.split("\n")):
            if len(text) > CODE_WIDTH:
                self.add(rel, start + number, "wide-code", length=len(text))
            text = text if sources.is_magic(text) else text.split("#", 1)[0]
            what = next((what for what, pattern in DOWNLOADS.items() if pattern.search(text)), None)
            if what is not None and not downloads:  # one problem a cell
                self.add(rel, start + number, "download", what=what)
                downloads = True
        for line, key in glue_keys(tree):
            self.define(rel, start + line - 1, "glue key", key, glued)

    def check_front_matter(self, rel: str, text: str, token) -> None:
        if token is None:
            if text.split("\n", 1)[0].rstrip() == "---":
                self.add(rel, 1, "front-matter-open")
            elif "{code-cell}" in text:
                self.add(rel, 1, "no-front-matter")
            return
        try:
            meta = yaml.safe_load(token.content)
        except yaml.YAMLError as err:
            line, problem = yaml_problem(err, after=1)  # the text starts below the opening `---`
            return self.add(rel, line, "front-matter-yaml", problem=problem or "invalid YAML")
        if meta is not None and not isinstance(meta, dict):
            self.add(rel, 2, "front-matter-shape")
        elif "{code-cell}" in text and not (meta or {}).get("kernelspec"):
            self.add(rel, 1, "no-kernelspec")

    def walk_markdown(self, rel: str, text: str, found: Found) -> None:
        """Record what a source's Markdown, and that of its directives, uses and defines."""
        previous = None
        for token, lines, offset, depth in sources.walk(text, self.md):
            if token.map is None:
                continue
            line = offset + token.map[0] + 1
            if token.type == "front_matter" and depth == 0:
                found.front_matter = token
            elif token.type == "myst_target":
                self.define(rel, line, "label", token.content.strip())
            elif token.type == "math_block_label":
                self.define(rel, line, "equation", token.info.strip())
            elif token.type == "inline":
                self.check_inline(rel, token, line, found, previous)
            elif token.type == "html_block":
                self.check_html(rel, line, token.content)
            elif token.type in ("fence", "colon_fence"):
                self.check_fence(rel, token, lines, offset, found)
            previous = token

    def check_inline(self, rel: str, token, line: int, found: Found, previous) -> None:
        """A heading's text (the inline token after `heading_open`); the roles, HTML and images of any text."""
        if previous is not None and previous.type == "heading_open":
            heading = token.content.strip().lower()
            if previous.tag == "h1" and found.title_line is None:
                found.title_line = line
            found.headings.update(k for k, _ in HEADING_REQUIRED if heading.startswith(k))
            found.objectives |= heading.startswith("learning objectives")

        for child in token.children or []:
            if child.type == "myst_role":
                self.record_role(rel, child.meta.get("name", ""), child.content, line, found)
            elif child.type == "html_inline":
                self.check_html(rel, line, child.content)
            elif child.type == "image" and not "".join(c.content for c in child.children or []).strip():
                self.add(rel, line, "image-alt", src=child.attrs.get("src", ""))
            line += 1 if child.type in ("softbreak", "hardbreak") else child.content.count("\n")

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

    def check_fence(self, rel: str, token, lines: list[str], offset: int, found: Found) -> None:
        info, line, named = token.info.strip(), offset + token.map[0] + 1, sources.directive(token)
        if not sources.fence_closed(token, lines):
            self.add(rel, line, "unclosed", name=info.split()[0] if info else "code", mark=token.markup)
        if named is None:
            return
        name, argument = named
        options, body_start, body = sources.split_options(token.content)
        if isinstance(options, str):  # an error message
            self.add(rel, line + 1, "options", name=name, error=options)
            options = {}
        if name == "code-cell":
            cell = sources.code_cell(token, lines)  # None for a `:::` fence: myst-nb runs only ``` cells
            found.cells += [(offset, cell)] if cell else []
        elif name == "raw" and argument.lower() == "html":
            self.check_html(rel, line + 1 + body_start, body)
        else:
            found.objectives |= name == "admonition" and argument.lower().startswith("learning objectives")
            self.check_directive(rel, line, name, argument, options, body)  # sources.walk goes on into its body

    def check_directive(self, rel: str, line: int, name: str, argument: str, options: dict, body: str) -> None:
        """The labels a directive defines; exercises, solutions and figures as the book needs them."""
        if options.get("label") is not None:
            self.define(rel, line, "equation" if name == "math" else "label", str(options["label"]))
        if options.get("name") is not None:
            self.define(rel, line, "label", str(options["name"]))
        if name in ("exercise", "exercise-start") and options.get("label") is None:
            self.add(rel, line, "exercise-label")
        elif name in ("exercise", "exercise-start"):
            self.exercises.append((rel, line, str(options["label"])))
        elif name in ("solution", "solution-start") and argument:
            self.solutions.append((rel, line, argument.split()[0]))
        elif name in ("solution", "solution-start"):
            self.add(rel, line, "solution-name")
        if name in ("figure", "image") and not str(options.get("alt", "")).strip():
            self.add(rel, line, "figure-alt", name=name, argument=argument)
        if name == "figure" and not body.strip():
            self.add(rel, line, "figure-caption", argument=argument)

    def check_figure_cell(self, rel: str, line: int, options: dict, tree: ast.Module | None) -> None:
        """A code cell that shows a matplotlib figure needs a caption and alt text in its metadata."""
        mystnb = options.get("mystnb") if isinstance(options.get("mystnb"), dict) else {}
        figure = mystnb.get("figure") if isinstance(mystnb.get("figure"), dict) else {}
        image = mystnb.get("image") if isinstance(mystnb.get("image"), dict) else {}
        if figure.get("name") is not None:
            self.define(rel, line, "label", str(figure["name"]))
        if figure or shows_figure(tree):
            if not str(figure.get("caption", "")).strip():
                self.add(rel, line, "cell-caption")
            if not str(image.get("alt", "")).strip():
                self.add(rel, line, "cell-alt")

    def check_html(self, rel: str, line: int, html: str) -> None:
        finder = DangerousHTML()
        try:
            finder.feed(html)
            finder.close()
        except Exception:  # html.parser is lenient; guard against the odd assertion on junk
            return
        for offset, what in finder.found:
            allow = [e for e in self.allow_html if fnmatch.fnmatch(rel, str(e.get("file", "")))]
            if not any(str(e.get("tag", "")).lower() == what for e in allow):
                label = f"<{what}>" if what in DANGEROUS_TAGS else f"inline event handler `{what}=`"
                self.add(rel, line + offset, "html", what=label)

    def define(self, rel: str, line: int, kind: str, name: str, seen: dict | None = None) -> None:
        """A label, equation or glue key defined here: a problem if it already was (in the book, or in `seen`)."""
        seen = self.labels if seen is None else seen
        first = seen.get((kind, name))
        if name and first is None:
            seen[(kind, name)] = (rel, line)
        elif name:
            self.add(rel, line, "defined-twice", kind=kind, name=name, first=f"{first[0]}:{first[1]}")

    def check_exercises(self) -> None:
        solved = {label for _, _, label in self.solutions}
        known = {label for _, _, label in self.exercises}
        for rel, line, label in (e for e in self.exercises if e[2] not in solved):
            self.add(rel, line, "unsolved", name=label)
        for rel, line, label in (s for s in self.solutions if s[2] not in known):
            self.add(rel, line, "solution-target", near=known, name=label)

    def check_references(self) -> None:
        """Every {ref}, {numref} and {eq} names a label, figure name or equation defined in some source."""
        known: dict[str, set[str]] = {"label": set(SPHINX_LABELS), "equation": set()}
        for kind, name in self.labels:
            known.setdefault(kind, set()).add(name.lower() if kind == "label" else name)
        for rel, line, role, target in self.references:
            kind = REFERENCE_ROLES[role]
            if (target.lower() if kind == "label" else target) not in known[kind]:
                where = "an equation's `:label:`" if kind == "equation" else "a `(label)=`, figure `name` or `:label:`"
                self.add(rel, line, "reference", near=known[kind], role=role, name=target, where=where)

    # -- glossary and package ------------------------------------------------------------------

    def check_glossary(self) -> None:
        """book/glossary.md: each term once, with a definition, in alphabetical order; then the {term} links."""
        text = (self.root / GLOSSARY).read_text(encoding="utf-8") if (self.root / GLOSSARY).is_file() else None
        if text is None:
            for rel, line, target in self.terms[:1]:
                self.add(rel, line, "no-glossary", name=target)
            return
        entries, is_sorted, line = sources.glossary_entries(text, self.md_config)
        if entries is None:
            return self.add(GLOSSARY, line, "no-glossary-directive")
        defined: dict[str, int] = {}  # term key -> line
        for terms, line, definition in entries:
            for term in terms:
                if term_key(term) in defined:
                    self.add(GLOSSARY, line, "term-twice", name=term, first=defined[term_key(term)])
                defined.setdefault(term_key(term), line)
            if not definition:
                self.add(GLOSSARY, line, "no-definition", name=terms[0])
        if entries and not is_sorted:
            self.add(GLOSSARY, 1, "unsorted")
        order = [unicodedata.normalize("NFD", terms[0].lower()) for terms, _, _ in entries]
        for before, after, (terms, line, _) in zip(order, order[1:], entries[1:], strict=False):
            if after < before:
                self.add(GLOSSARY, line, "term-order", name=terms[0], before=before)
        self.check_term_links(entries, defined)

    def check_term_links(self, entries: list, defined: dict[str, int]) -> None:
        """Every {term} names an entry (Sphinx matches them case-insensitively), every entry is linked, every
        chapter links MIN_TERMS terms."""
        used: set[str] = set()
        per_chapter: dict[str, int] = {}
        for rel, line, target in self.terms:
            if term_key(target) not in defined:
                self.add(rel, line, "term", near=[t for terms, _, _ in entries for t in terms], name=target)
            elif rel != GLOSSARY:
                used.add(term_key(target))
            per_chapter[rel] = per_chapter.get(rel, 0) + 1
        for terms, line, _ in entries:
            if not any(term_key(t) in used for t in terms):
                self.add(GLOSSARY, line, "unused-term", name=terms[0])
        for rel, line in self.chapters.items():
            if per_chapter.get(rel, 0) < MIN_TERMS:
                self.add(rel, line, "few-terms", count=per_chapter.get(rel, 0))

    def check_package(self) -> None:
        if not self.toc_ok or not (self.root / "src" / "mlsafety").is_dir():
            return
        import export_package

        try:
            stale = export_package.stale(self.root)
        except (OSError, UnicodeDecodeError, sources.BookConfigError):
            return  # an unreadable chapter or _config.yml, already reported
        except export_package.ExportError as err:
            path, line, what = split_location(str(err))
            what, _, fix = what.partition(" — ")
            return self.add(path, line, "export", what=what, fix=fix or "fix the saved cell, then run `make package`")
        for message in stale:
            path, _, what = message.partition(": ")
            self.add(path, 1, "package", what=what)

    def run(self) -> int:
        config = self.load_config()
        listed = self.check_toc(config)
        bib_keys = self.check_bibtex(config)
        for rel in dict.fromkeys(listed + sources.source_files(self.root, config.get("exclude_patterns"))):
            text = self.read_source(rel) if rel.endswith(".md") else None  # a notebook is generated (.gitignore)
            if text is not None:
                self.counts["sources"] += 1
                self.check_source(rel, text, bib_keys)
        self.check_exercises()
        self.check_references()
        self.check_glossary()
        self.check_package()
        return len(self.problems)


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


def parse_code(code: str) -> ast.Module | str:
    """A code cell's syntax tree, or its text when it is not plain Python (IPython magics, shell escapes)."""
    try:
        return ast.parse(code)
    except SyntaxError:
        return code


def shows_figure(tree: ast.Module | str) -> bool:
    """True if a cell calls `plt.show()` (or `<figure>.show()`) at its top level."""
    if isinstance(tree, str):  # not plain Python: fall back to the text
        return "plt.show()" in tree
    calls = [node.value for node in tree.body if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)]
    return any(getattr(call.func, "attr", "") == "show" for call in calls)


def glue_keys(tree: ast.Module | str) -> list[tuple[int, str]]:
    """(line in the cell, key) of each `glue("key", ...)` call whose key is written out (not computed)."""
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)] if isinstance(tree, ast.AST) else []
    found = []
    for call in calls:
        if (getattr(call.func, "id", None) or getattr(call.func, "attr", None)) == "glue":
            key = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                found.append((call.lineno, key.value))
    return sorted(found)


def yaml_problem(err: yaml.YAMLError, after: int = 0) -> tuple[int, str | None]:
    """(1-based line, what is wrong) of a YAML error in a text that starts `after` lines into its file."""
    mark = getattr(err, "problem_mark", None)
    return (mark.line + 1 + after if mark else 1), getattr(err, "problem", None)


def split_location(message: str) -> tuple[str, int, str]:
    """(path, line, rest) of a `path:line: rest` or `path: rest` message."""
    match = re.match(r"(.+?):(?:(\d+):)? (.*)", message, re.S)
    return (match[1], int(match[2] or 1), match[3]) if match else (message, 1, "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="project root (default: this checkout)")
    start = time.perf_counter()
    try:
        checker = Checker(parser.parse_args(argv).root.resolve())
        checker.run()
    except Exception as err:  # a bug in the check itself, never the contributor's fault
        print(
            f"tools/check.py:1: the check itself failed ({type(err).__name__}: {err}) — please report this with"
            " the file you changed",
            file=sys.stderr,
        )
        return 2
    elapsed, problems, counts = time.perf_counter() - start, sorted(set(checker.problems)), checker.counts
    for problem in problems:
        print(problem)
    if problems:
        files = len({p.path for p in problems})
        print(f"check: {len(problems)} problem(s) in {files} file(s) ({elapsed:.1f} s)", file=sys.stderr)
        return 1
    print(
        f"check: {counts['sources']} sources, {counts['citations']} citations, {counts['entries']} BibTeX entries"
        f" — no problems ({elapsed:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
