"""The glossary (book/glossary.md) and the `{term}` roles that point to it, checked from the sources.

No build is needed: the pages are parsed with the same MyST/markdown-it parser that Sphinx uses, so a
role inside an admonition, an exercise or a solution is found, and one inside a code cell is not.
Terms match as Sphinx matches them: case-insensitively, with runs of whitespace read as one space.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

import export_package

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = Path("book/glossary.md")

# Terms defined ahead for the chapters being written now (Transparency, Trojans, Detecting Emergent
# Behavior). They are exempt from "used by at least one chapter" until those chapters link them;
# empty this list when they are merged.
DEFINED_AHEAD: set[str] = set()

# Directives whose body is not Markdown prose (code, maths, generated lists).
NOT_PROSE = {
    "code-cell",
    "code",
    "code-block",
    "sourcecode",
    "math",
    "bibliography",
    "raw",
    "eval-rst",
    "glossary",
    "literalinclude",
    "csv-table",
    "mermaid",
}
EXPLICIT_TITLE = re.compile(r"^(.+?)\s*(?<!\x00)<([^<]*?)>$", re.DOTALL)  # as Sphinx splits `text <target>`
OPTION = re.compile(r"^:[\w-]+:")

MD = create_md_parser(
    MdParserConfig(enable_extensions={"amsmath", "colon_fence", "deflist", "dollarmath", "substitution"}),
    RendererHTML,
)


def key(term: str) -> str:
    """How Sphinx compares terms: case-insensitive, whitespace-normalised."""
    return " ".join(term.split()).lower()


def unescape(text: str) -> str:
    """A term's text as Markdown renders it (backslash escapes removed)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).strip()


@dataclass
class Role:
    path: Path
    line: int
    target: str


@dataclass
class Entry:
    terms: list[str]
    line: int
    definition: list[str] = field(default_factory=list)
    definition_line: int = 0


def directive_body(content: str) -> tuple[str, int]:
    """The Markdown body of a directive with its options removed, and how many lines were removed."""
    lines = content.split("\n")
    skip = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        skip = end + 1
    while skip < len(lines) and OPTION.match(lines[skip]):
        skip += 1
    return "\n".join(lines[skip:]), skip


def roles_in(text: str, path: Path, offset: int = 0) -> list[Role]:
    """Every `{term}` role in MyST text, with its line in the file (`offset` lines precede `text`)."""
    lines = text.split("\n")
    found = []
    for token in MD.parse(text):
        if token.type in ("fence", "colon_fence"):
            name = re.match(r"\{([\w:-]+)\}", token.info.strip())
            if name and name.group(1) not in NOT_PROSE and token.map:
                body, skipped = directive_body(token.content)
                found += roles_in(body, path, offset + token.map[0] + 1 + skipped)
            continue
        for child in token.children or []:
            if child.type == "myst_role" and child.meta.get("name") == "term":
                raw = f"{{term}}`{child.content}`"
                start, end = token.map or (0, len(lines))
                line = next((i for i in range(start, end) if raw.split("\n")[0] in lines[i]), start)
                explicit = EXPLICIT_TITLE.match(child.content)
                target = explicit.group(2) if explicit else child.content
                found.append(Role(path, offset + line + 1, " ".join(target.split())))
    return found


def glossary_entries(root: Path, path: Path = GLOSSARY) -> tuple[list[Entry], bool, list[str]]:
    """(entries, whether `:sorted:` is set, problems) of the `{glossary}` directive in root/path."""
    text = (root / path).read_text(encoding="utf-8")
    fences = [t for t in MD.parse(text) if t.type in ("fence", "colon_fence") and t.info.strip() == "{glossary}"]
    if len(fences) != 1:
        return [], False, [f"{path}:1: expected exactly one {{glossary}} directive, found {len(fences)}"]
    fence = fences[0]
    assert fence.map is not None
    body, skipped = directive_body(fence.content)
    options = fence.content.split("\n")[:skipped]
    first = fence.map[0] + 2 + skipped  # file line of the body's first line
    entries: list[Entry] = []
    problems: list[str] = []
    in_definition, was_empty = False, True
    for i, line in enumerate(body.split("\n")):
        where = f"{path}:{first + i}"
        if not line.strip():
            was_empty = True
            continue
        if not line[0].isspace():
            if in_definition or not entries or was_empty:
                if in_definition and not was_empty:
                    problems.append(f"{where}: a term must follow a blank line after the previous definition")
                entries.append(Entry([], first + i))
                in_definition = False
            entries[-1].terms.append(unescape(line))
        else:
            if not entries:
                problems.append(f"{where}: a definition without a term above it")
                continue
            if not entries[-1].definition:
                entries[-1].definition_line = first + i
            entries[-1].definition.append(line.strip())
            in_definition = True
        was_empty = False
    for entry in entries:
        if not entry.definition:
            problems.append(f"{path}:{entry.line}: term {entry.terms[0]!r} has no definition (indent it)")
    return entries, any(o.strip() == ":sorted:" for o in options), problems


