"""Build the book strictly, and say clearly what went wrong.

    python tools/build.py html [--output DIR] [--clean]
    python tools/build.py pdf  [--output DIR] [--clean]
    python tools/build.py html|pdf --edition instructor   (the edition with solutions, in _build/instructor)
    python tools/build.py preview book/<part>/<lecture>.md   (one chapter's page, in seconds)
    python tools/build.py linkcheck     (needs the network: checks every external link)
    python tools/build.py handouts [--edition E]   (one PDF per chapter; both editions by default)

What this adds to `jupyter-book build`:
- strict Sphinx flags (-W -n --keep-going): any warning fails the build;
- the network is off while chapters execute (tools/offline.py), so a cell that downloads fails;
- chapters whose code changed are executed first (`run_cells`, the one way the tools run the
  book's code), in parallel (one process per core, one thread each: measured 1.7x faster than
  serial on 2 cores), into the cache Sphinx reads; a failing cell is reported as `path:line` of
  its first line of code, with its error, before Sphinx starts;
- the execution cache is cleared when `src/mlsafety` changed since the last build (the cache
  hashes cell sources only, so it cannot see a change in the imported library);
- the log is kept in <output>/_build/build-<target>.log (the other edition's in
  <output>/_build/<edition>/_build/) and, on failure, a summary names each file with a problem (a
  failing cell, a broken reference, an unknown citation) and what to do;
- for PDF, a stale `_build/latex` is removed first and the PDF is copied to a stable path;
- `preview` builds one chapter's page with the glossary and the bibliography (so terms and
  citations resolve) from a table of contents of its own in `_build/preview`, sharing the
  execution cache of the whole build; references to other chapters are counted, not errors.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import yaml
from sphinx_external_toc.parsing import MalformedError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sources  # noqa: E402
from offline import go_offline, network_hint  # noqa: E402
from sources import book_config, code_cell_lines, read_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")
EXCEPTION = re.compile(r"^[A-Za-z_.]*(Error|Exception|Interrupt)\b.*:")  # a traceback's last line
BROKEN_LINK = re.compile(r"^\(\s*(\S+): line\s+(\d+)\)\s+broken\s+(\S+)\s+-\s+(.*)$")  # Sphinx linkcheck
BACK_MATTER = ("book/glossary", "book/bibliography")  # built with a preview so {term} and {cite} resolve
# Sphinx warnings about a target that is not in the pages a preview builds
OUTSIDE = re.compile(
    r"undefined label|unknown document|equation not found|Failed to create a cross reference"
    r"|reference target not found"
)


def package_hash(root: Path) -> str:
    """SHA-256 over the library's source files, so that a change to any of them is noticed.

    The exporter's `# From <chapter>:<line>` comments are left out: prose added above a `# @save`
    cell moves them without changing the code, and must not throw away the execution cache.
    """
    digest = hashlib.sha256()
    for path in sorted((root / "src" / "mlsafety").rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(re.sub(rb"(?m)^# From \S+:\d+$", b"", path.read_bytes()))
    return digest.hexdigest()


def invalidate_if_package_changed(root: Path, build_dir: Path) -> bool:
    """Drop executed outputs and Sphinx's environment when the library changed; True if dropped."""
    stamp = build_dir / ".mlsafety.sha256"
    current = package_hash(root)
    previous = stamp.read_text().strip() if stamp.exists() else None
    changed = previous is not None and previous != current
    if changed:
        for name in (".jupyter_cache", ".doctrees", "jupyter_execute"):
            shutil.rmtree(build_dir / name, ignore_errors=True)
    build_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    return changed


