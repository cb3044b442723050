"""The lock installs on a newcomer's machine, whose pip sees only PyPI (issue: install anywhere).

This machine's pip is configured with a local wheel mirror; a reader's is not. The test asks pip
to resolve requirements.lock with no configuration at all (`--isolated`, PIP_CONFIG_FILE set to
the null device) and checks that every pinned version is found on PyPI itself. It reads only
PyPI's index (no download of packages); where PyPI cannot be reached it skips and says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lock
from conftest import ROOT

pytestmark = pytest.mark.network

UNREACHABLE = (
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "ConnectTimeoutError",
)


def test_lock_resolves_from_pypi_alone(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PIP_CONFIG_FILE": os.devnull}
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--isolated",
        "--dry-run",
        "--no-deps",
        "--ignore-installed",
        "--disable-pip-version-check",
        "--quiet",
        "--report",
        str(report),
        "-r",
        str(ROOT / "requirements.lock"),
    ]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail("pip did not resolve requirements.lock against PyPI within 600 s")
    if proc.returncode != 0 and any(word in proc.stderr for word in UNREACHABLE):
        pytest.skip(f"PyPI is not reachable from here: {proc.stderr.strip().splitlines()[-1][:200]}")
    assert proc.returncode == 0, f"requirements.lock does not resolve from PyPI alone:\n{proc.stderr[-3000:]}"
    resolved = json.loads(report.read_text())["install"]
    pinned = {line.split("==")[0].lower().replace("_", "-") for line in lock_requirements()}
    names = {item["metadata"]["name"].lower().replace("_", "-") for item in resolved}
    assert names == pinned, f"resolved {sorted(names ^ pinned)} differently from the lock"
    local = [
        item["download_info"]["url"] for item in resolved if not item["download_info"]["url"].startswith("https://")
    ]
    assert not local, f"resolved from this machine instead of PyPI: {local[:3]}"


def lock_requirements() -> list[str]:
    return [line for line in (ROOT / "requirements.lock").read_text().splitlines() if line and not line.startswith("#")]


def test_lock_pins_exact_public_versions() -> None:
    lines = lock_requirements()
    assert all("==" in line for line in lines)
    torch = next(line for line in lines if line.startswith("torch=="))
    assert "+" not in torch, f"{torch}: a local version label exists only on PyTorch's own index, not on PyPI"
    assert not [line for line in lines if lock.CUDA_ONLY.match(line)], "the lock pins CUDA libraries"


def test_make_lock_takes_no_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    """`tools/lock.py --help` (or a stray argument) must not rewrite requirements.lock."""
    before = (ROOT / "requirements.lock").stat().st_mtime_ns
    for argv, code in ((["--help"], 0), (["--upgrade"], 2)):
        with pytest.raises(SystemExit) as exit_:
            lock.main(argv)
        assert exit_.value.code == code
    assert "unrecognized arguments: --upgrade" in capsys.readouterr().err
    assert (ROOT / "requirements.lock").stat().st_mtime_ns == before


def test_make_lock_drops_the_cpu_label_and_refuses_a_cuda_build() -> None:
    assert lock.lock_lines(["torch==2.13.0+cpu", "numpy==2.1.0", "-e git+x#egg=mlsafety", "mlsafety==0.1.0"]) == [
        "numpy==2.1.0",
        "torch==2.13.0",
    ]
    with pytest.raises(lock.LockError, match="CUDA build") as refused:
        lock.lock_lines(["torch==2.13.0", "nvidia-cublas-cu12==12.8.4.1"])
    assert "`rm -rf .venv && make lock TORCH_INDEX=cpu`" in str(refused.value)  # a command that exists
    with pytest.raises(lock.LockError, match="CUDA build"):
        lock.lock_lines(["torch==2.13.0+cu128"])
    with pytest.raises(lock.LockError, match="not pinned"):
        lock.lock_lines(["somepkg @ file:///tmp/somepkg"])