def pages(root: Path) -> list[Path]:
    """Every Markdown page in the table of contents, glossary included."""
    return [p for p in export_package.toc_files(root) if p.suffix == ".md"]


def check(root: Path, glossary: Path = GLOSSARY, ahead: Iterable[str] = ()) -> list[str]:
    """Every problem with the glossary and the term roles of the book at `root`, one line each."""
    if not (root / glossary).is_file():
        return [f"{glossary}: missing — the chapters' {{term}} roles point to it"]
    ahead = {key(term) for term in ahead}
    entries, is_sorted, problems = glossary_entries(root, glossary)
    defined: dict[str, Entry] = {}
    for entry in entries:
        for term in entry.terms:
            if key(term) in defined:
                problems.append(
                    f"{glossary}:{entry.line}: duplicate term {term!r} (also at line "
                    f"{defined[key(term)].line}; terms match case-insensitively)"
                )
            defined.setdefault(key(term), entry)
    if entries and not is_sorted:
        problems.append(f"{glossary}:1: the {{glossary}} directive needs the :sorted: option")
    order = [unicodedata.normalize("NFD", e.terms[0].lower()) for e in entries]
    for before, after, entry in zip(order, order[1:], entries[1:], strict=False):
        if after < before:
            problems.append(
                f"{glossary}:{entry.line}: {entry.terms[0]!r} is out of alphabetical order "
                f"(it sorts before {before!r}); keep the source sorted as the page is"
            )
    used: set[int] = set()
    definitions = [(glossary, "\n".join(e.definition), e.definition_line - 1) for e in entries]
    for page, text, offset in [(p, (root / p).read_text(encoding="utf-8"), 0) for p in pages(root)] + definitions:
        for role in roles_in(text, page, offset):
            entry = defined.get(key(role.target))
            if entry is None:
                problems.append(
                    f"{role.path}:{role.line}: {{term}} {role.target!r} is not in {glossary} — "
                    f"add an entry there or link an existing term with {{term}}`text <term>`"
                )
            elif page != glossary:
                used.add(id(entry))
    for entry in entries:
        if id(entry) in used:
            if key(entry.terms[0]) in ahead:
                problems.append(
                    f"{glossary}:{entry.line}: {entry.terms[0]!r} is now linked from a chapter; "
                    "remove it from DEFINED_AHEAD in tests/source/test_glossary.py"
                )
        elif key(entry.terms[0]) not in ahead:
            problems.append(
                f"{glossary}:{entry.line}: no chapter links {entry.terms[0]!r} with {{term}}; "
                "mark its first use in the chapters that introduce it, or remove the entry"
            )
    for term in sorted(set(ahead) - {key(e.terms[0]) for e in entries}):
        problems.append(f"tests/source/test_glossary.py: DEFINED_AHEAD names {term!r}, which has no glossary entry")
    return problems


def test_glossary_and_term_roles_are_consistent() -> None:
    problems = check(ROOT, ahead=DEFINED_AHEAD)
    assert not problems, "\n".join(problems)


def test_glossary_is_in_the_toc_and_covers_the_chapters() -> None:
    assert GLOSSARY in pages(ROOT)
    entries, _, _ = glossary_entries(ROOT)
    assert len(entries) >= 60
    chapters = [p for p in pages(ROOT) if len(p.parts) >= 3]  # book/<part>/<chapter>.md
    for chapter in chapters:
        roles = roles_in((ROOT / chapter).read_text(encoding="utf-8"), chapter)
        assert len(roles) >= 5, f"{chapter}: only {len(roles)} glossary links; mark the terms it introduces"


# The checker itself, on small books written for the purpose.

GOOD = """(glossary)=
# Glossary

```{glossary}
:sorted:

adversarial example
   An input changed to make a model err, for example by {term}`FGSM`.

FGSM
fast gradient sign method
   A one-step attack.
```
"""

