"""The build, `make chapter` and `make preview` fail loudly and precisely, offline, and notice a changed library."""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import nbformat
import pytest

import build
import offline
from conftest import ROOT, run_build
from minibook import mini_book

BROKEN = """x = 1
```

Prose between the cells.

```{code-cell} ipython3
:tags: [hide-input]

def hidden_states():
    raise ValueError("deliberately broken cell")

hidden_states()"""
PREVIEW_SECONDS = 20  # issue #21: a new chapter's preview, with a warm environment


def line_of(path: Path, needle: str) -> int:
    return next(i + 1 for i, line in enumerate(path.read_text().splitlines()) if needle in line)


def run_tool(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"{' '.join(args)} did not finish within {timeout} s: {str(err.stdout)[-2000:]}")


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 (outside any namespace the tools create) serving one small file."""
    (tmp_path / "served").mkdir()
    (tmp_path / "served" / "data.csv").write_text("a,b\n1,2\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "served"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/data.csv"
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # reachable from here, with the network on
            assert answer.read() == b"a,b\n1,2\n"
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_failing_cell_fails_the_build_and_names_the_line(tmp_path: Path) -> None:
    root = mini_book(tmp_path, BROKEN)
    result = run_build("html", root, root=root)
    assert result.returncode != 0
    line = line_of(root / "chapter.md", "def hidden_states")
    assert (
        f"chapter.md:{line}: a code cell raised ValueError: deliberately broken cell — reproduce with"
        " make chapter CHAPTER=chapter.md"
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_make_chapter_reports_a_failing_cell_at_its_line(tmp_path: Path) -> None:
    root = mini_book(tmp_path, BROKEN)
    proc = run_tool(str(ROOT / "tools" / "run_chapter.py"), "chapter.md", cwd=root)
    assert proc.returncode == 1
    line = line_of(root / "chapter.md", "def hidden_states")
    first = proc.stderr.splitlines()[0] if proc.stderr.startswith("chapter.md") else proc.stderr.splitlines()[1]
    assert first == f"chapter.md:{line}: Error: ValueError: deliberately broken cell"
    assert "Traceback" in proc.stderr or "hidden_states()" in proc.stderr  # the traceback follows
    assert f"cell   1  line {line_of(root / 'chapter.md', 'x = 1'):4d}  x = 1" in proc.stdout  # code cells counted
    assert "\x1b[" not in proc.stdout + proc.stderr, "colour codes in a log that is not a terminal"
    assert "without encryption" not in proc.stdout + proc.stderr


def test_a_downloading_cell_fails_offline_with_its_line_and_the_rule(tmp_path: Path, local_server: str) -> None:
    code = f"import urllib.request\n\ndata = urllib.request.urlopen({local_server!r}, timeout=10).read()"
    (tmp_path / "book").mkdir()
    root = mini_book(tmp_path / "book", code)
    proc = run_tool(str(ROOT / "tools" / "run_chapter.py"), "chapter.md", cwd=root)
    if "network stays on" in proc.stderr:
        pytest.skip(f"network namespaces are not allowed here: {proc.stderr.splitlines()[0]}")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = line_of(root / "chapter.md", "import urllib.request")
    assert f"chapter.md:{line}: Error: URLError: " in proc.stderr
    assert f"chapter.md:{line}: {offline.RULE}" in proc.stderr
    # make check names the same cell without running it
    check = run_tool(str(ROOT / "tools" / "check.py"), "--root", str(root), cwd=root, timeout=120)
    assert f"chapter.md:{line}: code cell downloads (urllib.request)" in check.stdout


def test_preview_builds_one_page_in_seconds(tmp_path: Path) -> None:
    root = mini_book(tmp_path, "print('preview', 6 * 7)")
    first = run_tool(str(ROOT / "tools" / "build.py"), "preview", "chapter.md", "--root", str(root), cwd=root)
    assert first.returncode == 0, first.stderr + first.stdout[-3000:]
    page = root / "_build" / "preview" / "_build" / "html" / "chapter.html"
    assert f"Open: {page}" in first.stdout
    assert "preview 42" in page.read_text()
    # the contributor edits the prose and adds a reference to a chapter the preview does not build
    with (root / "chapter.md").open("a") as f:
        f.write("\nAn edit, and links to {ref}`sec-elsewhere`, {numref}`fig-elsewhere` and {eq}`eq-elsewhere`.\n")
    start = time.perf_counter()
    second = run_tool(str(ROOT / "tools" / "build.py"), "preview", "chapter.md", "--root", str(root), cwd=root)
    elapsed = time.perf_counter() - start
    assert second.returncode == 0, second.stderr + second.stdout[-3000:]
    assert "3 reference(s) point outside this page" in second.stdout
    assert "An edit, and links to" in page.read_text()
    assert elapsed < PREVIEW_SECONDS, f"the preview took {elapsed:.1f} s (budget {PREVIEW_SECONDS} s)"


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


def test_an_edited_stylesheet_alone_reaches_the_pages(tmp_path: Path) -> None:
    """Sphinx 7 skips copying static files when no page is out of date (book/_ext/html_pages.py)."""
    root = mini_book(tmp_path, "print(1)")
    page = root / "_build" / "html" / "chapter.html"
    assert run_build("html", root, root=root).returncode == 0
    before = re.search(r"reader\.css\?v=(\w+)", page.read_text())
    assert before, "the page no longer links reader.css with a checksum"
    css = root / "book" / "_static" / "reader.css"
    css.write_text(css.read_text() + "\n/* edited */\n")
    second = run_build("html", root, root=root)
    assert second.returncode == 0, second.stderr
    built = root / "_build" / "html" / "_static" / "reader.css"
    assert built.read_text().endswith("/* edited */\n"), "an edit to book/_static alone did not reach _build/html"
    after = re.search(r"reader\.css\?v=(\w+)", page.read_text())
    assert after and after.group(1) != before.group(1), "the page still links the old stylesheet's checksum"


def test_package_hash_tracks_every_module(tmp_path: Path) -> None:
    pkg = tmp_path / "src" / "mlsafety"
    pkg.mkdir(parents=True)
    (pkg / "a.py").write_text("A = 1\n")
    build_dir = tmp_path / "_build"
    (build_dir / ".jupyter_cache").mkdir(parents=True)
    assert build.invalidate_if_package_changed(tmp_path, build_dir) is False
    assert (build_dir / ".jupyter_cache").exists()
    assert build.invalidate_if_package_changed(tmp_path, build_dir) is False
    (pkg / "a.py").write_text("\n# From book/part/x.md:12\nA = 1\n")
    assert build.invalidate_if_package_changed(tmp_path, build_dir) is True  # a blank line is code
    (pkg / "a.py").write_text("\n# From book/part/x.md:15\nA = 1\n")  # prose moved the cell
    assert build.invalidate_if_package_changed(tmp_path, build_dir) is False
    (build_dir / ".jupyter_cache").mkdir()
    (pkg / "b.py").write_text("B = 2\n")
    assert build.invalidate_if_package_changed(tmp_path, build_dir) is True
    assert not (build_dir / ".jupyter_cache").exists()


def test_build_names_a_network_error_with_the_offline_rule(tmp_path: Path) -> None:
    """What `make book` prints for a cell that failed to download (the executed notebook, without a kernel)."""
    root = mini_book(tmp_path, 'import urllib.request\nurllib.request.urlopen("https://example.org/x.csv")')
    # the notebook as sources.read_notebook gives it (source_map: 1-based line of each cell's start), built
    # by hand: another test of this session may have put a stand-in for myst_nb in sys.modules
    cell = nbformat.v4.new_code_cell("import urllib.request\nurllib.request.urlopen(...)")
    cell.outputs = [nbformat.v4.new_output("error", ename="URLError", evalue="...", traceback=[])]
    fence = line_of(root / "chapter.md", "```{code-cell}")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Chapter"), cell])
    nb.metadata["source_map"] = [12, fence]
    error = ("URLError", "<urlopen error [Errno -3] Temporary failure in name resolution>")
    line = line_of(root / "chapter.md", "import urllib.request")
    assert build.cell_failure("chapter.md", root / "chapter.md", nb, error) == [
        f"chapter.md:{line}: a code cell raised URLError: <urlopen error [Errno -3] Temporary failure in name"
        " resolution> — reproduce with make chapter CHAPTER=chapter.md",
        f"chapter.md:{line}: {offline.RULE}",
    ]


SITEMAP_LOC = "{http://www.sitemaps.org/schemas/sitemap/0.9}loc"


def test_clean_build_of_a_tarball_writes_the_sitemap_for_the_deployed_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clean, strict build outside any git checkout (a source tarball) lists every page in sitemap.xml at
    the address the deploy gives (BOOK_BASEURL), and robots.txt names it; with no address, neither."""
    (tmp_path / "deployed").mkdir()
    root = mini_book(tmp_path / "deployed", "print(1)")
    assert not [p for p in (root, *root.parents) if (p / ".git").exists()], "the test needs a folder outside git"
    monkeypatch.setenv("BOOK_BASEURL", "https://a-fork.github.io/ml-safety")  # no final slash: added
    result = run_build("html", root, root=root, clean=True)
    assert result.returncode == 0, result.stderr + result.stdout[-3000:]
    html = root / "_build" / "html"
    locs = [e.text for e in ElementTree.parse(html / "sitemap.xml").iter(SITEMAP_LOC)]
    base = "https://a-fork.github.io/ml-safety/"
    assert sorted(locs) == [base + "chapter.html", base + "index.html"]
    assert f"Sitemap: {base}sitemap.xml" in (html / "robots.txt").read_text().splitlines()

    monkeypatch.delenv("BOOK_BASEURL")
    (tmp_path / "no-address").mkdir()
    root = mini_book(tmp_path / "no-address", "print(1)")
    config = root / "_config.yml"
    config.write_text(re.sub(r"(?m)^  baseurl: .*$", '  baseurl: ""', config.read_text(), count=1))
    result = run_build("html", root, root=root, clean=True)
    assert result.returncode == 0, result.stderr + result.stdout[-3000:]
    html = root / "_build" / "html"
    assert not (html / "sitemap.xml").exists()
    assert (html / "robots.txt").read_text().splitlines() == ["User-agent: *", "Allow: /"]


