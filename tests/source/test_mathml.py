"""The build's math renderer (book/_ext/mathml.py, issue #19), without a build: every formula in the
book converts to MathML with nothing left as TeX, and one that does not is a warning."""

from __future__ import annotations

import sys

import pytest
from docutils import nodes
from sphinx.errors import SphinxWarning

from conftest import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import mathml  # noqa: E402


def formulas() -> list[tuple[str, str, str]]:
    """(page, 'inline' or 'block', TeX) for every `$...$` and {math} block in the book's pages, as
    MyST's own Markdown parser finds them (inside directives such as exercises too)."""
    import sources

    md = sources.md_parser()
    found = []

    def walk(tokens: list, page: str) -> None:
        for token in tokens:
            info = token.info.strip() if token.type in ("fence", "colon_fence") else ""
            name = info[1:].partition("}")[0].strip() if info.startswith("{") else ""
            if token.type == "math_inline":
                found.append((page, "inline", token.content))
            elif token.type in ("math_block", "math_block_label", "amsmath"):
                found.append((page, "block", token.content))
            elif name == "math":
                found.append((page, "block", sources.split_options(token.content)[2]))
            elif name and name not in sources.NOT_MARKDOWN:
                walk(md.parse(sources.split_options(token.content)[2]), page)  # a directive's body is Markdown
            walk(token.children or [], page)

    for path in sources.toc_files(ROOT):
        walk(md.parse((ROOT / path).read_text(encoding="utf-8")), str(path))
    return found


def test_every_formula_in_the_book_converts(caplog: pytest.LogCaptureFixture) -> None:
    found = formulas()
    assert len(found) > 1000, f"found only {len(found)} formulas: has the source format changed?"
    failed = []
    for page, display, tex in found:
        caplog.clear()
        out = mathml.mathml(tex, display, nodes.math())
        if caplog.records or not out.startswith("<math"):
            failed.append(f"{page}: {tex.strip()[:80]!r}")
    assert not failed, f"{len(failed)} of {len(found)} formulas do not convert:\n  " + "\n  ".join(failed[:10])


def test_unconverted_tex_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    try:
        out = mathml.mathml(r"\arg\max_x f(x)", "inline", nodes.math())
    except SphinxWarning as err:
        # A strict (-W) Sphinx build earlier in this test process leaves Sphinx's logger turning
        # warnings into this exception, as it does in the strict build itself.
        assert "does not convert (\\arg)" in str(err)
        return
    assert out.startswith("<math")
    assert any("does not convert (\\arg)" in r.getMessage() for r in caplog.records), caplog.text
