"""Sphinx extension: pages that load fast, offline, without console errors (issues #8, #19).

What it changes in Jupyter Book's default HTML, and why (measured with `make lighthouse`):
- With thebe off (`launch_buttons.thebe: false`) sphinx-thebe still adds its loader, per-page scripts
  and a configuration script that declares `const THEBE_JS_URL` twice (a console error): dropped.
- The theme's colour mode defaults to "", which its script rejects ("Got invalid theme mode"): "auto".
- Scripts in the head are deferred, so that the first paint waits only for the stylesheets (over
  HTTP/2 with gzip, issue #19: 90-160 ms earlier in Lighthouse's simulated landing page). Sphinx has
  no public way to change how other extensions' scripts load (`loading_method` is for one's own
  `add_js_file`: https://github.com/sphinx-doc/sphinx/issues/13917), so `tidy_page` rebuilds each
  entry with Sphinx's private `_JavaScript` class, through `type(item)`; tests/source/test_html_pages.py
  fails with a clear message if that class changes. (Joining the eight small stylesheets into one
  gained nothing measurable over HTTP/2.)
- Figures load lazily: plots below the fold do not compete with the text the reader sees first.
- Code is highlighted with fewer elements: names, punctuation and spaces, which the theme's light
  and dark styles draw as the code's plain text, get no `<span>` each (about 60% of a chapter's
  spans, a third of its DOM elements): a Pygments filter (public API) on the book's Python lexers.
- `html_baseurl` can be set from the environment (BOOK_BASEURL), for a deployment at another
  address; the Open Graph tags, sitemap.xml (sphinx-sitemap's: complete on a clean build, such as
  the deploy's) and robots.txt (written here) use it. The site's index.html forwards to the landing
  page as a valid page (language, title).
- After an edit to book/_static alone, every page is rebuilt, so that the new file is copied and
  linked with its new checksum (Sphinx 7 skips both when no page is out of date).
Math has no script either (book/_ext/mathml.py renders MathML); book/_templates/layout.html leaves
out the theme's Font Awesome JavaScript (1.5 MB; the icons also come from its web font) and the
search scripts on pages other than the search page.
"""

from __future__ import annotations

import hashlib
import os
import re
from html import escape
from pathlib import Path

from docutils import nodes
from pygments.filter import simplefilter
from pygments.lexers import find_lexer_class_by_name
from pygments.styles import get_style_by_name
from pygments.token import STANDARD_TYPES, Name, Punctuation, Text
from pygments.util import ClassNotFound
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError
from sphinx.util import logging

logger = logging.getLogger(__name__)

THEBE_MARKERS = ("THEBE_JS_URL", "sphinx-thebe", "x-thebe-config", "kernelName = ")


def thebe_enabled(config: Config) -> bool:
    """Whether `launch_buttons: thebe` of _config.yml is on (Jupyter Book copies it into the theme's options)."""
    launch = (config.html_theme_options or {}).get("launch_buttons") or {}
    return bool(launch.get("thebe"))


def configure(app: Sphinx, config: Config) -> None:
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "auto")
    config.html_context = context
    if baseurl := os.environ.get("BOOK_BASEURL") or config.html_baseurl:
        if not re.match(r"https?://[^/\s]+", baseurl):  # else canonical links and the sitemap are relative
            raise ConfigError(
                f"_config.yml: html: baseurl (or BOOK_BASEURL) is {baseurl!r}; give the site's full address, "
                "https://<host>/<path>/, or leave it empty"
            )
        config.html_baseurl = baseurl.rstrip("/") + "/"
        config.ogp_site_url = config.ogp_site_url or config.html_baseurl
    else:  # a site with no address has no sitemap; sphinx-sitemap would warn (failing -W)
        config.suppress_warnings = [*config.suppress_warnings, "sitemap.configuration"]
    # The landing page's link to the whole-book PDF, which the deployment publishes beside the HTML
    # (tools/build.py writes _build/pdf/<name>; the name is _config.yml's, read by tools/sources.py,
    # which is importable here because book/_ext/notebooks.py puts tools/ on the path).
    from sources import pdf_name

    name = pdf_name(Path(app.srcdir))
    substitutions = dict(config.myst_substitutions or {})
    substitutions.setdefault(
        "pdf_link",
        f"[{name}]({config.html_baseurl}{name})" if config.html_baseurl else f"`make pdf` writes `_build/pdf/{name}`",
    )
    config.myst_substitutions = substitutions


