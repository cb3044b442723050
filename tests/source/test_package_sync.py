"""The `mlsafety` package is generated from the chapters: it must match them exactly."""

from __future__ import annotations

import shutil
from pathlib import Path

import export_package

ROOT = Path(__file__).resolve().parents[2]


def test_package_matches_chapters() -> None:
    problems = export_package.stale(ROOT)
    assert not problems, "\n".join(problems) + "\nRun `make package` and commit src/mlsafety."


def copy_project(tmp_path: Path) -> Path:
    for name in ("_toc.yml", "book", "src"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name)
        else:
            shutil.copy2(src, tmp_path / name)
    return tmp_path


def test_check_notices_an_edited_save_cell(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    chapter = root / "book/background/deep-learning-review.md"
    text = chapter.read_text()
    assert "# @save\n" in text
    chapter.write_text(text.replace("# @save\n", "# @save\nEDITED_IN_TEST = 1\n", 1))
    problems = export_package.stale(root)
    assert any("src/mlsafety/background.py" in p for p in problems), problems
    assert export_package.main(["--root", str(root)]) == 0
    assert export_package.stale(root) == []
    assert "EDITED_IN_TEST = 1" in (root / "src/mlsafety/background.py").read_text()


def test_check_notices_a_hand_edit_and_a_stray_module(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    (root / "src/mlsafety/background.py").write_text("# edited by hand\n")
    (root / "src/mlsafety/stray.py").write_text("x = 1\n")
    problems = export_package.stale(root)
    assert any(p.startswith("src/mlsafety/background.py") for p in problems), problems
    assert any(p.startswith("src/mlsafety/stray.py") for p in problems), problems


def test_bad_saved_cell_names_file_and_line(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    chapter = root / "book/background/deep-learning-review.md"
    chapter.write_text(chapter.read_text() + "\n```{code-cell} ipython3\n# @save\ndef broken(:\n```\n")
    rc = export_package.main(["--root", str(root)])
    assert rc == 2


def test_a_root_that_is_not_the_book_is_named(tmp_path: Path, capsys) -> None:
    assert export_package.main(["--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / '_toc.yml'}: cannot be read (No such file or directory) — is {tmp_path} the book?" in err


def test_a_name_saved_by_two_chapters_is_refused(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    chapter = root / "book/hazard-analysis/black-swans.md"
    chapter.write_text(chapter.read_text() + "\n```{code-cell} ipython3\n# @save\ndef nines(x):\n    return x\n```\n")
    try:
        export_package.render(root)
    except export_package.ExportError as err:
        assert "black-swans.md" in str(err) and "`nines` is already saved by" in str(err)
    else:
        raise AssertionError("a second `nines` was exported without complaint")