def summarise(log: str, root: Path) -> list[str]:
    """One line per problem found in a Sphinx/myst-nb log: where, and what to do."""
    problems: list[str] = []
    lines = log.splitlines()
    for i, line in enumerate(lines):
        where = line.split(": WARNING:")[0].split(": ERROR:")[0]
        rel = where.replace(str(root) + os.sep, "")
        if "Executing notebook failed" in line:
            found = (m for m in lines[i:] if EXCEPTION.match(m) and not re.search("CellExecutionError|Traceback", m))
            error = next(found, "see the log")
            problems.append(f"{rel}: a code cell raised {error.strip()} — reproduce with make chapter CHAPTER={rel}")
        elif "Execution Failed with traceback" in line or "CellTimeoutError" in line:
            problems.append(
                f"{rel}: a code cell timed out — make it faster (budget: {sources.CHAPTER_BUDGET_SECONDS} s a chapter)"
            )
        elif broken := BROKEN_LINK.match(line):
            doc, number, url, reason = broken.groups()
            problems.append(f"{doc}:{number}: broken link {url} ({reason.strip()[:120]}) — fix or remove the link")
        elif match := re.match(r"^sphinx\.errors\.(?:ConfigError|ExtensionError): (.+)$", line):
            problems.append(match.group(1).strip())  # a bad configuration value or a failing extension
        elif ("WARNING:" in line or "ERROR:" in line) and "Executing notebook" not in line:
            problems.append(line.replace(str(root) + os.sep, "").strip())
    return list(dict.fromkeys(problems))


# Every execution of the book's code uses one thread per kernel, so that a serial build, a
# parallel build and the determinism test all print the same numbers.
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "PYTHONHASHSEED": "0",
}
# Our kernels log only errors: no "Kernel is running over TCP without encryption" (the Makefile also
# writes this setting into the venv's IPython config, which the kernels myst-nb starts read).
KERNEL_QUIET = ["--IPKernelApp.log_level=ERROR"]
# What run_cells reports for a kernelspec that names no installed kernel (a typo in the front matter)
NO_KERNEL = "{where}: {value} — the front matter's kernelspec must name an installed kernel: python3, as in"
NO_KERNEL += " tools/chapter-template.md"
# Sphinx's LaTeX Makefile runs `latexmk -pdf`, which with xelatex writes a PDF on every pass;
# `-xelatex` (its documented LATEXMKOPTS, latexmk >= 4.52b) writes .xdv and converts once.
LATEX_ENV = {"LATEXMKOPTS": "-xelatex"}


def run_cells(nb, cwd: Path, timeout: int, on_cell=None) -> Exception | None:
    """Execute a notebook in place in a fresh kernel: how the build, `make chapter` and `make bench` run code.

    The kernel is the one the notebook names, with THREAD_ENV; a cell may run `timeout` s unless the
    notebook's `execution` metadata says otherwise (as jupyter-cache, which myst-nb uses, reads it).
    on_cell(index, seconds) follows each code cell that ran to its end, a failing one too. Returns what stopped
    the run, or None.
    """
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    started: dict[int, float] = {}
    execution = nb.metadata.get("execution") or {}

    def start(cell, cell_index: int) -> None:
        started[cell_index] = time.perf_counter()

    def executed(cell, cell_index: int, execute_reply) -> None:
        if on_cell is not None:
            on_cell(cell_index, time.perf_counter() - started[cell_index])

    client = NotebookClient(
        nb,
        timeout=execution.get("timeout", timeout),
        allow_errors=execution.get("allow_errors", False),
        kernel_name=(nb.metadata.get("kernelspec") or {}).get("name", "python3"),
        extra_arguments=KERNEL_QUIET,
        record_timing=False,  # as jupyter-cache executes: no timestamps in the cached notebook
        resources={"metadata": {"path": str(cwd)}},
        on_cell_start=start,
        on_cell_executed=executed,
    )
    try:
        client.execute(env={**os.environ, **THREAD_ENV})
    except (CellExecutionError, CellTimeoutError, DeadKernelError, NoSuchKernel) as err:
        return err
    return None


def one_line(text: object) -> str:
    return " ".join(ANSI.sub("", str(text)).split())


