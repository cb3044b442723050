"""Sphinx extension: the book's math rendered when the book is built, as MathML (issue #19).

Pages carry finished math: no math script, formulas show with JavaScript off, in reader mode, in
print and in feed readers, and browsers lay MathML out natively (MathML Core: Chrome, Edge,
Firefox, Safari). MathJax's client-side typesetting cost a phone about 0.9 s of script and
thousands of DOM elements per chapter.

- HTML math renderer `mathml` (Sphinx's public `add_html_math_renderer`, selected with
  `html_math_renderer: mathml` in _config.yml), converting with the pure-Python `latex2mathml`.
  Why our own renderer: no maintained Sphinx extension renders MathML at build time
  (sphinxcontrib-katex's prerender needs Node.js and KaTeX's stylesheet and fonts).
- latex2mathml's MathML is then set as TeX sets it, in what browsers implement (MathML Core):
  `typeset` applies the rules (`function_name`, `limit_operator`, `large_operator`, `symbol`),
  each saying which TeX it is for. Not fixed here, Chromium's own: a wide `\\underbrace` is drawn
  shorter than its base and off-centre; in Latin Modern Math a stretched parenthesis (`\\bigl(`,
  or a `\\left(` around a low row, which Chromium stretches where TeX would not) has more room inside.
- A formula the converter cannot finish (a command it does not know is left as text; it raises
  on a few others) is a build warning naming the formula, so the strict build fails.
- Link text and headings: a `{ref}` to a section whose title has math gets the title's own
  nodes as its text, so the math is rendered there too (Sphinx keeps only the title's plain
  text for the link, which printed raw TeX such as "non-\\ell_p"). This holds for every builder:
  the PDF's link text gets real math as well.
The LaTeX builder is unaffected: the PDF's math is typeset by TeX as before.
"""

from __future__ import annotations

import copy
import itertools
import re
import unicodedata
import xml.etree.ElementTree as ET
from html import escape, unescape

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.application import Sphinx
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)

ENVIRONMENT = re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S)
LEFT_AS_TEXT = re.compile(r"\\(?:[A-Za-z]+|[^A-Za-z\s])")
# TeX that latex2mathml does not know, written as TeX that it does.
PRE_SUBSTITUTIONS = [(re.compile(r"\\arg(?![A-Za-z])"), r"\\operatorname{arg}")]

THIN = "0.1667em"  # TeX's \thinmuskip: after a function name or a limit operator (TeX's Op atom)
LIMIT_OPERATORS = {"lim", "max", "min", "sup", "inf"}  # latex2mathml marks \det, \Pr, \gcd... movablelimits
SCRIPTS = {"msub": "munder", "msup": "mover", "msubsup": "munderover"}
SCRIPTED = (*SCRIPTS, *SCRIPTS.values())
ROWS = {"math", "mrow", "mstyle", "mtd", "msqrt", "mpadded", "menclose", "mphantom"}
ACCENTS = set("^~\u00af\u02c6\u02c7\u02d8\u02d9\u02dc\u00a8\u00b4`\u2015\u203e\u2192")
LARGE_OPERATORS = set("\u2211\u220f\u2210\u22c3\u22c2\u2a01\u2a02\u2a00\u22c1\u22c0")  # \sum \prod...: not \int
# \infty \partial \nabla \emptyset \top \bot: symbols, not operators
ORDINARY = set("\u221e\u2202\u2207\u2205\u22a4\u22a5")
OPENING = set("([{\u27e8\u2308\u230a")
CLOSING = set(")]}|\u2016\u27e9\u2309\u230b")
NO_SPACE_AFTER_OP = set(")]},;.!:")
SPACES = {
    "negativethinmathspace": "-0.1667em",
    "negativemediummathspace": "-0.2222em",
    "negativethickmathspace": "-0.2778em",
    "thinmathspace": "0.1667em",
    "mediummathspace": "0.2222em",
    "thickmathspace": "0.2778em",
}


def styled(char: str, variant: str) -> str:
    """`char` in Unicode's mathematical alphabet `variant` (bold 1 -> U+1D7CF), or itself if it has none."""
    try:
        name = unicodedata.name(char).replace("LATIN ", "").replace("GREEK ", "").replace(" LETTER", "")
    except ValueError:
        return char
    style = variant.upper().replace("-", " ").replace("DOUBLE STRUCK", "DOUBLE-STRUCK")
    for candidate in (f"MATHEMATICAL {style} {name}", f"{style} {name}"):  # e.g. DOUBLE-STRUCK CAPITAL R
        try:
            return unicodedata.lookup(candidate)
        except KeyError:
            pass
    return char


def opens(el: ET.Element | None) -> bool:
    """Whether `el` starts with an opening delimiter (TeX puts no space between an Op and an Open)."""
    while el is not None and el.tag == "mrow" and len(el):
        el = el[0]
    return el is not None and el.tag == "mo" and (el.text in OPENING or el.get("form") == "prefix")


