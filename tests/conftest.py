"""Shared fixtures: the book's strict HTML build, made once per test session in the project's _build/.

The build reuses the execution cache that `make book` left there when it is current (so a test run
after `make book` executes no chapter) and executes what the cache lacks; every page is re-read so
that every warning is reported. Tests of a changed chapter's determinism run it once more.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "book" / "_ext")]


@dataclass
class Build:
    output: Path  # folder that holds _build/
    returncode: int
    stdout: str
    stderr: str

    @property
    def build_dir(self) -> Path:
        return self.output / "_build"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The folder says what a test is: everything under tests/book/ is marked slow."""
    for item in items:
        if "book" in Path(str(item.path)).relative_to(ROOT / "tests").parts[:1]:
            item.add_marker(pytest.mark.slow)


BUILD_TIMEOUT = 3600  # seconds for one build of the whole book (it takes minutes)


def run_build(
    target: str,
    output: Path,
    root: Path = ROOT,
    clean: bool = False,
    reread: bool = False,
    timeout: int = 900,
    edition: str | None = None,
) -> Build:
    """Run tools/build.py as a contributor would, capturing what it prints."""
    cmd = [sys.executable, str(ROOT / "tools" / "build.py"), target, "--root", str(root), "--output", str(output)]
    if edition:
        cmd += ["--edition", edition]
    if clean:
        cmd.append("--clean")
    if reread:
        cmd.append("--reread")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"tools/build.py {target} for {root} did not finish within {timeout} s: {str(err.stdout)[-2000:]}")
    return Build(output, proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def html_build() -> Build:
    """The strict HTML build of the whole book in _build/ (executes only what the cache lacks)."""
    build = run_build("html", ROOT, reread=True, timeout=BUILD_TIMEOUT)
    assert build.returncode == 0, f"strict HTML build failed:\n{build.stderr}\n{build.stdout[-4000:]}"
    return build
