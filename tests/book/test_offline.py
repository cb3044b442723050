"""The network is off while the book's code runs (tools/offline.py): only loopback is reachable.

Where the system does not allow network namespaces, the tests that need one are skipped with the
reason, and go_offline's one-line notice is tested instead.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import offline
from conftest import ROOT
from minibook import mini_book

OFFLINE = [sys.executable, str(ROOT / "tools" / "offline.py")]  # `offline.py CMD ...` runs CMD offline


def offline_prefix() -> list[str]:
    """The command prefix that runs a command with only loopback; skip where the system refuses."""
    probe = subprocess.run([*OFFLINE, "true"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0 or "network stays on" in probe.stderr:
        reason = probe.stderr.strip() or f"exit status {probe.returncode}"
        pytest.skip(f"network namespaces are not allowed here: {reason}")
    return OFFLINE


def build_command(prefix: list[str], target: str, root: Path) -> list[str]:
    """tools/build.py TARGET on the mini book at ROOT, run inside PREFIX."""
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
    proc = subprocess.run(
        [*offline_prefix(), "cat", "/proc/net/dev"], capture_output=True, text=True, check=True, timeout=60
    )
    links = [line.split(":")[0].strip() for line in proc.stdout.splitlines()[2:]]
    assert links == ["lo"]
    up = subprocess.run(
        [*OFFLINE, sys.executable, "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert up.returncode == 0, f"loopback is not usable offline: {up.stderr}"


def test_a_refusal_is_one_line_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse() -> None:
        raise OSError(1, "unshare: Operation not permitted")

    monkeypatch.setattr(offline, "_unshare", refuse)
    monkeypatch.setattr(offline, "_state", {})
    assert offline.go_offline() is False
    err = capsys.readouterr().err
    assert err == (
        "network stays on: [Errno 1] unshare: Operation not permitted; cells that download are caught only by"
        " make check\n"
    )
    assert offline.go_offline() is False  # said once
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("message", "network"),
    [
        ("URLError: <urlopen error [Errno 111] Connection refused>", True),
        ("ConnectionError: HTTPSConnectionPool(host='x.org', port=443)", True),
        ("gaierror: [Errno -3] Temporary failure in name resolution", True),
        ("OSError: [Errno 101] Network is unreachable", True),
        ("ValueError: shapes (3,) and (4,) not aligned", False),
    ],
)
def test_network_hint(message: str, network: bool) -> None:
    assert (offline.network_hint(message) == offline.RULE) is network


def test_book_with_a_code_chapter_builds_offline(tmp_path: Path) -> None:
    offline_prefix()  # skip where namespaces are refused: then build.py would build with the network on
    code = (
        "import numpy as np\n"
        "from sklearn.datasets import load_digits\n"
        "x, y = load_digits(return_X_y=True)\n"
        "print('digits', x.shape, 'mean', round(float(np.mean(x)), 3))"
    )
    root = mini_book(tmp_path, code)
    proc = subprocess.run(build_command([], "html", root), capture_output=True, text=True, cwd=root, timeout=900)
    assert proc.returncode == 0, proc.stderr + proc.stdout[-3000:]
    assert "network stays on" not in proc.stderr  # build.py went offline itself
    page = (root / "_build" / "html" / "chapter.html").read_text()
    assert "digits (1797, 64)" in page, "the code cell did not run offline"


def test_link_check_names_a_broken_link_and_passes_without_it(tmp_path: Path) -> None:
    """`make linkcheck` (weekly): offline, every external link is unreachable, so it must be reported."""
    prefix = offline_prefix()
    root = mini_book(tmp_path, "print(1)")
    cmd = build_command(prefix, "linkcheck", root)
    passed = subprocess.run(cmd, capture_output=True, text=True, cwd=root, timeout=900)
    assert passed.returncode == 0, passed.stderr + passed.stdout[-3000:]
    with (root / "chapter.md").open("a") as f:
        f.write("\nSee [an external page](https://example.org/page).\n")
    failed = subprocess.run(cmd, capture_output=True, text=True, cwd=root, timeout=900)
    assert failed.returncode != 0
    line = len((root / "chapter.md").read_text().splitlines())
    assert f"chapter:{line}: broken link https://example.org/page (" in failed.stderr
