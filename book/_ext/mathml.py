"""Sphinx extension: the book's math rendered when the book is built, as MathML (issue #19).

Pages carry finished math: no math script, formulas show with JavaScript off, in reader mode, in
print and in feed readers, and browsers lay MathML out natively (MathML Core: Chrome, Edge,
Firefox, Safari). MathJax's client-side typesetting cost a phone about 0.9 s of script and
thousands of DOM elements per chapter.

- HTML math renderer `mathml` (Sphinx's public `add_html_math_renderer`, selected with
  `html_math_renderer: mathml` in _config.yml), converting with the pure-Python `latex2mathml`.
  Why our own renderer: no maintained Sphinx extension renders MathML at build time
  (sphinxcontrib-katex's prerender needs Node.js and KaTeX's stylesheet and fonts).
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
import re
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


def mathml(tex: str, display: str, node: nodes.Node) -> str:
    """The formula as a <math> element; a warning (located at the node) if it cannot be finished."""
    try:
        out = convert(tex, display=display).replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "", 1)
    except Exception as err:  # latex2mathml raises its own and built-in exceptions on TeX it cannot read
        logger.warning(f"cannot render the formula {tex.strip()!r} as MathML: {err}", location=node)
        return f"<code>{escape(tex)}</code>"
    leftover = LEFT_AS_TEXT.findall(unescape(re.sub(r"<[^>]+>", " ", out)))
    if leftover:
        logger.warning(
            f"the formula {tex.strip()!r} has TeX that latex2mathml does not convert ({', '.join(leftover)}); "
            "write it another way (for example \\operatorname{arg}\\max for \\arg\\max)",
            location=node,
        )
    if display == "block":  # it scrolls when wider than the screen, so the keyboard can reach it (WCAG 2.1.1)
        out = out.replace("<math ", '<math tabindex="0" ', 1)
    return out


def visit_math(self, node: nodes.math) -> None:
    self.body.append(mathml(node.astext(), "inline", node))
    raise nodes.SkipNode


def visit_displaymath(self, node: nodes.math_block) -> None:
    """As Sphinx's MathJax renderer lays out a display: an equation number with its permalink,
    paragraphs of a multi-line block as separate equations, rows split at `\\\\` and aligned at `&`."""
    self.body.append(self.starttag(node, "div", CLASS="math"))
    if node["number"]:
        self.body.append(f'<span class="eqno">({get_node_equation_number(self, node)})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    parts = [node.astext()] if node["nowrap"] else [p for p in node.astext().split("\n\n") if p.strip()]
    for part in parts:
        if not node["nowrap"] and re.search(r"\\\\|&", ENVIRONMENT.sub("", part)):
            part = rf"\begin{{split}}{part}\end{{split}}"
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
