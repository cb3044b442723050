"""The HTML extension's work-arounds (book/_ext/html_pages.py, book/_templates/), without a build (issue #20).

Each one that leans on another package's internals or copies its markup is checked here against
the installed package, so that an upgrade that changes what it relies on fails with a message
saying what to do, instead of quietly slowing or breaking the pages. The highlighting filter (issue
#19) is checked to draw every character of the code in the colour and weight it had before.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from types import SimpleNamespace

import pydata_sphinx_theme
import pytest
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.styles import get_style_by_name
from pygments.token import Comment, Generic, Name, Operator, Punctuation, String

import html_pages  # book/_ext/ is on sys.path through tests/conftest.py
from conftest import ROOT

THEME = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme"
TEMPLATES = ROOT / "book" / "_templates"


def theme_styles() -> list[str]:
    """The highlighting styles (light, dark) of the theme, as its own theme.conf names them."""
    import configparser

    conf = configparser.ConfigParser()
    conf.read(THEME / "theme.conf")
    return [conf["options"]["pygments_light_style"], conf["options"]["pygments_dark_style"]]


CODE = '''import torch.nn.functional as F
from mlsafety import MLP  # the library


@torch.no_grad()
def accuracy(model: MLP, x, y) -> float:
    """Share of right answers."""
    logits = model(x)[:, 0] ** 2 + 1.5e-3
    return (logits.argmax(dim=-1) == y).float().mean().item() if len(y) else float("nan")
%timeit accuracy(model, x_test, y_test)
print(f"{acc:.3f}", [i for i in range(3)], {"a": None, 'b': True})
'''


def per_character_style(lexer: object, style_name: str) -> list[dict]:
    style = get_style_by_name(style_name)
    return [style.style_for_token(token) for token, value in lexer.get_tokens(CODE) for _ in value]


@pytest.mark.parametrize("baseurl", ["ml-safety-notes.github.io/intro-ml-safety/", "/intro-ml-safety/", "https:// x"])
def test_an_address_without_its_scheme_and_host_is_refused(baseurl: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Canonical links and the sitemap need the site's full address; a bare host or path is a config error."""
    from sphinx.errors import ConfigError

    monkeypatch.delenv("BOOK_BASEURL", raising=False)
    config = SimpleNamespace(html_context={}, html_baseurl=baseurl, ogp_site_url="", suppress_warnings=[])
    with pytest.raises(ConfigError, match=r"html: baseurl \(or BOOK_BASEURL\) is .*give the site's full address"):
        html_pages.configure(SimpleNamespace(srcdir=str(ROOT)), config)


@pytest.mark.parametrize("alias", html_pages.PLAIN_TEXT_LANGUAGES)
def test_code_keeps_its_colours_with_fewer_spans(alias: str) -> None:
    """Every character is drawn as before in the theme's light and dark styles, with fewer elements."""
    styles = theme_styles()
    registered = {}
    app = SimpleNamespace(
        builder=SimpleNamespace(
            format="html",
            theme_options={},
            theme=SimpleNamespace(
                get_options=lambda overrides: {"pygments_light_style": styles[0], "pygments_dark_style": styles[1]}
            ),
        ),
        config=SimpleNamespace(pygments_style=None),
        add_lexer=registered.__setitem__,
    )
    html_pages.highlight_with_fewer_spans(app)
    assert set(registered) == set(html_pages.PLAIN_TEXT_LANGUAGES)
    plain, stock = registered[alias](), html_pages.find_lexer_class_by_name(alias)()
    for style in styles:
        assert per_character_style(plain, style) == per_character_style(stock, style), (
            f"{alias}: the highlighting filter changes how some code is drawn in {style}"
        )
    fewer, every = highlight(CODE, plain, HtmlFormatter()), highlight(CODE, stock, HtmlFormatter())
    assert re.sub("<[^>]+>", "", fewer) == re.sub("<[^>]+>", "", every)
    assert fewer.count("<span") < every.count("<span") / 2, (fewer.count("<span"), every.count("<span"))


def test_a_token_drawn_otherwise_keeps_its_span() -> None:
    """Only names, punctuation and spaces drawn as the plain text lose their span: monokai colours
    function names and operators, so they keep theirs; comments and strings always do."""
    plain = html_pages.plain_text_tokens(["monokai"])
    assert Name in plain and Punctuation in plain
    assert Name.Function not in plain and Operator not in plain
    assert not any(token in kind for token in plain for kind in (Comment, String, Generic))


