"""Run every chapter on the GPU and on the CPU, and compare: `make gpu-check`.

    python tools/gpu_check.py                    # export the chapters' code, then run it (needs CUDA)
    python tools/gpu_check.py export DIR         # write DIR/chapters.json (needs the book's venv)
    python tools/gpu_check.py run DIR/chapters.json [--jobs N]   # needs only torch and the chapters' imports

Readers open chapters in Colab, often on a GPU, where `mlsafety.device()` is `cuda`. This runs
each chapter's code cells as a script twice, once with the GPU visible and once with it hidden,
and prints per chapter: the time on each, whether every cell (with its assertions) passed, and
the glued values that differ by more than 5 %. The `run` step needs no Jupyter, so the exported
file can be run on a GPU machine that has only PyTorch, matplotlib and scikit-learn.
On a machine without CUDA it prints one line saying so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 0.05  # relative difference of a glued value that is reported
CHAPTER_TIMEOUT = 600  # seconds for one chapter on one device: 10 x sources.CHAPTER_BUDGET_SECONDS, as a script
JOBS = max(1, (os.cpu_count() or 2) // 2)  # chapter runs at once


def export(out_dir: Path) -> Path:
    """Write the code cells of every chapter in the toc (source, first line, tags) to chapters.json."""
    sys.path.insert(0, str(ROOT / "tools"))
    from build import chapters_in_toc
    from sources import code_cell_lines, read_notebook

    chapters = []
    for chapter in chapters_in_toc(ROOT):
        nb = read_notebook(ROOT / chapter)
        first_lines = code_cell_lines(ROOT / chapter, nb)  # 1-based line of each cell's first code line
        # 'line' is the line before the code, so that line + a traceback's line in the cell is the chapter's line
        cells = [
            {"source": cell.source, "line": first_lines[i] - 1, "tags": cell.metadata.get("tags", [])}
            for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code"
        ]
        chapters.append({"path": str(chapter), "cells": cells})
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "chapters.json"
    target.write_text(json.dumps({"chapters": chapters}, indent=1), encoding="utf-8")
    return target


def run_cells(chapter: dict) -> dict:
    """In this process: execute a chapter's cells in one namespace; glue() records instead of displaying."""
    glued: dict[str, float | str] = {}

    def glue(name: str, variable: object, display: bool = True) -> None:
        try:
            glued[name] = float(variable)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            glued[name] = repr(variable)[:80]

    fake = types.ModuleType("myst_nb")
    fake.glue = glue  # type: ignore[attr-defined]
    saved = sys.modules.get("myst_nb")
    sys.modules["myst_nb"] = fake  # put back afterwards: the caller's process may import the real one
    start = time.perf_counter()
    try:
        error = first_error(chapter)
    finally:
        if saved is None:
            del sys.modules["myst_nb"]
        else:
            sys.modules["myst_nb"] = saved
    return {"seconds": time.perf_counter() - start, "error": error, "glued": glued}


def first_error(chapter: dict) -> str | None:
    """Execute the chapter's cells in one namespace; the first failure as `path:line: ...`, or None."""
    namespace: dict = {"__name__": "__main__"}
    for index, cell in enumerate(chapter["cells"]):
        try:
            exec(compile(cell["source"], f"{chapter['path']}:{cell['line']}", "exec"), namespace)  # noqa: S102
        except Exception as err:  # noqa: BLE001 - report any failure of a reader's cell
            if "raises-exception" in cell["tags"]:
                continue
            where = next(
                (
                    f"{f.filename.split(':')[0]}:{cell['line'] + f.lineno}"
                    for f in traceback.extract_tb(err.__traceback__)
                    if f.filename.startswith(chapter["path"] + ":")
                ),
                f"{chapter['path']}:{cell['line']}",
            )
            return f"{where}: code cell {index + 1} raised {type(err).__name__}: {str(err).splitlines()[0][:200]}"
    return None