def test_bench_takes_no_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    """`tools/bench.py --help` (or a stray argument) must not start the benchmark's builds."""
    import bench

    for argv, code in ((["--help"], 0), (["--quick"], 2)):
        with pytest.raises(SystemExit) as exit_:
            bench.main(argv)
        assert exit_.value.code == code
    assert "unrecognized arguments: --quick" in capsys.readouterr().err


def test_a_broken_front_matter_is_named(tmp_path: Path) -> None:
    """A kernel that is not installed (a typo) or front matter that is not YAML: make chapter, make preview and the
    build name the chapter (were NoSuchKernel's and MystMetadataParsingError's tracebacks)."""
    root = mini_book(tmp_path, "print(1)")
    chapter = root / "chapter.md"
    text = chapter.read_text()
    line = line_of(chapter, "print(1)")
    build_tool = str(ROOT / "tools" / "build.py")
    builds = [(build_tool, "html", "--root", str(root)), (build_tool, "preview", "chapter.md", "--root", str(root))]
    cases = [
        ("name: pyhton3", f"chapter.md:{line}: No such kernel named pyhton3 — the front matter's kernelspec"),
        ("name: [python3", "chapter.md:1: not a notebook myst-nb can read (Notebook metadata: "),
    ]
    for name, expected in cases:
        chapter.write_text(text.replace("name: python3", name))
        runs = [*builds, (str(ROOT / "tools" / "run_chapter.py"), "chapter.md")]
        for args in runs:
            proc = run_tool(*args, cwd=root, timeout=300)
            if args[0].endswith("run_chapter.py") and "[" in name:  # its own message, tested elsewhere
                assert proc.returncode == 2 and "chapter.md:1: Error: cannot read it" in proc.stderr, proc.stderr
                continue
            assert proc.returncode == 1 and expected in proc.stderr, (args, proc.stderr[-2000:])
            assert "Traceback" not in proc.stderr, args