def test_scripts_are_deferred_with_sphinx_script_entries() -> None:
    """tidy_page defers scripts by rebuilding Sphinx's script entries (its private _JavaScript)."""
    from sphinx.builders.html._assets import _JavaScript

    scripts = [
        _JavaScript("_static/documentation_options.js", priority=200),
        _JavaScript("_static/doctools.js", priority=200),
        _JavaScript("_static/togglebutton.js", priority=500, data_x="1"),
        _JavaScript("https://example.org/remote.js"),
    ]
    context = {"script_files": scripts, "css_files": []}
    app = SimpleNamespace(config=SimpleNamespace(html_theme_options={}))
    try:
        html_pages.tidy_page(app, "chapter", "page.html", context, None)
        after = {s.filename: s for s in context["script_files"]}
        deferred = {name for name, s in after.items() if s.attributes.get("defer") == "defer"}
        kept = after["_static/togglebutton.js"]
        ok = isinstance(kept, _JavaScript) and kept.priority == 500 and kept.attributes.get("data_x") == "1"
    except (TypeError, AttributeError, KeyError) as err:
        deferred, ok = set(), f"{type(err).__name__}: {err}"
    assert ok is True and deferred == {"_static/doctools.js", "_static/togglebutton.js"}, (
        f"Sphinx's private _JavaScript (sphinx.builders.html._assets) changed ({ok}, deferred {deferred}): "
        "book/_ext/html_pages.py's tidy_page rebuilds script entries with it to defer them; "
        "update tidy_page, or drop the deferral if Sphinx now offers a public way"
    )


def test_theme_stylesheet_only_imports_basic_css() -> None:
    """book/_templates/layout.html links basic.css in place of the theme's theme.css."""
    theme_css = THEME / "static" / "styles" / "theme.css"
    rules = re.sub(r"/[*].*?[*]/", "", theme_css.read_text(encoding="utf-8"), flags=re.S).split()
    assert rules == ["@import", '"../basic.css";'], (
        f"{theme_css}: pydata-sphinx-theme's stylesheet no longer only imports basic.css; "
        "link theme.css again in book/_templates/layout.html (its `css` block)"
    )


# The theme's blocks that book/_templates/layout.html replaces, as they were when it was written
# (pydata-sphinx-theme 0.17.1), whitespace-normalised.
COPIED_BLOCKS = {"css": "dd6db2452155cd29", "extrahead": "cd87119b6d1ef542"}


@pytest.mark.parametrize("block", COPIED_BLOCKS)
def test_replaced_theme_blocks_are_unchanged_upstream(block: str) -> None:
    layout = (THEME / "layout.html").read_text(encoding="utf-8")
    found = re.search(r"\{%-? block " + block + r" %\}(.*?)\{%-? endblock " + block + r" %\}", layout, re.S)
    digest = hashlib.sha256(" ".join(found.group(1).split()).encode()).hexdigest()[:16] if found else None
    assert digest == COPIED_BLOCKS[block], (
        f"pydata-sphinx-theme's `{block}` block ({THEME / 'layout.html'}) changed: book/_templates/layout.html "
        "replaces it; carry the theme's changes over there, then update COPIED_BLOCKS in this test"
    )


def test_search_button_copy_differs_from_the_theme_only_by_its_label() -> None:
    """book/_templates/search-button-field.html is the theme's, without the aria-label (label in name) and
    with its icon aria-hidden."""
    upstream = (THEME / "components" / "search-button-field.html").read_text(encoding="utf-8")
    ours = (TEMPLATES / "search-button-field.html").read_text(encoding="utf-8")

    def markup(template: str) -> str:
        return " ".join(re.sub(r"\{#.*?#\}", "", template, flags=re.S).split())

    expected = (
        markup(upstream)
        .replace(" aria-label=\"{{ _('Search') }}\"", "")
        .replace(
            '<i class="fa-solid fa-magnifying-glass"></i>',
            '<i class="fa-solid fa-magnifying-glass" aria-hidden="true"></i>',
        )
    )
    assert markup(ours) == expected, (
        f"pydata-sphinx-theme's {THEME / 'components' / 'search-button-field.html'} changed: carry its changes "
        "over to book/_templates/search-button-field.html (keeping the visible text as the button's name), "
        "or drop the copy if the theme's button no longer has an aria-label"
    )


def test_hidden_cell_summary_differs_from_myst_nb_only_by_its_label() -> None:
    """html_pages.visit_hidden_cell is myst-nb's visitor without the aria-label "Toggle hidden content"."""
    from myst_nb.sphinx_ import HideCodeCellNode, visit_HideCellInput

    node = HideCodeCellNode(classes=["above-input"], prompt_show="Show code cell source", prompt_hide="Hide code")
    theirs, ours = SimpleNamespace(body=[]), SimpleNamespace(body=[])
    try:
        visit_HideCellInput(theirs, node)
        html_pages.visit_hidden_cell(ours, node)
    except (KeyError, AttributeError, TypeError) as err:
        pytest.fail(f"myst-nb's folded-cell node changed ({err}): update html_pages.visit_hidden_cell")
    label = ' aria-label="Toggle hidden content"'
    assert label in "".join(theirs.body), (
        "myst-nb's folded code cell no longer has the aria-label that html_pages.visit_hidden_cell removes: "
        "drop visit_hidden_cell and its add_node override in book/_ext/html_pages.py"
    )
    assert "".join(ours.body) == "".join(theirs.body).replace(label, ""), (
        "myst-nb's folded code cell markup changed: carry it over to html_pages.visit_hidden_cell"
    )
