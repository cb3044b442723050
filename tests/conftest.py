"""Shared fixtures: the book is built once per test session, strictly and from clean."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))


@dataclass
class Build:
    output: Path  # folder that holds _build/
    returncode: int
    stdout: str
    stderr: str

    @property
    def build_dir(self) -> Path:
        return self.output / "_build"


def run_build(target: str, output: Path, root: Path = ROOT, clean: bool = False) -> Build:
    """Run tools/build.py as a contributor would, capturing what it prints."""
    cmd = [sys.executable, str(ROOT / "tools" / "build.py"), target, "--root", str(root), "--output", str(output)]
    if clean:
        cmd.append("--clean")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    return Build(output, proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def html_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """A clean, strict HTML build of the whole book (executes every chapter)."""
    build = run_build("html", tmp_path_factory.mktemp("book"), clean=True)
    assert build.returncode == 0, f"strict HTML build failed:\n{build.stderr}\n{build.stdout[-4000:]}"
    return build
