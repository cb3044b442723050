"""The printed book and the per-chapter handouts (issue #18).

- In LaTeX, a code cell tagged `print-output-only` (or `hide-input`, whose code the web page
  already folds away) prints its output only: the figure or table, not the plotting code, which
  the web page and the notebook keep.
- The whole-book PDF drops the pages named in `print_omit_pages` (the bibliography page: Sphinx's
  LaTeX writer already gathers every citation at the end, so it would print as an empty chapter).
- `book_handout: true` (set by `make handouts`) adds the Sphinx tag `handout`, so a chapter's
  `{only} html or handout` reading list prints in its handout. There a `{ref}` or `{eq}` to
  another chapter prints its title or the book's equation number (Sphinx would print the bare
  label, or `??`, since the target is in no document of the handout).
- Each page that matches `handout_pages` links its handout PDF from the download menu.
"""

from __future__ import annotations

import fnmatch

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.transforms.post_transforms import SphinxPostTransform

OUTPUT_ONLY_TAGS = ("tag_print-output-only", "tag_hide-input")
HANDOUT_DIR = "_handouts"


def add_handout_tag(app: Sphinx, config: Config) -> None:
    if config.book_handout:
        app.tags.add("handout")


def lecture_documents_only(app: Sphinx, env) -> None:
    """For `make handouts`: LaTeX documents for the lecture pages only.

    jupyter-book's `--individualpages` sets a document for every page once Sphinx has started (so
    not before `config-inited`), the landing page too, whose toctree pulls in the whole book: a
    second whole-book PDF per edition that no handout needs. The LaTeX builder reads the list when
    it writes, after this event.
    """
    documents = app.config.latex_documents
    if app.config.book_handout and app.builder.format == "latex" and len(documents) > 1:  # once expanded
        app.config.latex_documents = [
            entry
            for entry in documents
            if any(fnmatch.fnmatch(entry[0], pattern) for pattern in app.config.handout_pages)
        ]


def print_outputs_only(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """In LaTeX: drop the code of output-only cells, and the pages the whole book omits."""
    if app.builder.format != "latex":
        return
    for cell in list(doctree.findall(nodes.container)):
        if any(tag in cell["classes"] for tag in OUTPUT_ONLY_TAGS):
            for child in list(cell.children):
                if "cell_input" in child.get("classes", []):
                    cell.remove(child)
    for page in list(doctree.findall(addnodes.start_of_file)):
        if page.get("docname") in app.config.print_omit_pages:
            page.parent.remove(page)


class DistantReferences(SphinxPostTransform):
    """A `{ref}` whose target is outside this LaTeX document: its title, not the bare label."""

    default_priority = 4  # before Sphinx's MathReferenceTransform (5) and ReferencesResolver (10)
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        std = self.env.get_domain("std")
        inside = getattr(self.app.builder, "docnames", set())
        equations = self.env.get_domain("math").equations
        for node in list(self.document.findall(addnodes.pending_xref)):
            target = node.get("reftarget", "")
            if node.get("refdomain") == "std" and node.get("reftype") == "ref":
                docname, _, title = std.labels.get(target, ("", "", ""))
                if docname and docname not in inside:
                    text = node.astext() if node.get("refexplicit") else title
                    node.replace_self(nodes.emphasis(text, text))
            elif node.get("refdomain") == "math" and target in equations:
                docname, number = equations[target]
                if docname not in inside:  # the book's number, e.g. (3.2), as the web page shows it
                    found = self.env.toc_fignumbers.get(docname, {}).get("displaymath", {})
                    number = ".".join(map(str, found.get(nodes.make_id(f"equation-{target}"), [number])))
                    node.replace_self(nodes.Text(f"({number})"))


def link_handout(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """A "Handout (PDF)" entry in the page's download menu."""
    if doctree is None or not any(fnmatch.fnmatch(pagename, p) for p in app.config.handout_pages):
        return
    for group in context.get("header_buttons") or []:
        if group.get("label") == "download-buttons":
            group["buttons"].insert(
                0,
                {
                    "type": "link",
                    "url": f"{context['pathto'](HANDOUT_DIR, 1)}/{pagename}.pdf",
                    "text": "Handout (PDF)",
                    "tooltip": "This chapter alone as a printable PDF",
                    "icon": "fas fa-file-pdf",
                    "label": "handout-button",
                },
            )


def setup(app: Sphinx) -> dict:
    app.add_config_value("book_handout", False, "env", types=[bool])
    app.add_config_value("print_omit_pages", [], "env", types=[list])
    app.add_config_value("handout_pages", [], "html", types=[list])
    app.connect("config-inited", add_handout_tag)
    app.connect("env-updated", lecture_documents_only)
    app.connect("doctree-resolved", print_outputs_only)
    app.add_post_transform(DistantReferences)
    app.connect("html-page-context", link_handout, priority=650)  # after notebooks (600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