def test_bad_arguments_and_settings_get_a_clear_error(tmp_path: Path) -> None:
    """`make chapter`, `make preview` and the build name what is wrong with what they were given (exit 2), with
    no traceback, before any build starts."""
    (tmp_path / "book").mkdir()
    root = mini_book(tmp_path / "book", "print(1)")
    (root / "notes.txt").write_text("not a chapter")
    (root / "broken.ipynb").write_text('{"cells": [')
    (root / "README.md").write_text("# Read me\n")  # in the real configuration's exclude_patterns
    tool, book = str(ROOT / "tools" / "run_chapter.py"), str(ROOT / "tools" / "build.py")
    cases = [
        ((tool, "notes.txt"), "notes.txt:1: Error: not a chapter — give its MyST source"),
        ((tool, "broken.ipynb"), "broken.ipynb:1: Error: cannot read it (NotJSONError: "),
        ((tool, "--timeout", "0", "chapter.md"), "--timeout must be at least 1 second, got 0"),
        ((tool, "chapter.md", "--save", str(tmp_path)), f"--save {tmp_path}: give a file in an existing folder"),
        ((book, "html", "--root", str(root), "--output", "notes.txt"), "--output notes.txt: not a folder"),
        ((book, "html", "--root", str(tmp_path)), f"--root {tmp_path}: not a book (no _config.yml or _toc.yml)"),
        ((book, "html", "--root", str(root), "--jobs", "0"), "--jobs must be at least 1, got 0"),
        ((book, "html", "chapter.md", "--root", str(root)), "preview, and only preview, takes a chapter"),
        (
            (book, "preview", "README.md", "--root", str(root)),
            "README.md:1: not a page: _config.yml's exclude_patterns",
        ),
    ]
    wrong = []
    for args, message in cases:
        proc = run_tool(*args, cwd=root, timeout=120)
        if proc.returncode != 2 or message not in proc.stderr or "Traceback" in proc.stderr:
            wrong.append(f"{' '.join(args[1:])}: exit {proc.returncode}\n{proc.stderr[-1000:]}")
    config, toc = (root / "_config.yml").read_text(), (root / "_toc.yml").read_text()
    broken = [
        ("_config.yml", config.replace("timeout: 120", "timeout: two minutes"), "`execute: timeout` is 'two minutes'"),
        ("_config.yml", re.sub(r"(?m)^title: .*$", "title: [oops", config), "_config.yml:3: not valid YAML"),
        ("_toc.yml", toc.replace("file:", "fil:"), "_toc.yml: not a table of contents Jupyter Book can read"),
    ]
    for name, text, message in broken:
        (root / name).write_text(text)
        proc = run_tool(book, "html", "--root", str(root), cwd=root, timeout=120)
        if proc.returncode != 2 or message not in proc.stderr or "Traceback" in proc.stderr:
            wrong.append(f"a broken {name}: exit {proc.returncode}\n{proc.stderr[-1000:]}")
        (root / "_config.yml").write_text(config)
        (root / "_toc.yml").write_text(toc)
    assert not wrong, "\n\n".join(wrong)