def run_one(chapters_json: Path, path: str, device: str) -> dict:
    """Run one chapter in a fresh Python process on 'cuda' or 'cpu' (the GPU hidden)."""
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="2", PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH", "")]))
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    cmd = [sys.executable, str(Path(__file__).resolve()), "child", str(chapters_json), path]
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT / Path(path).parent, env=env, capture_output=True, text=True, timeout=CHAPTER_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return {"seconds": CHAPTER_TIMEOUT, "error": f"{path}: timed out after {CHAPTER_TIMEOUT} s", "glued": {}}
    result = next((line for line in reversed(proc.stdout.splitlines()) if line.startswith("{")), None)
    if proc.returncode != 0 or result is None:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"seconds": 0.0, "error": f"{path}: the run crashed ({tail[0][:200]})", "glued": {}}
    return json.loads(result)


def differences(cpu: dict, gpu: dict) -> list[str]:
    """Glued numbers that differ by more than TOLERANCE (relative), as 'name cpu -> cuda'."""
    found = []
    for name, value in cpu.items():
        other = gpu.get(name)
        if not isinstance(value, float) or not isinstance(other, float):
            continue
        if abs(other - value) > TOLERANCE * max(abs(value), 1e-12):
            found.append(f"{name} {value:.4g} -> {other:.4g}")
    return found


def run(chapters_json: Path, jobs: int) -> int:
    import torch

    chapters = [c["path"] for c in json.loads(chapters_json.read_text(encoding="utf-8"))["chapters"]]
    print(f"gpu-check: {len(chapters)} chapters on {torch.cuda.get_device_name(0)} and on the CPU, {jobs} at a time")
    tasks = [(path, device) for path in chapters for device in ("cuda", "cpu")]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = dict(zip(tasks, pool.map(lambda t: run_one(chapters_json, *t), tasks), strict=True))
    rows, failed = [], 0
    for path in chapters:
        gpu, cpu = results[(path, "cuda")], results[(path, "cpu")]
        status = ["pass" if r["error"] is None else "FAIL" for r in (gpu, cpu)]
        failed += status.count("FAIL")
        diff = differences(cpu["glued"], gpu["glued"])
        rows.append(
            f"| {path} | {gpu['seconds']:.1f} | {cpu['seconds']:.1f} | {status[0]} | {status[1]} | "
            f"{'; '.join(diff) or '—'} |"
        )
        for r in (gpu, cpu):
            if r["error"]:
                rows.append(f"|  | | | | | {r['error']} |")
    table = [
        "| chapter | CUDA s | CPU s | CUDA | CPU | glued values differing > 5 % (CPU -> CUDA) |",
        "|---|---|---|---|---|---|",
        *rows,
    ]
    print("\n".join(table))
    report = chapters_json.parent / "report.md"
    report.write_text("\n".join(table) + "\n", encoding="utf-8")
    print(f"gpu-check: {failed} failed run(s); table in {report}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step")
    exp = sub.add_parser("export")
    exp.add_argument("out", type=Path)
    run_p = sub.add_parser("run")
    run_p.add_argument("chapters_json", type=Path)
    run_p.add_argument("--jobs", type=int, default=JOBS)
    child = sub.add_parser("child")
    child.add_argument("chapters_json", type=Path)
    child.add_argument("path")
    args = parser.parse_args(argv)
    if args.step == "run" and not args.chapters_json.is_file():
        parser.error(f"{args.chapters_json}: no such file — `tools/gpu_check.py export DIR` writes DIR/chapters.json")
    if getattr(args, "jobs", 1) < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if args.step == "child":
        data = json.loads(args.chapters_json.read_text(encoding="utf-8"))
        chapter = next(c for c in data["chapters"] if c["path"] == args.path)
        print(json.dumps(run_cells(chapter)))
        return 0
    if args.step == "export":
        print(export(args.out))
        return 0
    import torch  # the whole check: skip before exporting anything when there is no GPU

    if not torch.cuda.is_available():
        print("gpu-check: skipped, no CUDA device here (torch.cuda.is_available() is False)")
        return 0
    if args.step == "run":
        return run(args.chapters_json, args.jobs)
    return run(export(ROOT / "_build" / "gpu-check"), JOBS)


if __name__ == "__main__":
    sys.exit(main())