def has_thebe_marker(text: object) -> bool:
    return any(marker in str(text) for marker in THEBE_MARKERS)


def tidy_doctree(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Lazy figures; no per-page thebe scripts when thebe is off."""
    for image in doctree.findall(nodes.image):
        image.setdefault("loading", "lazy")
    if thebe_enabled(app.config):
        return
    for raw in list(doctree.findall(nodes.raw)):
        if "html" in raw.get("format", "") and has_thebe_marker(raw.astext()):
            raw.parent.remove(raw)


# The languages of the book's code (code cells are `ipython3`); other languages keep every span.
PLAIN_TEXT_LANGUAGES = ("ipython3", "ipython", "python")
# Token kinds that may be drawn as plain text; never comments, strings, errors or prompts, which
# other tools (sphinx-copybutton's prompt stripping) may look for.
PLAIN_TEXT_KINDS = (Name, Punctuation, Text)


def plain_text_tokens(style_names: list[str]) -> frozenset:
    """The token types that every named Pygments style draws exactly as the code's plain text."""
    styles = [get_style_by_name(name) for name in style_names]
    return frozenset(
        token
        for token in STANDARD_TYPES
        if any(token in kind for kind in PLAIN_TEXT_KINDS)
        and all(style.style_for_token(token) == style.style_for_token(Text) for style in styles)
    )


@simplefilter
def plain_text(self, lexer, stream, options):  # Pygments' filter signature
    """The token types in `plain` become plain text, which the HTML formatter writes without a
    `<span>` (and joins with the plain text beside it)."""
    for token, value in stream:
        yield (Text if token in options["plain"] else token), value


def plain_text_lexer(alias: str, plain: frozenset) -> type:
    """Pygments' lexer for `alias`, with the plain_text filter."""
    base = find_lexer_class_by_name(alias)

    def __init__(self, **options: object) -> None:
        base.__init__(self, **options)
        self.add_filter(plain_text(plain=plain))

    return type(base.__name__, (base,), {"__init__": __init__})


def highlight_with_fewer_spans(app: Sphinx) -> None:
    """Register the Python lexers with the filter, for the theme's light and dark highlighting styles."""
    theme = getattr(app.builder, "theme", None)
    if app.builder.format != "html" or theme is None:
        return
    options = theme.get_options(getattr(app.builder, "theme_options", {}))
    names = [options.get("pygments_light_style"), options.get("pygments_dark_style")]
    names = [n for n in names if n] or [app.config.pygments_style or "sphinx"]
    try:
        plain = plain_text_tokens(names)
    except ClassNotFound as err:  # the theme falls back to another style (and says so): keep every span
        logger.info(f"html_pages.py: code keeps every highlighting span ({err})")
        return
    for alias in PLAIN_TEXT_LANGUAGES:
        app.add_lexer(alias, plain_text_lexer(alias, plain))


# Inline scripts on every page set DOCUMENTATION_OPTIONS fields while the page is parsed.
KEEP_BLOCKING = ("documentation_options.js",)


def should_defer(script: object) -> bool:
    """Sphinx's and the extensions' scripts wait for the page to be parsed (they all start on
    DOMContentLoaded or later), so that they do not hold up the first paint."""
    filename = str(getattr(script, "filename", "") or "")
    attributes = getattr(script, "attributes", {})
    return (
        bool(filename)
        and "async" not in attributes
        and "defer" not in attributes
        and not filename.endswith(KEEP_BLOCKING)
        and "://" not in filename
    )


def tidy_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: nodes.document | None) -> None:
    """Drop thebe's scripts and stylesheet when thebe is off; defer the other scripts, except on
    the search page, whose own scripts (written by Sphinx's search template, not deferrable here)
    need doctools.js at once.
    """
    drop_thebe = not thebe_enabled(app.config)
    for key in ("script_files", "css_files"):
        if key not in context:
            continue
        keep = []
        for item in context[key]:
            body = getattr(item, "attributes", {}).get("body", "")
            if drop_thebe and (has_thebe_marker(item) or has_thebe_marker(body)):
                continue
            if key == "script_files" and pagename != "search" and should_defer(item):
                item = type(item)(item.filename, priority=item.priority, **{**item.attributes, "defer": "defer"})
            keep.append(item)
        context[key] = keep