CHAPTER = """# A chapter

An {term}`Adversarial  example` is made by the {term}`fast method <FGSM>`.

```{code-cell} ipython3
# {term}`not a role` in code is ignored
```

````{exercise}
:label: ex-one

Use {term}`fgsm` here.
````
"""


def small_book(tmp_path: Path, glossary: str = GOOD, chapter: str = CHAPTER) -> Path:
    (tmp_path / "book" / "part").mkdir(parents=True)
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nchapters:\n  - file: book/part/chapter\n  - file: book/glossary\n"
    )
    (tmp_path / "book" / "index.md").write_text("# Index\n")
    (tmp_path / "book" / "glossary.md").write_text(glossary)
    (tmp_path / "book" / "part" / "chapter.md").write_text(chapter)
    return tmp_path


def test_checker_accepts_a_consistent_book(tmp_path: Path) -> None:
    root = small_book(tmp_path)
    assert check(root) == []
    roles = roles_in(CHAPTER, Path("c.md"))
    assert [(r.line, r.target) for r in roles] == [(3, "Adversarial example"), (3, "FGSM"), (12, "fgsm")]


def test_checker_reports_an_unknown_term_with_its_line(tmp_path: Path) -> None:
    root = small_book(tmp_path, chapter=CHAPTER.replace("{term}`fgsm`", "{term}`PGD`"))
    assert check(root) == [
        "book/part/chapter.md:12: {term} 'PGD' is not in book/glossary.md — add an entry there or link "
        "an existing term with {term}`text <term>`"
    ]


def test_checker_reports_duplicates_and_unused_entries(tmp_path: Path) -> None:
    glossary = GOOD.replace("FGSM\nfast", "Adversarial Example\nFGSM\nfast").replace(
        "```\n", "\ntrigger\n   What sets off a backdoor.\n```\n", 1
    )
    assert check(small_book(tmp_path, glossary=glossary)) == [
        "book/glossary.md:10: duplicate term 'Adversarial Example' (also at line 7; terms match case-insensitively)",
        "book/glossary.md:15: no chapter links 'trigger' with {term}; mark its first use in the "
        "chapters that introduce it, or remove the entry",
    ]
    # a term defined ahead for a chapter in progress is exempt from the second rule
    ahead = glossary.replace("Adversarial Example\n", "")
    assert check(small_book(tmp_path / "ahead", glossary=ahead), ahead={"trigger"}) == []


def test_checker_requires_sorted_source_and_option(tmp_path: Path) -> None:
    entry = "adversarial example\n   An input changed to make a model err, for example by {term}`FGSM`.\n"
    swapped = GOOD.replace(entry + "\n", "").replace("```\n", "\n" + entry + "```\n", 1)
    assert check(small_book(tmp_path, glossary=swapped)) == [
        "book/glossary.md:11: 'adversarial example' is out of alphabetical order (it sorts before 'fgsm'); "
        "keep the source sorted as the page is"
    ]
    unsorted = GOOD.replace(":sorted:\n", "")
    assert check(small_book(tmp_path / "b", glossary=unsorted)) == [
        "book/glossary.md:1: the {glossary} directive needs the :sorted: option"
    ]


def test_checker_reports_an_unknown_term_in_a_definition(tmp_path: Path) -> None:
    glossary = GOOD.replace("by {term}`FGSM`", "by {term}`PGD`")
    assert check(small_book(tmp_path, glossary=glossary)) == [
        "book/glossary.md:8: {term} 'PGD' is not in book/glossary.md — add an entry there or link "
        "an existing term with {term}`text <term>`"
    ]


def test_checker_reports_a_term_without_definition(tmp_path: Path) -> None:
    glossary = GOOD.replace("   A one-step attack.\n", "")
    problems = check(small_book(tmp_path, glossary=glossary))
    assert problems == ["book/glossary.md:10: term 'FGSM' has no definition (indent it)"]


def test_checker_reports_a_missing_glossary(tmp_path: Path) -> None:
    root = small_book(tmp_path)
    (root / "book" / "glossary.md").unlink()
    assert check(root) == ["book/glossary.md: missing — the chapters' {term} roles point to it"]


@pytest.mark.parametrize("ahead", [{"FGSM"}, {"no such term"}])
def test_checker_keeps_the_defined_ahead_list_honest(tmp_path: Path, ahead: set[str]) -> None:
    problems = check(small_book(tmp_path), ahead=ahead)
    assert len(problems) == 1
    assert "DEFINED_AHEAD" in problems[0]
