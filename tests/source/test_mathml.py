"""The build's math renderer (book/_ext/mathml.py, issue #19), without a build: every formula in the
book converts to MathML with nothing left as TeX, and one that does not is a warning."""

from __future__ import annotations

import pytest
from docutils import nodes
from sphinx.errors import SphinxWarning

import mathml  # book/_ext/ is on sys.path through tests/conftest.py
from conftest import ROOT


def formulas() -> list[tuple[str, str, str]]:
    """(page, 'inline' or 'block', TeX) for every `$...$` and {math} block in the book's pages, as
    MyST's own Markdown parser finds them (inside directives such as exercises too)."""
    import sources

    md, found = sources.md_parser(), []
    for path in sources.toc_files(ROOT):
        for block, *_ in sources.walk((ROOT / path).read_text(encoding="utf-8"), md):
            for token in [block, *(block.children or [])]:
                if token.type == "math_inline":
                    found.append((str(path), "inline", token.content))
                elif token.type in ("math_block", "math_block_label", "amsmath"):
                    found.append((str(path), "block", token.content))
                elif (named := sources.directive(token)) and named[0] == "math":
                    found.append((str(path), "block", sources.split_options(token.content)[2]))
    return found


def test_every_formula_in_the_book_converts(caplog: pytest.LogCaptureFixture) -> None:
    found = formulas()
    assert len(found) > 1000, f"found only {len(found)} formulas: has the source format changed?"
    failed = []
    for page, display, tex in found:
        for part in mathml.display_parts(tex) if display == "block" else [tex]:  # as the build splits a display
            caplog.clear()
            out = mathml.mathml(part, display, nodes.math())
            if caplog.records or not out.startswith("<math"):
                failed.append(f"{page}: {tex.strip()[:80]!r}")
    assert not failed, f"{len(failed)} of {len(found)} formulas do not convert:\n  " + "\n  ".join(failed[:10])


def test_unconverted_tex_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    try:
        out = mathml.mathml(r"\notacommand_x f(x)", "inline", nodes.math())
    except SphinxWarning as err:
        # A strict (-W) Sphinx build earlier in this test process leaves Sphinx's logger turning
        # warnings into this exception, as it does in the strict build itself.
        assert "does not convert (\\notacommand)" in str(err)
        return
    assert out.startswith("<math")
    assert any("does not convert (\\notacommand)" in r.getMessage() for r in caplog.records), caplog.text


# What latex2mathml's output becomes so that browsers' MathML Core sets it as TeX does (mathml.typeset).
THIN = 'rspace="0.1667em"'
TYPESET = [
    # function names: applied to their argument (U+2061) with a thin space, none before a parenthesis
    (r"\log x", "inline", [f"<mi>log</mi><mo {THIN}>\u2061</mo><mi>x</mi>"]),
    (r"\log(x)", "inline", ["<mi>log</mi><mo>\u2061</mo><mo"]),
    (r"\log_2 n", "block", [f"<msub><mi>log</mi><mn>2</mn></msub><mo {THIN}>\u2061</mo><mi>n</mi>"]),
    (r"\operatorname{softmax}(z)", "inline", ["<mi>softmax</mi><mo>\u2061</mo>"]),
    (r"\epsilon \operatorname{sign} g", "inline", [f'<mspace width="0.1667em" /><mi>sign</mi><mo {THIN}>']),
    (r"a + \beta \max_x f", "block", ['<mi>\u03b2</mi><munder><mo movablelimits="true" lspace="0.1667em"']),
    # limits underneath in a display, beside inline (movablelimits: the browser moves them)
    (r"\min_\theta L", "block", ['<munder><mo movablelimits="true" lspace="0" ' + THIN + ">min</mo><mi>\u03b8</mi>"]),
    (r"\max_x f(x)", "inline", ['<munder><mo movablelimits="true"']),
    (r"\arg\max_x f(x)", "block", [f"<mi>arg</mi><mo {THIN}>\u2061</mo><munder>"]),
    (r"\Pr_{x} [A]", "block", ["<munder><mo movablelimits"]),
    (r"\lim_{n\to\infty} a_n", "block", ["<munder><mo movablelimits", '<mi mathvariant="normal">\u221e</mi>']),
    (r"\max(0, x)", "inline", ['lspace="0" rspace="0">max</mo>']),
    # a sum too, also inside a group, where latex2mathml sets its limits as scripts; an integral keeps them beside
    (r"\sum_i x_i", "block", ['<munder><mo movablelimits="true" lspace="0">\u2211</mo>']),
    (r"\underbrace{\sum_b x_b}_{n}", "block", ['<munder><mo movablelimits="true" lspace="0">\u2211</mo>']),
    (r"\int_0^1 f", "block", ["<msubsup><mo>\u222b</mo>"]),
    # accents cover their base; | and \lVert are neither stretched nor spaced as relations
    (r"\overline{p_B}", "inline", ['<mover accent="true"><msub>']),
    (r"\tilde h", "inline", ['<mover accent="true"><mi>h</mi>']),
    (r"\lVert x \rVert_1", "inline", ['<mo lspace="0" rspace="0" stretchy="false">\u2016</mo>']),
    # Unicode's mathematical letters (MathML Core ignores mathvariant but for normal); \mathrm as one
    # identifier, without latex2mathml's <mrow> around it or around the formula
    (
        r"\mathbb{1} + \mathbf{1} + \bm{x}",
        "inline",
        ["<mn>\U0001d7d9</mn>", "<mn>\U0001d7cf</mn>", "<mi>\U0001d499</mi>"],
    ),
    (r"\mathrm{KL}(p \| q)", "inline", ['<math display="inline"><mi>KL</mi><mo']),
    # lengths MathML Core knows: \! as a negative margin (an mspace has no negative width)
    (r"a\!b", "inline", ['<mspace style="margin-left:-0.1667em" />']),
]


@pytest.mark.parametrize(("tex", "display", "expected"), TYPESET, ids=[t for t, _, _ in TYPESET])
def test_typeset_as_tex_sets_it(tex: str, display: str, expected: list[str], caplog: pytest.LogCaptureFixture) -> None:
    out = mathml.mathml(tex, display, nodes.math())
    assert not caplog.records, caplog.text
    for part in expected:
        assert part in out, f"{tex!r}: no {part!r} in\n{out}"
    assert 'mathvariant="bold' not in out and "double-struck" not in out
