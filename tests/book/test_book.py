"""The whole book: the strict HTML build, the PDF, and determinism of the chapters a change touched."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

import nbformat
import pytest

import build
import sources
from conftest import BUILD_TIMEOUT, ROOT, Build, run_build

CHAPTERS = sources.lecture_chapters(ROOT)


def test_toc_lists_every_chapter_and_only_existing_files() -> None:
    entries = sources.toc_entries(ROOT)
    missing = [e.name for e in entries if not sources.resolve_entry(ROOT, e)]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"
    listed = {str(p.with_suffix("")) for p in sources.toc_files(ROOT)}
    found = {str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "book").rglob("*.md")}
    unlisted = sorted(found - listed)
    assert not unlisted, f"chapter sources missing from _toc.yml: {unlisted}"


def test_html_build_is_strict_and_complete(html_build: Build) -> None:
    html = html_build.build_dir / "html"
    index = (html / "book" / "index.html").read_text()
    for chapter in CHAPTERS:
        page = html / chapter.with_suffix(".html")
        assert page.exists(), f"no page for {chapter}"
        assert chapter.with_suffix(".html").name in index, f"landing page does not link {chapter}"
        text = page.read_text()
        assert "cell_output" in text, f"{chapter}: no executed code output in the HTML"
        assert re.search(r'<img[^>]+alt="[^"]{10,}"', text), f"{chapter}: no figure with alt text"
    # The parallel pre-execution filled the cache with the keys Sphinx looks up: nothing ran twice.
    assert "Executing notebook" not in html_build.stdout
    # Math is rendered when the book is built (MathML, book/_ext/mathml.py): no math script, no CDN.
    page = (html / CHAPTERS[0].with_suffix(".html")).read_text()
    assert "<math" in page
    assert not re.search(r"<script[^>]*(mathjax|katex)", page, re.I), "a page loads a math script"
    assert "cdn.jsdelivr" not in page


def test_sitemap_lists_every_page_for_crawlers(html_build: Build) -> None:
    """robots.txt names sitemap.xml, which lists every page of _toc.yml at the site's address.

    The fixture's build writes every page (as the deploy's clean build does); sphinx-sitemap lists the
    pages a build wrote, so an incremental build's sitemap may be partial and is never deployed.
    """
    html = html_build.build_dir / "html"
    robots = (html / "robots.txt").read_text().splitlines()
    named = [line.removeprefix("Sitemap: ") for line in robots if line.startswith("Sitemap: ")]
    assert len(named) == 1 and named[0].endswith("/sitemap.xml"), f"robots.txt does not name one sitemap: {robots}"
    base = named[0].removesuffix("sitemap.xml")
    tree = ElementTree.parse(html / "sitemap.xml")
    locs = [e.text or "" for e in tree.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    outside = [loc for loc in locs if not loc.startswith(base)]
    assert not outside, f"sitemap.xml lists addresses outside {base}: {outside[:3]}"
    listed = {loc.removeprefix(base) for loc in locs}
    pages = {p.with_suffix(".html").as_posix() for p in sources.toc_files(ROOT)}
    assert pages <= listed, f"sitemap.xml lacks {sorted(pages - listed)}"
    assert listed <= pages, f"sitemap.xml lists pages that are not in _toc.yml: {sorted(listed - pages)}"
    assert all((html / page).exists() for page in listed)


def text_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """Everything a reader reads in the outputs: printed text and plain-text results (glued values too).

    A cell's printed text is joined into one string: the kernel splits a stream into messages by
    timing, so the chunks differ between runs even when the text is the same.
    """
    found = []
    for cell in nb.cells:
        printed = ""
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                printed += out["text"]
            else:  # plain-text results, including values glued into the prose
                found += [v for k, v in sorted(out.get("data", {}).items()) if k.endswith("text/plain")]
        if printed:
            found.append(printed)
    return found


# A change to these reaches every chapter, so every chapter is re-checked.
AFFECTS_EVERY_CHAPTER = ("src/mlsafety/background.py", "tools/build.py", "requirements.lock", "_config.yml")


def git(*args: str) -> str | None:
    proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    return proc.stdout.strip() if proc.returncode == 0 else None


@cache
def changed_chapters() -> tuple[set[Path] | None, str]:
    """Chapters changed since the base (None: all of them), and a phrase saying against what.

    DETERMINISM=all checks every chapter (`make test-full`, the weekly run). Otherwise the base is
    DETERMINISM_BASE (the pull-request workflow sets the target branch), else the merge base with
    origin/main when this branch has diverged from it, else the previous commit; uncommitted and
    untracked files count as changed.
    """
    if os.environ.get("DETERMINISM") == "all":
        return None, "DETERMINISM=all"
    base = os.environ.get("DETERMINISM_BASE")
    if not base:
        head, upstream = git("rev-parse", "HEAD"), git("rev-parse", "--verify", "-q", "origin/main")
        base = git("merge-base", "HEAD", "origin/main") if upstream and upstream != head else "HEAD~1"
    if not base or git("rev-parse", "--verify", "-q", base) is None:
        return None, f"no git base {base!r} to compare with"
    changed = set((git("diff", "--name-only", base) or "").splitlines())
    changed |= set((git("ls-files", "--others", "--exclude-standard") or "").splitlines())
    if changed & set(AFFECTS_EVERY_CHAPTER):
        return None, f"{sorted(changed & set(AFFECTS_EVERY_CHAPTER))[0]} changed since {base}"
    return {Path(p) for p in changed}, f"unchanged since {base}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=str)
def test_chapter_outputs_are_deterministic(html_build: Build, chapter: Path) -> None:
    """A second, independent execution prints the same numbers as the build's."""
    from jupyter_cache import get_cache

    changed, against = changed_chapters()
    if changed is not None and chapter not in changed:
        pytest.skip(f"determinism re-check skipped: {against} (DETERMINISM=all or `make test-full` checks all)")

    cache = get_cache(str(html_build.build_dir / ".jupyter_cache"))
    record = cache.match_cache_notebook(sources.read_notebook(ROOT / chapter))
    first = text_outputs(cache.get_cache_bundle(record.pk).nb)
    _, nb, _, error = build.execute_chapter(str(ROOT / chapter), timeout=sources.cell_timeout())
    assert error is None, f"{chapter}: {error}"
    second = text_outputs(nb)
    assert first, f"{chapter}: no text output to compare"
    assert first == second, f"{chapter}: a second run printed different numbers"


