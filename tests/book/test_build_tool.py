"""The build fails loudly and precisely, and notices a changed library."""

from __future__ import annotations

from pathlib import Path

import build
from conftest import run_build
from minibook import mini_book


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
