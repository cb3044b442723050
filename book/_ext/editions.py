"""Student and instructor editions from one source (issue #18).

`book_edition` in _config.yml (sphinx: config:) is `student` (the public site) or `instructor`;
`make book EDITION=...` / `tools/build.py --edition ...` builds the other one. The student edition
drops every exercise solution from the pages, so its text is in no HTML page, the PDF or the
search index (book/_ext/notebooks.py drops them from the notebooks); and it publishes no copy
of the Markdown sources (`html_copy_source`), which hold the solutions, nor the theme's button
that downloads one.

Why our own transform and not sphinx-exercise's `hide_solutions`: that option drops plain
`{solution}` blocks but crashes the build on gated ones (`{solution-start}`/`{solution-end}`, which
our chapters use for solutions with code cells), and would leave their content on the page:
https://github.com/executablebooks/sphinx-exercise/issues/89 (open; when it is fixed, setting
`hide_solutions` from `book_edition` can replace the transform). Removing the merged solution nodes
after sphinx-exercise has built them handles both forms with its public node class.
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError
from sphinx.transforms import SphinxTransform
from sphinx_exercise.nodes import solution_node

EDITIONS = ("student", "instructor")


class DropSolutions(SphinxTransform):
    """In the student edition, remove every solution once sphinx-exercise has merged gated ones."""

    default_priority = 11  # after sphinx-exercise's MergeGatedSolutions (10)

    def apply(self) -> None:
        if self.config.book_edition != "student":
            return
        for node in list(self.document.findall(solution_node)):
            node.parent.remove(node)


def check_edition(app: Sphinx, config: Config) -> None:
    if config.book_edition not in EDITIONS:
        raise ConfigError(
            f"_config.yml (sphinx: config:): book_edition is {config.book_edition!r}; use one of {', '.join(EDITIONS)}"
        )
    if config.book_edition == "student":
        config.html_copy_source = False  # _sources/<page>.md would carry the solutions
    if config.hide_solutions:
        raise ConfigError(
            "_config.yml (sphinx: config:): do not set hide_solutions (it breaks gated solutions, "
            "sphinx-exercise issue #89); set book_edition: student instead"
        )


def drop_source_button(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Without copied sources, sphinx-book-theme's "download .md" button would lead nowhere."""
    if app.config.html_copy_source:
        return
    for group in context.get("header_buttons") or []:
        if group.get("label") == "download-buttons":
            group["buttons"] = [b for b in group["buttons"] if b.get("label") != "download-source-button"]


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_exercise")
    app.add_config_value("book_edition", "student", "env", types=[str])
    app.connect("config-inited", check_edition)
    app.add_transform(DropSolutions)
    app.connect("html-page-context", drop_source_button, priority=550)  # after the theme's buttons (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
