"""`make gpu-check` (tools/gpu_check.py): the parts that need no GPU."""

from __future__ import annotations

import subprocess
import sys

import pytest

import gpu_check
from conftest import ROOT

CHAPTER = {
    "path": "book/part/demo.md",
    "cells": [
        {"source": "from myst_nb import glue\nx = 2.0\nglue('demo-x', x, display=False)", "line": 20, "tags": []},
        {"source": "raise RuntimeError('meant to fail')", "line": 30, "tags": ["raises-exception"]},
        {"source": "y = 1\n\nassert x < 1, 'x is too large'", "line": 40, "tags": []},
        {"source": "glue('never', 1.0)", "line": 50, "tags": []},
    ],
}


def test_cells_run_in_order_and_a_failure_names_the_line() -> None:
    result = gpu_check.run_cells(CHAPTER)
    assert result["glued"] == {"demo-x": 2.0}  # the cell after the failure did not run
    assert result["error"] == ("book/part/demo.md:43: code cell 3 raised AssertionError: x is too large")


def test_glued_values_that_differ_by_more_than_five_percent_are_named() -> None:
    cpu = {"a": 1.0, "b": 100.0, "c": 0.0, "text": "'x'"}
    gpu = {"a": 1.04, "b": 106.0, "c": 1e-3, "text": "'y'"}
    assert gpu_check.differences(cpu, gpu) == ["b 100 -> 106", "c 0 -> 0.001"]


def test_without_cuda_the_check_skips_with_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gpu_check.py")],
        capture_output=True,
        text=True,
        env={"CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines() == [
        "gpu-check: skipped, no CUDA device here (torch.cuda.is_available() is False)"
    ]


def test_run_names_a_missing_chapters_file_even_without_cuda(tmp_path, capsys) -> None:
    """`run` with a path that holds no export is an error (exit 2), not a skip that looks like success."""
    missing = tmp_path / "chapters.json"
    with pytest.raises(SystemExit) as exit_:
        gpu_check.main(["run", str(missing)])
    assert exit_.value.code == 2
    assert (
        f"{missing}: no such file — `tools/gpu_check.py export DIR` writes DIR/chapters.json" in capsys.readouterr().err
    )