def cell_error(err: Exception) -> tuple[str, str]:
    """(name, message) of what stopped a run: a cell's exception, or CellTimeoutError."""
    if "Timeout" in type(err).__name__:
        return "CellTimeoutError", str(err)
    lines = str(err).strip().splitlines()
    return getattr(err, "ename", type(err).__name__), str(getattr(err, "evalue", lines[-1] if lines else ""))


def failing_cell(nb) -> int | None:
    """Index of the cell that raised (it has an error output) or, after a timeout, the first not run."""
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    for index, cell in code:
        expected = "raises-exception" in cell.metadata.get("tags", [])
        if not expected and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return index
    return next((i for i, c in code if c.get("execution_count") is None), None)


def cell_failure(chapter: str, path: Path, nb, error: tuple[str, str]) -> list[str]:
    """`chapter:line: a code cell raised X: message — reproduce with make chapter ...`, and the offline rule."""
    index = failing_cell(nb)
    where = f"{chapter}:{code_cell_lines(path, nb).get(index, 1) if index is not None else 1}"
    reproduce = f"reproduce with make chapter CHAPTER={chapter}"
    name, value = error
    if name == "NoSuchKernel":
        return [NO_KERNEL.format(where=where, value=value)]
    if name == "CellTimeoutError":
        return [f"{where}: a code cell timed out (limit per cell in _config.yml) — {reproduce}"]
    problems = [f"{where}: a code cell raised {name}: {one_line(value)} — {reproduce}"]
    if hint := network_hint(f"{name}: {value}"):
        problems.append(f"{where}: {hint}")
    return problems


def execute_chapter(path: str, timeout: int) -> tuple[str, object, float, tuple[str, str] | None]:
    """Run one chapter as myst-nb would (in a worker process); return (path, nb, seconds, error).

    The error is (name, message): an exception may not pickle back from the worker.
    """
    nb = read_notebook(Path(path))
    start = time.perf_counter()
    err = run_cells(nb, Path(path).parent, timeout)
    return path, nb, time.perf_counter() - start, None if err is None else cell_error(err)