@pytest.fixture(scope="session")
def pdf_build(html_build: Build) -> Build:
    if shutil.which("xelatex") is None or shutil.which("pdftotext") is None:
        pytest.fail("TeX is missing: run `make test` (it installs TeX as root) or see tools/setup_tex.sh")
    build = run_build("pdf", html_build.output, timeout=BUILD_TIMEOUT)  # reuses the HTML build's executed outputs
    assert build.returncode == 0, f"PDF build failed:\n{build.stderr}\n{build.stdout[-4000:]}"
    return build


def test_pdf_has_chapters_bibliography_and_no_unresolved_references(pdf_build: Build) -> None:
    pdf = pdf_build.build_dir / "pdf" / sources.pdf_name()
    assert pdf.exists()
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    pages = int(
        re.search(
            r"Pages:\s+(\d+)",
            subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True, timeout=120).stdout,
        ).group(1)
    )
    assert pages > 20
    for chapter in CHAPTERS:
        title = next(line[2:].strip() for line in (ROOT / chapter).read_text().splitlines() if line.startswith("# "))
        assert title in text, f"chapter title {title!r} missing from the PDF"
    assert "Bibliography" in text
    assert "??" not in text, "unresolved reference (??) in the PDF"
    assert "Exercise" in text and "Solution to Exercise" not in text  # the student edition
    assert "CONTENTS" in text.upper()
    # the bibliography once, at the end: no near-empty "Bibliography" chapter before the list
    assert text.count("Every reading cited in the book, in one list") == 0
    assert "Towards Deep Learning Models Resistant" in text.rsplit("BIBLIOGRAPHY", 1)[-1]


def test_pdf_prints_well(pdf_build: Build) -> None:
    """Issue #18 (tools/pdf_check.py): no overfull box over 5 pt, fonts embedded, no blank page, no raw TeX or ??,
    no figure unreferenced or far from its reference, nothing in the margins of a sample of rendered pages."""
    import pdf_check

    pdf = pdf_build.build_dir / "pdf" / sources.pdf_name()
    problems, summary = pdf_check.check(pdf, pdf_build.build_dir / "latex" / sources.pdf_name().replace(".pdf", ".log"))
    assert summary in pdf_build.stdout  # the build prints the page count and size
    assert not problems, "\n".join(problems[:30])


def test_student_pdf_has_no_solution_text(pdf_build: Build) -> None:
    """Issue #18: the public (student) PDF has every exercise and none of the solutions' text."""
    from test_editions import SOLVED, chapter_phrases, split_solutions, words_only

    pdf = pdf_build.build_dir / "pdf" / sources.pdf_name()
    raw = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=120).stdout
    words = " " + " ".join(re.sub(r"[^A-Za-z]+", " ", re.sub(r"-\n", "", raw)).split()) + " "
    # a solution may repeat a sentence of another chapter's text (the review chapter does): not a leak
    prose = (
        " " + " ".join(words_only("\n".join(split_solutions((ROOT / c).read_text("utf-8"))[1])) for c in CHAPTERS) + " "
    )
    for chapter in SOLVED:
        solution, exercise = chapter_phrases(chapter)
        solution = [p for p in solution if f" {p} " not in prose]
        # the same extraction finds the exercises' own text, so an absent solution phrase means absent
        seen = [p for p in exercise if f" {p} " in words]
        assert len(seen) >= 0.8 * len(exercise), f"{chapter}: exercise text not found in the PDF"
        assert not [p for p in solution if f" {p} " in words], f"{chapter}: solution text in the student PDF"


def test_every_chapter_page_links_its_handout(html_build: Build) -> None:
    for chapter in CHAPTERS:
        page = (html_build.build_dir / "html" / chapter.with_suffix(".html")).read_text()
        assert f'_handouts/{chapter.with_suffix(".pdf").as_posix()}"' in page, f"{chapter}: no handout link"
