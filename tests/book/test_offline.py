"""The build needs no network: a book with a code chapter builds in a namespace that has only loopback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from minibook import mini_book


def isolated_prefix() -> list[str]:
    """The command prefix that runs a command with no network but loopback; skip where not allowed."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("offline test skipped: `unshare` or `ip` is not installed (util-linux, iproute2)")
    probe = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True, text=True)
    if probe.returncode != 0:
        reason = probe.stderr.strip() or f"exit status {probe.returncode}"
        print(f"offline test skipped: this machine does not allow network namespaces ({reason})")
        pytest.skip(f"offline test skipped: `unshare -n` is not permitted here ({reason})")
    # The Jupyter kernel talks to the build over TCP on 127.0.0.1, so loopback must be up.
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "offline"]


def build_command(prefix: list[str], target: str, root: Path) -> list[str]:
    """tools/build.py TARGET on the mini book at ROOT, run inside PREFIX (the isolated network)."""
    return [
        *prefix,
        sys.executable,
        str(ROOT / "tools" / "build.py"),
        target,
        "--root",
        str(root),
        "--output",
        str(root),
    ]


def test_namespace_has_only_loopback() -> None:
    proc = subprocess.run([*isolated_prefix(), "ip", "-o", "link"], capture_output=True, text=True, check=True)
    links = [line.split(":")[1].strip() for line in proc.stdout.splitlines()]
    assert links == ["lo"]


def test_book_with_a_code_chapter_builds_offline(tmp_path: Path) -> None:
    prefix = isolated_prefix()
    code = (
        "import numpy as np\n"
        "from sklearn.datasets import load_digits\n"
        "x, y = load_digits(return_X_y=True)\n"
        "print('digits', x.shape, 'mean', round(float(np.mean(x)), 3))"
    )
    root = mini_book(tmp_path, code)
    cmd = build_command(prefix, "html", root)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    assert proc.returncode == 0, proc.stderr + proc.stdout[-3000:]
    page = (root / "_build" / "html" / "chapter.html").read_text()
    assert "digits (1797, 64)" in page, "the code cell did not run offline"


def test_link_check_names_a_broken_link_and_passes_without_it(tmp_path: Path) -> None:
    """`make linkcheck` (weekly): offline, every external link is unreachable, so it must be reported."""
    prefix = isolated_prefix()
    root = mini_book(tmp_path, "print(1)")
    cmd = build_command(prefix, "linkcheck", root)
    passed = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    assert passed.returncode == 0, passed.stderr + passed.stdout[-3000:]
    with (root / "chapter.md").open("a") as f:
        f.write("\nSee [an external page](https://example.org/page).\n")
    failed = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    assert failed.returncode != 0
    line = len((root / "chapter.md").read_text().splitlines())
    assert f"chapter:{line}: broken link https://example.org/page (" in failed.stderr