def preexecute(root: Path, build_dir: Path, chapters: list[Path], workers: int) -> list[str]:
    """Execute the chapters the cache does not hold yet; return one problem line per failure."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from myst_nb.core.read import MystMetadataParsingError

    if (book_config(root).get("execute") or {}).get("execute_notebooks", "cache") != "cache":
        return []
    cache = get_cache(str(build_dir / ".jupyter_cache"))
    todo, unread = [], []
    for chapter in chapters:
        try:
            cache.match_cache_notebook(read_notebook(root / chapter))
        except KeyError:
            todo.append(chapter)
        except (MystMetadataParsingError, UnicodeDecodeError) as err:  # e.g. front matter that is not YAML
            unread.append(f"{chapter}:1: not a notebook myst-nb can read ({one_line(err)[:300]}) — run make check")
    if unread or not todo:
        return unread
    workers = min(workers, len(todo))
    print(f"Executing {len(todo)} chapter(s) with {workers} worker(s): {', '.join(map(str, todo))}", flush=True)
    problems = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(execute_chapter, str(root / c), sources.cell_timeout(root)) for c in todo]
        for chapter, future in zip(todo, futures, strict=True):
            path, nb, seconds, error = future.result()
            if error is not None:
                problems += cell_failure(str(chapter), Path(path), nb, error)
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(nb, path, data={"execution_seconds": seconds}), check_validity=False, overwrite=True
            )
            print(f"  executed {chapter} in {seconds:.1f} s", flush=True)
    return problems


def chapters_in_toc(root: Path) -> list[Path]:
    """MyST notebooks listed in _toc.yml (pages with code cells)."""
    return [p for p in sources.toc_files(root) if p.suffix == ".md" and "{code-cell}" in (root / p).read_text("utf8")]


def latex_errors(latex_dir: Path) -> list[str]:
    """The first LaTeX errors (lines starting with `!`) with the source line that caused them."""
    logs = sorted(latex_dir.glob("*.log"))
    if not logs:
        return [f"{latex_dir}: LaTeX wrote no log — is TeX installed? (see tools/setup_tex.sh)"]
    lines = logs[0].read_text(errors="replace").splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.startswith("!"):
            context = next((m.strip() for m in lines[i + 1 : i + 8] if m.startswith("l.")), "")
            found.append(f"{logs[0]}: LaTeX error {line[1:].strip()} {context}".rstrip())
    return found[:5] or [f"{logs[0]}: LaTeX failed; read the end of this log"]


def jupyter_book(
    root: Path, builder: str, output: Path, log_path: Path, options: tuple[str, ...], echo: bool, env: dict
) -> tuple[int, str]:
    """Run `jupyter-book build`, echo its output if asked; keep and return the log without colour codes."""
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "--builder", builder]
    proc = subprocess.Popen(
        [*cmd, "--path-output", str(output), *options],
        cwd=root,
        env={**os.environ, **THREAD_ENV, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    captured = []
    for line in proc.stdout or ():
        captured.append(line)
        if echo:
            sys.stdout.write(line)
    rc, text = proc.wait(), ANSI.sub("", "".join(captured))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(text, encoding="utf-8")
    return rc, text


def failed(title: str, problems: list[str], log: Path | None = None) -> int:
    """Print a failure and one line per problem on stderr; return the exit status, 1."""
    print(f"\n{title}", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    if log is not None:
        print(f"Full log: {log}", file=sys.stderr)
    return 1


def sphinx_values(root: Path) -> dict:
    """`sphinx: config:` of _config.yml."""
    return (book_config(root).get("sphinx") or {}).get("config") or {}


def configured_edition(root: Path) -> str:
    """The edition _config.yml builds (book_edition), `student` if unset."""
    return str(sphinx_values(root).get("book_edition", "student"))


def overlay_config(root: Path, build_dir: Path, out: Path, **sphinx_config: object) -> Path:
    """A copy of _config.yml in `out` that shares the book's execution cache, with Sphinx values set.

    jupyter-book takes a whole other config file (`--config`), not single overrides, so this writes one.
    """
    config = book_config(root)
    config.setdefault("execute", {})["cache"] = str(build_dir / ".jupyter_cache")  # share the book's cache
    sphinx = config.setdefault("sphinx", {})
    for name, folder in (sphinx.get("local_extensions") or {}).items():  # relative to the config file
        sphinx["local_extensions"][name] = str(root / folder)
    sphinx.setdefault("config", {}).update(sphinx_config)
    out.mkdir(parents=True, exist_ok=True)
    (out / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return out / "_config.yml"


def preview(root: Path, build_dir: Path, chapter: Path) -> int:
    """Execute one chapter and build its page with the glossary and bibliography; print the file to open."""
    start = time.perf_counter()
    try:
        rel = chapter.resolve().relative_to(root)
    except ValueError:
        print(f"{chapter}:1: not a page of the book at {root}", file=sys.stderr)
        return 2
    if rel.suffix != ".md" or not (root / rel).is_file():
        print(f"{chapter}:1: no such chapter — give the .md file, e.g. book/<part>/<lecture>.md", file=sys.stderr)
        return 2
    paths = [rel.as_posix(), *(folder.as_posix() for folder in rel.parents)]  # a pattern may name a folder
    excluded = [p for p in book_config(root).get("exclude_patterns") or [] if fnmatch.filter(paths, str(p))]
    if excluded:
        print(f"{chapter}:1: not a page: _config.yml's exclude_patterns leaves it out ({excluded[0]})", file=sys.stderr)
        return 2
    docname = rel.with_suffix("").as_posix()
    failures = preexecute(root, build_dir, [rel] if "{code-cell}" in (root / rel).read_text("utf8") else [], 1)
    if failures:
        return failed(f"PREVIEW FAILED: {rel}'s code does not run:", failures)
    out = build_dir / "preview"
    options = ("-n", "-q", "--toc", str(out / "_toc.yml"), "--config", str(overlay_config(root, build_dir, out)))
    back = [name for name in BACK_MATTER if name != docname and (root / f"{name}.md").is_file()]
    toc = {"format": "jb-book", "root": docname, **({"chapters": [{"file": name} for name in back]} if back else {})}
    (out / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    rc, log = jupyter_book(root, "html", out, out / "build.log", options, echo=False, env={})
    lines = log.splitlines()
    outside = [line for line in lines if ("WARNING" in line or "ERROR" in line) and OUTSIDE.search(line)]
    problems = summarise("\n".join(line for line in lines if line not in outside), root)
    elapsed = time.perf_counter() - start
    page = out / "_build" / "html" / f"{docname}.html"
    if rc != 0 or problems or not page.exists():
        last = next(
            (line.strip() for line in reversed(lines) if re.match(r"^\w+(\.\w+)*(Error|Exception): ", line)), ""
        )
        return failed(
            f"PREVIEW FAILED ({elapsed:.0f} s). Problems:",
            problems or [f"jupyter-book exited with {rc} ({last}); see {out / 'build.log'}"],
        )
    mine = [line for line in outside if line.startswith((f"{root / rel}:", f"{rel}:"))]
    if mine:  # the glossary's links to other chapters are not counted
        print(f"{len(mine)} reference(s) point outside this page (they resolve in the whole book)")
    print(f"Built the preview of {rel} in {elapsed:.1f} s. Open: {page}")
    return 0


# A handout starts with its title on the first page of text: no title page, no table of contents.
HANDOUT_LATEX = {
    "extraclassoptions": "openany,oneside",
    "tableofcontents": "",
    "preamble": r"\renewcommand{\thesection}{\arabic{section}}",  # not 0.1: a handout has no chapter
    "maketitle": r"\begin{center}{\LARGE\sffamily\bfseries\makeatletter\@title\makeatother\par}"
    r"\vspace{1ex}{\small Introduction to ML Safety: a handout of one chapter\par}\end{center}",
}


def edition_handouts(
    root: Path, build_dir: Path, edition: str, chapters: list[Path], jobs: int
) -> tuple[list[str], list]:
    """One edition's handouts: (problems, [(pages, bytes)] of each)."""
    from pdf_check import page_count

    made = []
    out = build_dir / "handouts" / edition
    latex = out / "_build" / "latex"
    # Sphinx writes every .tex again; latexmk then remakes only the PDFs whose sources changed
    # (it compares checksums), so the LaTeX folder is kept. Old .tex files go: a chapter that
    # left the book must not be made.
    for tex in latex.glob("*.tex"):
        tex.unlink()
    elements = sphinx_values(root).get("latex_elements") or {}
    overlay = overlay_config(
        root,
        build_dir,
        out,
        book_edition=edition,
        book_handout=True,
        latex_toplevel_sectioning="section",  # a handout is an article: sections, no chapter pages
        jblatex_captions_to_parts=False,  # else sphinx-jupyterbook-latex makes parts of the toc
        latex_elements={
            **elements,
            **HANDOUT_LATEX,
            "preamble": elements.get("preamble", "") + "\n" + HANDOUT_LATEX["preamble"],
        },
    )
    options = ("-n", "-q", "--individualpages", "--config", str(overlay))
    env = {"MAKEFLAGS": f"-j{jobs}", **LATEX_ENV}
    rc, log = jupyter_book(root, "pdflatex", out, out / "build.log", options, echo=False, env=env)
    problems = summarise(log, root)
    if rc != 0 or problems:
        return problems or latex_errors(latex) or [f"jupyter-book exited with {rc}; see {out / 'build.log'}"], []
    for chapter in chapters:
        # jupyter-book names each document after its path, less the root page's folder
        parts = chapter.with_suffix("").parts
        names = ["-".join(parts[1:]), "-".join(parts)]
        pdf = next((latex / f"{n}.pdf" for n in names if (latex / f"{n}.pdf").exists()), latex / f"{names[0]}.pdf")
        targets = [out / chapter.with_suffix(".pdf")]
        if edition == "student":
            targets.append(build_dir / "html" / "_handouts" / chapter.with_suffix(".pdf"))
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(pdf, target)
        made.append((page_count(pdf), pdf.stat().st_size))
    return [], made


