"""Build the book strictly, and say clearly what went wrong.

    python tools/build.py html [--output DIR] [--clean]
    python tools/build.py pdf  [--output DIR] [--clean]

What this adds to `jupyter-book build`:
- strict Sphinx flags (-W -n --keep-going): any warning fails the build;
- the execution cache is cleared when `src/mlsafety` changed since the last build (the cache
  hashes cell sources only, so it cannot see a change in the imported library);
- the log is kept in <output>/_build/build.log and, on failure, a summary names each file
  with a problem (a failing cell, a broken reference, an unknown citation) and what to do;
- for PDF, a stale `_build/latex` is removed first and the PDF is copied to a stable path.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PDF_NAME = "mlsafety-book.pdf"


def package_hash(root: Path) -> str:
    """SHA-256 over the library's source files, so that a change to any of them is noticed."""
    digest = hashlib.sha256()
    for path in sorted((root / "src" / "mlsafety").rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
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
    lines = [ANSI.sub("", line) for line in log.splitlines()]
    for i, line in enumerate(lines):
        where = line.split(": WARNING:")[0].split(": ERROR:")[0]
        rel = where.replace(str(root) + os.sep, "")
        if "Executing notebook failed" in line:
            error = next((m for m in lines[i:] if re.match(r"^[A-Za-z_.]*(Error|Exception|Interrupt)\b.*:", m)
                          and "CellExecutionError" not in m and "Traceback" not in m), "see the log")
            problems.append(f"{rel}: a code cell raised {error.strip()} — reproduce with "
                            f"`.venv/bin/python tools/run_chapter.py {rel}`")
        elif "Execution Failed with traceback" in line or "CellTimeoutError" in line:
            problems.append(f"{rel}: a code cell timed out — make it faster (budget: 60 s a chapter)")
        elif "WARNING:" in line or "ERROR:" in line:
            if "Executing notebook" in line:
                continue
            problems.append(line.replace(str(root) + os.sep, "").strip())
    return list(dict.fromkeys(problems))


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


def jupyter_book(root: Path, builder: str, output: Path, log_path: Path) -> tuple[int, str]:
    """Run the strict build, echo its output, and keep the log."""
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "--builder", builder,
           "--path-output", str(output), "-W", "-n", "--keep-going"]
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1",
               PYTHONHASHSEED="0", JUPYTER_PLATFORM_DIRS="1")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, bufsize=1)
    captured = []
    assert proc.stdout is not None
    for line in proc.stdout:
        captured.append(line)
        sys.stdout.write(line)
    rc = proc.wait()
    text = "".join(captured)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(ANSI.sub("", text), encoding="utf-8")
    return rc, text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=["html", "pdf"])
    parser.add_argument("--output", type=Path, default=ROOT, help="folder that receives _build/")
    parser.add_argument("--root", type=Path, default=ROOT, help="the book's root folder")
    parser.add_argument("--clean", action="store_true", help="start from an empty _build")
    args = parser.parse_args(argv)
    root, output = args.root.resolve(), args.output.resolve()
    build_dir = output / "_build"
    if args.clean:
        shutil.rmtree(build_dir, ignore_errors=True)
    if invalidate_if_package_changed(root, build_dir):
        print("src/mlsafety changed since the last build: re-executing every chapter")
    builder = "html" if args.target == "html" else "pdflatex"
    if builder == "pdflatex":
        shutil.rmtree(build_dir / "latex", ignore_errors=True)
    start = time.perf_counter()
    rc, log = jupyter_book(root, builder, output, build_dir / f"build-{args.target}.log")
    elapsed = time.perf_counter() - start
    problems = summarise(log, root)
    pdf = build_dir / "latex" / PDF_NAME
    if builder == "pdflatex" and (rc != 0 or not pdf.exists()):
        problems += latex_errors(build_dir / "latex")
    if rc != 0 or problems:
        print("\n" + "=" * 78, file=sys.stderr)
        print(f"BUILD FAILED ({args.target}, {elapsed:.0f} s). Problems:", file=sys.stderr)
        for problem in problems or [f"jupyter-book exited with {rc}; see {build_dir}/build-{args.target}.log"]:
            print(f"  {problem}", file=sys.stderr)
        print(f"Full log: {build_dir / f'build-{args.target}.log'}", file=sys.stderr)
        return 1
    if builder == "html":
        print(f"\nBuilt the HTML in {elapsed:.0f} s. Open: {build_dir / 'html' / 'index.html'}")
    else:
        final = build_dir / "pdf" / PDF_NAME
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(pdf, final)
        print(f"\nBuilt the PDF in {elapsed:.0f} s: {final}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
