"""Write requirements.lock from the virtual environment: `make lock`.

The lock pins exact versions that resolve from PyPI alone (tests/source/test_install.py checks it).
torch is pinned without a local label (`torch==2.13.0`, not `2.13.0+cpu`): PyPI serves that
version, and pip takes the smaller CPU build instead wherever it can also see PyTorch's CPU index
(`make book TORCH_INDEX=cpu`), since `2.13.0+cpu` sorts above `2.13.0`. A venv holding a CUDA build
of torch is refused, so the lock never carries NVIDIA libraries that a CPU install would then fetch.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

from sources import ROOT

HEADER = (
    "# Exact versions that `make` installs, resolvable from PyPI alone. torch is pinned without a local\n"
    "# label: PyPI gives its default build, PyPI plus PyTorch's CPU index (`make book TORCH_INDEX=cpu`) the\n"
    "# CPU build. Regenerate with `make lock` (tools/lock.py) in a venv that has the CPU build of torch.\n"
)
CUDA_ONLY = re.compile(r"^(nvidia-[\w-]+|triton|cuda-[\w-]+)==", re.IGNORECASE)


class LockError(Exception):
    """The environment cannot be frozen into a portable lock; the message says what to do."""


def lock_lines(freeze: list[str]) -> list[str]:
    """The lock's requirement lines from `pip freeze` output: local labels of torch dropped."""
    cuda = [line for line in freeze if CUDA_ONLY.match(line)]
    if cuda:
        raise LockError(
            f"the venv holds a CUDA build of torch ({', '.join(cuda[:3])}...): recreate it with the CPU "
            "build (`rm -rf .venv && make lock TORCH_INDEX=cpu`) so the lock does not pin NVIDIA libraries"
        )
    lines = []
    for line in freeze:
        line = line.strip()
        if not line or line.startswith(("#", "-e ")) or line.lower().startswith("mlsafety"):
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise LockError(f"`{line}` is not pinned with ==: install it from an index, not a path or URL")
        if name.lower().startswith("torch"):
            if "+" in version and not version.split("+", 1)[1].startswith("cpu"):
                raise LockError(f"{line}: a CUDA build of torch; use the CPU build (TORCH_INDEX=cpu)")
            version = version.split("+", 1)[0]
        lines.append(f"{name}=={version}")
    return sorted(lines, key=str.lower)


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)  # it takes no arguments
    freeze = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    try:
        lines = lock_lines(freeze)
    except LockError as err:
        print(f"make lock: {err}", file=sys.stderr)
        return 1
    (ROOT / "requirements.lock").write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote requirements.lock ({len(lines)} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
