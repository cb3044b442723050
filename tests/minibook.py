"""A one-chapter book with the project's real configuration, for tests of the build and the check."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from conftest import ROOT

FRONT = textwrap.dedent(
    """\
    ---
    jupytext:
      text_representation:
        extension: .md
        format_name: myst
    kernelspec:
      display_name: Python 3
      language: python
      name: python3
    ---
    """
)


def mini_book(tmp_path: Path, chapter_code: str) -> Path:
    """A one-chapter book that uses the project's real configuration."""
    shutil.copy2(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copy2(ROOT / "references.bib", tmp_path / "references.bib")
    # the extensions in book/_ext/ import tools/sources.py and tools/assignments.py
    shutil.copytree(ROOT / "tools", tmp_path / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("_ext", "_static", "_templates"):  # the extensions, assets and templates _config.yml names
        shutil.copytree(ROOT / "book" / folder, tmp_path / "book" / folder)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: chapter\n")
    (tmp_path / "index.md").write_text("# Mini book\n\nA test book.\n")
    (tmp_path / "chapter.md").write_text(
        FRONT + "\n# Chapter\n\nSome prose.\n\n```{code-cell} ipython3\n" + chapter_code + "\n```\n"
    )
    return tmp_path
