"""The build fails loudly and precisely, and notices a changed library."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import build
from conftest import ROOT, run_build

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
    # the configuration loads local Sphinx extensions from tools/
    shutil.copytree(ROOT / "tools", tmp_path / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("_ext", "_static", "_templates"):  # the HTML extension, assets and templates it names
        shutil.copytree(ROOT / "book" / folder, tmp_path / "book" / folder)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: chapter\n")
    (tmp_path / "index.md").write_text("# Mini book\n\nA test book.\n")
    (tmp_path / "chapter.md").write_text(
        FRONT + "\n# Chapter\n\nSome prose.\n\n```{code-cell} ipython3\n" + chapter_code + "\n```\n"
    )
    return tmp_path


def test_failing_cell_fails_the_build_and_names_the_chapter(tmp_path: Path) -> None:
    root = mini_book(tmp_path, 'x = 1\nraise ValueError("deliberately broken cell")')
    result = run_build("html", root, root=root)
    assert result.returncode != 0
    assert "chapter.md: a code cell raised ValueError: deliberately broken cell" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_reference_fails_the_build(tmp_path: Path) -> None:
    root = mini_book(tmp_path, "print(1)")
    with (root / "chapter.md").open("a") as f:
        f.write("\nSee {ref}`no-such-label` and {cite}`no-such-key2099`.\n")
    result = run_build("html", root, root=root)
    assert result.returncode != 0
    assert "no-such-label" in result.stderr
    assert "no-such-key2099" in result.stderr


def test_library_change_reexecutes_chapters(tmp_path: Path) -> None:
    pkg = tmp_path / "src" / "mlsafety"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("VALUE = 'first'\n")
    code = (
        "import importlib.util, pathlib\n"
        "spec = importlib.util.spec_from_file_location('pkg', pathlib.Path('src/mlsafety/__init__.py').resolve())\n"
        "pkg = importlib.util.module_from_spec(spec); spec.loader.exec_module(pkg)\n"
        "print('library says', pkg.VALUE)"
    )
    root = mini_book(tmp_path, code)
    first = run_build("html", root, root=root)
    assert first.returncode == 0, first.stderr
    page = root / "_build" / "html" / "chapter.html"
    assert "library says first" in page.read_text()
    (pkg / "__init__.py").write_text("VALUE = 'second'\n")
    second = run_build("html", root, root=root)
    assert second.returncode == 0, second.stderr
    assert "re-executing every chapter" in second.stdout
    assert "library says second" in page.read_text()


def test_package_hash_tracks_every_module(tmp_path: Path) -> None:
    pkg = tmp_path / "src" / "mlsafety"
    pkg.mkdir(parents=True)
    (pkg / "a.py").write_text("A = 1\n")
    build_dir = tmp_path / "_build"
    (build_dir / ".jupyter_cache").mkdir(parents=True)
    assert build.invalidate_if_package_changed(tmp_path, build_dir) is False
    assert (build_dir / ".jupyter_cache").exists()
    assert build.invalidate_if_package_changed(tmp_path, build_dir) is False
    (pkg / "b.py").write_text("B = 2\n")
    assert build.invalidate_if_package_changed(tmp_path, build_dir) is True
    assert not (build_dir / ".jupyter_cache").exists()