def ordinary(el: ET.Element | None) -> bool:
    """Whether `el` is a symbol or ends a group (TeX's Ord or Close), which TeX sets a thin space apart
    from a function name or a limit operator that follows; operators bring their own spaces."""
    while el is not None and el.tag in SCRIPTED and len(el):
        el = el[0]
    if el is None or el.tag in ("mtext", "mspace"):
        return False
    return el.tag != "mo" or el.text in CLOSING


def neighbours(el: ET.Element, parents: dict) -> tuple[ET.Element, ET.Element | None, ET.Element | None]:
    """The element with its scripts (`\\log_2`), and what comes before and after them in their row."""
    while parents.get(el) is not None and parents[el].tag in SCRIPTED and parents[el][0] is el:
        el = parents[el]
    row = parents.get(el)
    if row is None or row.tag not in ROWS:
        return el, None, None
    i = list(row).index(el)
    return el, row[i - 1] if i else None, row[i + 1] if i + 1 < len(row) else None


def limit_operator(el: ET.Element, parents: dict) -> None:
    """`\\max_x`: limits underneath in a display, a subscript inline; TeX's spaces around an Op."""
    el.set("movablelimits", "true")
    if parents.get(el) is not None and parents[el].tag in SCRIPTS and parents[el][0] is el:
        parents[el].tag = SCRIPTS[parents[el].tag]
    _, before, after = neighbours(el, parents)
    el.set("lspace", THIN if ordinary(before) else "0")
    spaced = after is not None and not opens(after) and (after.text or "") not in NO_SPACE_AFTER_OP
    el.set("rspace", THIN if spaced else "0")


def function_name(el: ET.Element, parents: dict) -> None:
    """`\\log`, `\\operatorname{softmax}`: applied to what follows (U+2061), with TeX's thin spaces."""
    text = el.text or ""
    if el.tag == "mo" and len(text) > 1 and text.replace("\u2006", "").isalpha() and text != "mod":
        if text in LIMIT_OPERATORS or el.get("movablelimits") == "true":
            limit_operator(el, parents)
            return
        el.tag = "mi"  # \operatorname{softmax}: a function name, as \log
    elif not (el.tag == "mi" and len(text) > 1 and text.isalpha() and el.get("mathvariant") is None):
        return  # latex2mathml sets letters one by one: a longer <mi> is a name (\log, \exp)
    group, before, after = neighbours(el, parents)
    row = parents.get(group)
    if after is not None:  # applied to what follows, with a thin space unless that opens with a delimiter
        apply = ET.Element("mo", {} if opens(after) else {"rspace": THIN})
        apply.text = "\u2061"
        row.insert(list(row).index(group) + 1, apply)
        parents[apply] = row
    if ordinary(before):  # TeX's thin space between a symbol and a function name: x \log y
        row.insert(list(row).index(group), ET.Element("mspace", {"width": THIN}))


def large_operator(el: ET.Element, parents: dict) -> None:
    """`\\sum_i` as `\\max_x` (latex2mathml sets its limits underneath at a display's top only)."""
    if el.tag in SCRIPTED and el[0].tag == "mo" and el[0].text in LARGE_OPERATORS:
        el.tag = SCRIPTS.get(el.tag, el.tag)
        el[0].set("movablelimits", "true")
        # as TeX: no more space than the = before it brings
        el[0].set("lspace", THIN if ordinary(neighbours(el, parents)[1]) else "0")


def symbol(el: ET.Element) -> None:
    """`\\mathbb{1}`, `\\mathbf`, `\\bm` as Unicode's mathematical letters (MathML Core ignores
    `mathvariant` but for `normal`); `\\infty`, `|`, `\\lVert` not stretched or spaced as operators;
    accents that cover their base (`\\overline{p_B}`); `\\!` and the named spaces, which MathML Core
    does not know, as lengths."""
    text = el.text or ""
    if el.tag in ("mi", "mn", "mo") and el.get("mathvariant") not in (None, "normal"):
        variant = el.attrib.pop("mathvariant")
        el.text = "".join(styled(c, variant) if c.isalnum() else c for c in text)
    if el.tag == "mo" and text in ORDINARY:  # as an operator it would get an operator's spaces
        el.tag = "mi"
        el.set("mathvariant", "normal")
    if el.tag == "mo" and text in ("|", "\u2016"):  # TeX's | and \| are ordinary symbols, \lvert...\rvert fences
        el.set("lspace", "0")
        el.set("rspace", "0")
        el.attrib.setdefault("stretchy", "false")
    if el.tag in ("mover", "munder") and len(el) == 2 and el[1].tag == "mo" and el[1].text in ACCENTS:
        el.set("accent" if el.tag == "mover" else "accentunder", "true")
        el[1].attrib.pop("accent", None)
    if el.tag == "mspace" and el.get("width") in SPACES:
        width = SPACES[el.attrib.pop("width")]
        if width.startswith("-"):  # MathML Core's mspace has no negative width
            el.set("style", f"margin-left:{width}")
        else:
            el.set("width", width)