# The front door names an empty icon: with none, Chromium asks for /favicon.ico, which the site lacks
# (a 404 in the console); with the book's icon, the instant forward aborts that request (an error too).
REDIRECT = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta http-equiv="refresh" content="0; url={target}">
<link rel="canonical" href="{canonical}">
<link rel="icon" href="data:,">
</head>
<body><p><a href="{target}">{title}</a></p></body>
</html>
"""


class CitationListMixin:
    """Citation lists that assistive technology reads as lists.

    Docutils writes `<div role="list">` around citations marked `role="doc-biblioentry"`, a role
    that is deprecated and not a list item (axe: aria-required-children, aria-deprecated-role;
    https://github.com/w3c/dpub-aria/pull/22).
    """

    def visit_citation(self, node: nodes.Element) -> None:
        super().visit_citation(node)  # type: ignore[misc]
        self.body[-1] = self.body[-1].replace('role="doc-biblioentry"', 'role="listitem"')  # type: ignore[attr-defined]


def use_citation_list_translator(app: Sphinx) -> None:
    """Mix the fix into whatever translator the theme set up (it adds its own mixin first)."""
    if app.builder.format != "html":
        return
    base = app.registry.get_translator_class(app.builder) or app.builder.default_translator_class
    app.set_translator(app.builder.name, type("BookHTMLTranslator", (CitationListMixin, base), {}), override=True)


def visit_hidden_cell(self: object, node: nodes.Element) -> None:
    """myst-nb's folded code cell, without its aria-label "Toggle hidden content", which differed
    from the visible "Show code cell source" (WCAG 2.5.3, label in name; axe and Lighthouse flag it).
    The visible prompt is now the accessible name. Not yet reported to MyST-NB: see CONTRIBUTING.md,
    "Where the book works around other packages"."""
    self.body.append(f'<details class="admonition hide {" ".join(node["classes"])}">\n<summary>\n')  # type: ignore[attr-defined]
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')  # type: ignore[attr-defined]
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n</summary>\n')  # type: ignore[attr-defined]


def write_site_files(app: Sphinx, exception: Exception | None) -> None:
    """robots.txt (naming sphinx-sitemap's sitemap.xml) and the site's front door (index.html): a
    small valid page that forwards to the landing page, in place of the bare `<meta>` tag that
    sphinx-external-toc writes there (no language, no title).
    """
    if exception is not None or app.builder.format != "html":
        return
    root = app.config.root_doc
    if root != "index":
        target = f"{root}.html"
        Path(app.outdir, "index.html").write_text(
            REDIRECT.format(
                lang=app.config.language or "en",
                title=app.config.html_title or app.config.project,
                target=target,
                canonical=(app.config.html_baseurl or "") + target,
            ),
            encoding="utf-8",
        )
    lines = ["User-agent: *", "Allow: /"]
    if app.config.html_baseurl:  # sphinx-sitemap writes the sitemap only for a site with an address
        lines.append(f"Sitemap: {app.config.html_baseurl}{app.config.sitemap_filename}")
    Path(app.outdir, "robots.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def rebuild_if_static_changed(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Sphinx 7 copies html_static_path only when some page is rebuilt, and every page links each
    stylesheet with its checksum (`reader.css?v=...`): after an edit to book/_static alone, the old
    file stayed. Rebuild every page then (sphinx-doc/sphinx#1810, fixed in Sphinx 8.2 by #13236)."""
    digest = hashlib.sha256()
    for folder in app.config.html_static_path:  # the book's, and extensions' (absolute paths)
        base = Path(app.confdir, folder)
        for path in sorted(base.rglob("*")):
            if path.is_file():
                digest.update(f"{base.name}/{path.relative_to(base)}".encode() + path.read_bytes())
    previous = getattr(env, "book_static_digest", None)
    env.book_static_digest = digest.hexdigest()
    return sorted(env.found_docs) if previous not in (None, env.book_static_digest) else []


def setup(app: Sphinx) -> dict:
    from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput

    app.add_node(HideCodeCellNode, override=True, html=(visit_hidden_cell, depart_HideCellInput))
    app.connect("config-inited", configure, priority=900)
    app.connect("builder-inited", use_citation_list_translator, priority=900)
    app.connect("builder-inited", highlight_with_fewer_spans)
    app.connect("env-get-outdated", rebuild_if_static_changed)
    app.connect("doctree-resolved", tidy_doctree, priority=900)
    app.connect("html-page-context", tidy_page, priority=900)
    app.connect("build-finished", write_site_files, priority=800)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