def handouts(root: Path, build_dir: Path, editions: list[str], jobs: int) -> int:
    """One PDF per lecture chapter and edition, in _build/handouts/<edition>/book/<part>/<lecture>.pdf.

    jupyter-book's own `--individualpages` writes one LaTeX document per page in one Sphinx build
    and makes each a PDF (Sphinx's LaTeX Makefile, run here with MAKEFLAGS=-j<jobs>). A second run
    remakes only the handouts whose LaTeX changed. The student edition's handouts are also copied
    to _build/html/_handouts/, which each chapter page links.
    """
    start = time.perf_counter()
    chapters = sources.lecture_chapters(root)
    notebooks = set(chapters_in_toc(root))
    failures = preexecute(root, build_dir, [c for c in chapters if c in notebooks], jobs)
    if failures:
        return failed("HANDOUTS FAILED: a chapter's code does not run:", failures)
    # The editions build in parallel: their Sphinx runs are single-threaded and share nothing but
    # the read-only execution cache.
    with ThreadPoolExecutor(max_workers=len(editions)) as pool:
        results = list(
            pool.map(lambda e: edition_handouts(root, build_dir, e, chapters, max(1, jobs // len(editions))), editions)
        )
    for edition, (problems, _) in zip(editions, results, strict=True):
        if problems:
            return failed(f"HANDOUTS FAILED ({edition} edition). Problems:", problems)
    elapsed = time.perf_counter() - start
    for edition, (_, made) in zip(editions, results, strict=True):
        pages, size = sum(m[0] for m in made), sum(m[1] for m in made)
        print(
            f"{edition}: {len(made)} handouts, {pages} pages, {size / 1e6:.1f} MB in {build_dir / 'handouts' / edition}"
        )
    print(f"Built the handouts in {elapsed:.0f} s")
    return 0


def build(root: Path, output: Path, out: Path, target: str, edition: str, jobs: int) -> int:
    """The strict html, pdf or linkcheck build of one edition in `out`, and what went wrong."""
    build_dir, out_build = output / "_build", out / "_build"
    builder = {"html": "html", "pdf": "pdflatex", "linkcheck": "linkcheck"}[target]
    options: tuple[str, ...] = ("-W", "-n", "--keep-going")
    if out != output:
        options += ("--config", str(overlay_config(root, build_dir, out, book_edition=edition)))
    if builder == "pdflatex":
        shutil.rmtree(out_build / "latex", ignore_errors=True)
    start = time.perf_counter()
    failures = preexecute(root, build_dir, chapters_in_toc(root), jobs)
    if failures:
        return failed("=" * 78 + f"\nBUILD FAILED ({target}): a chapter's code does not run. Problems:", failures)
    log_path = out_build / f"build-{target}.log"
    rc, log = jupyter_book(root, builder, out, log_path, options, echo=True, env=LATEX_ENV)
    elapsed = time.perf_counter() - start
    problems = summarise(log, root)
    pdf = out_build / "latex" / sources.pdf_name(root)
    if builder == "pdflatex" and (rc != 0 or not pdf.exists()):
        problems += latex_errors(out_build / "latex")
    if rc != 0 or problems:
        title = "=" * 78 + f"\nBUILD FAILED ({target}, {elapsed:.0f} s). Problems:"
        return failed(title, problems or [f"jupyter-book exited with {rc}; see {log_path}"], log_path)
    if builder == "linkcheck":
        print(f"\nEvery external link answered ({elapsed:.0f} s); report: {build_dir / 'linkcheck' / 'output.txt'}")
    elif builder == "html":
        print(f"\nBuilt the {edition} edition's HTML in {elapsed:.0f} s. Open: {out_build / 'html' / 'index.html'}")
    else:
        final = build_dir / "pdf" / (pdf.name if out == output else pdf.name.replace(".pdf", f"-{edition}.pdf"))
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(pdf, final)
        print(f"\nBuilt the {edition} edition's PDF in {elapsed:.0f} s: {final}")
        from pdf_check import check as check_pdf  # page count, size, and what a reader of paper would see

        found, summary = check_pdf(final, pdf.with_suffix(".log"))
        print(summary)
        for problem in found:
            print(f"  print problem: {problem}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=["html", "pdf", "preview", "linkcheck", "handouts"])
    parser.add_argument("chapter", nargs="?", type=Path, help="preview: the chapter, book/<part>/<lecture>.md")
    parser.add_argument("--output", type=Path, help="folder that receives _build/ (default: the root)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the book's root folder")
    parser.add_argument("--clean", action="store_true", help="start from an empty _build")
    parser.add_argument(
        "--edition",
        choices=["student", "instructor"],
        help="student (no solutions) or instructor; default: book_edition in _config.yml. "
        "The other edition goes to _build/<edition>/_build/",
    )
    parser.add_argument(
        "--reread",
        action="store_true",
        help="keep the execution cache but re-read every page, so that every warning is reported",
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="chapters executed at once (default: one per core)"
    )
    args = parser.parse_args(argv)
    if (args.target == "preview") != (args.chapter is not None):
        parser.error("preview, and only preview, takes a chapter: tools/build.py preview book/<part>/<lecture>.md")
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if args.output and args.output.exists() and not args.output.is_dir():
        parser.error(f"--output {args.output}: not a folder")
    root = args.root.resolve()
    if missing := [name for name in ("_config.yml", "_toc.yml") if not (root / name).is_file()]:
        parser.error(f"--root {root}: not a book (no {' or '.join(missing)}); give the folder that holds _config.yml")
    try:  # what every target reads first: a broken file is named here, not in a traceback later
        sources.cell_timeout(root), sources.toc_files(root)
    except sources.BookConfigError as err:
        parser.exit(2, f"error: {err}\n")
    except (yaml.YAMLError, MalformedError) as err:
        toc = root / "_toc.yml"
        parser.exit(
            2, f"error: {toc}: not a table of contents Jupyter Book can read ({one_line(err)[:300]}) — fix it\n"
        )
    return run(args, root)


def run(args: argparse.Namespace, root: Path) -> int:
    """The build that the checked arguments ask for."""
    output = (args.output or root).resolve()
    build_dir = output / "_build"
    if args.clean:
        shutil.rmtree(build_dir, ignore_errors=True)
    # The edition _config.yml names is built in _build/; the other one in _build/<edition>/_build/.
    edition = args.edition or configured_edition(root)
    out = output if edition == configured_edition(root) else build_dir / edition
    if args.reread and not args.clean:  # Sphinx reports warnings only for pages it reads; executed outputs stay
        for name in (".doctrees", args.target if args.target != "pdf" else "latex"):
            shutil.rmtree(out / "_build" / name, ignore_errors=True)
    if invalidate_if_package_changed(root, build_dir):
        print("src/mlsafety changed since the last build: re-executing every chapter")
    if args.target != "linkcheck":
        go_offline()  # before any kernel starts: kernels and jupyter-book inherit the namespace
    if args.target == "preview":
        return preview(root, build_dir, args.chapter)
    if args.target == "handouts":
        return handouts(root, build_dir, [args.edition] if args.edition else ["student", "instructor"], args.jobs)
    return build(root, output, out, args.target, edition, args.jobs)


if __name__ == "__main__":
    sys.exit(main())