def upright_letter(el: ET.Element) -> bool:
    return el.tag == "mi" and el.get("mathvariant") == "normal" and (el.text or "").isalpha()


def typeset(math: str) -> str:
    """latex2mathml's MathML laid out as TeX lays it out, in MathML Core."""
    root = ET.fromstring(re.sub(r"&(?!#?\w+;)", "&amp;", math))  # a bare & that latex2mathml left as text
    parents = {child: parent for parent in root.iter() for child in parent}
    for el in list(root.iter()):
        function_name(el, parents)
        large_operator(el, parents)
        symbol(el)
    for row in root.iter():  # \mathrm{KL}: latex2mathml's letters one by one, as one identifier
        i = 0
        while i < len(row):
            run = len(list(itertools.takewhile(upright_letter, row[i:])))
            if run > 1:
                row[i].text = "".join(c.text or "" for c in row[i : i + run])
                del row[i].attrib["mathvariant"]
                del row[i + 1 : i + run]
            i += 1
    # Fewer elements to style and lay out: latex2mathml wraps every group in an <mrow>, which lays out
    # as its one child would; the formula's outer <mrow> as the <math> itself. (An <mrow> of several
    # children stays: its fences stretch to it.)
    for parent in list(root.iter()):
        for i, child in enumerate(parent):
            while child.tag == "mrow" and len(child) == 1 and not child.attrib:
                parent[i] = child = child[0]
    if len(root) == 1 and root[0].tag == "mrow" and not root[0].attrib:
        root[:] = list(root[0])
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)


def mathml(tex: str, display: str, node: nodes.Node) -> str:
    """The formula as a <math> element; a warning (located at the node) if it cannot be finished."""
    for pattern, replacement in PRE_SUBSTITUTIONS:
        tex = pattern.sub(replacement, tex)
    try:
        out = convert(tex, display=display).replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "", 1)
        out = typeset(out)
    except Exception as err:  # latex2mathml raises its own and built-in exceptions on TeX it cannot read
        logger.warning(f"cannot render the formula {tex.strip()!r} as MathML: {err}", location=node)
        return f"<code>{escape(tex)}</code>"
    leftover = LEFT_AS_TEXT.findall(unescape(re.sub(r"<[^>]+>", " ", out)))
    if leftover:
        logger.warning(
            f"the formula {tex.strip()!r} has TeX that latex2mathml does not convert ({', '.join(leftover)}); "
            "write it another way (for example \\operatorname{name} for a function name it does not know)",
            location=node,
        )
    if display == "block":  # it scrolls when wider than the screen, so the keyboard can reach it (WCAG 2.1.1)
        out = out.replace("<math ", '<math tabindex="0" ', 1)
    return out


def visit_math(self, node: nodes.math) -> None:
    self.body.append(mathml(node.astext(), "inline", node))
    raise nodes.SkipNode


def display_parts(tex: str, nowrap: bool = False) -> list[str]:
    """A display's equations: its paragraphs, each with rows split at `\\\\` and aligned at `&`."""
    if nowrap:
        return [tex]
    parts = [p for p in tex.split("\n\n") if p.strip()]
    return [rf"\begin{{split}}{p}\end{{split}}" if re.search(r"\\\\|&", ENVIRONMENT.sub("", p)) else p for p in parts]


def visit_displaymath(self, node: nodes.math_block) -> None:
    """As Sphinx's MathJax renderer lays out a display: an equation number with its permalink,
    paragraphs of a multi-line block as separate equations, rows split at `\\\\` and aligned at `&`."""
    self.body.append(self.starttag(node, "div", CLASS="math"))
    if node["number"]:
        self.body.append(f'<span class="eqno">({get_node_equation_number(self, node)})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    for part in display_parts(node.astext(), node["nowrap"]):
        self.body.append(mathml(part, "block", node))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def section_title(tree: nodes.document, section_id: str) -> nodes.title | None:
    for section in tree.findall(nodes.section):
        if section_id in section["ids"] and isinstance(section[0], nodes.title):
            return section[0]
    return None


def math_in_link_text(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Give a `{ref}` to a section whose title has math the title's nodes (math included) as its text."""
    labels = app.env.get_domain("std").labels  # label -> (docname, section id, plain title)
    titles = {anchor: (doc, plain) for doc, anchor, plain in labels.values() if "\\" in plain}
    if not titles:
        return
    for ref in list(doctree.findall(nodes.reference)):
        anchor = ref.get("refid") or ref.get("refuri", "").rpartition("#")[2]
        doc, plain = titles.get(anchor, (None, None))
        if doc is None or ref.astext() != plain or len(ref) != 1 or not isinstance(ref[0], nodes.inline):
            continue
        title = section_title(doctree if doc == docname else app.env.get_doctree(doc), anchor)
        if title is not None:
            del ref[0][:]
            ref[0] += [copy.deepcopy(child) for child in title.children]


def setup(app: Sphinx) -> dict:
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_displaymath, None))
    app.connect("doctree-resolved", math_in_link_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
