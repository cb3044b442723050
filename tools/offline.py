"""The network off while the book's code runs: a Linux network namespace with only loopback up.

    from offline import go_offline
    go_offline()   # this process and every process it starts (kernels included) reach only 127.0.0.1

Used by `make chapter`, `make preview`, `make book` and `make bench` (tools/run_chapter.py,
tools/build.py, tools/bench.py) so that a cell that downloads fails where it runs, with the
chapter's line and the RULE below. Our own code because no maintained package does this
in-process: it is `unshare -n` plus `ip link set lo up`, done with libc's unshare(2) and one ioctl
so that the kernels the process starts inherit it.
Where the system refuses (no namespaces, a container without the capability, macOS), it prints one
line and the network stays on; `make check` still flags the usual download calls.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import re
import socket
import struct
import sys
from pathlib import Path

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

RULE = (
    "the book downloads nothing: its cells run with the network off (make chapter, make preview, make book, CI). "
    "Use data bundled with a package (e.g. sklearn.datasets.load_digits), data made in code, or a small file "
    "committed in src/mlsafety/data and read with importlib.resources"
)
NETWORK_ERROR = re.compile(
    r"URLError|ConnectionError|ConnectionRefusedError|gaierror|NewConnectionError|MaxRetryError"
    r"|Network is unreachable|Temporary failure in name resolution|Name or service not known"
)

_state: dict[str, str | None] = {}  # "reason": None once offline, else why the network stays on


def _lo_up() -> None:
    """Bring the loopback interface up (what `ip link set lo up` does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def _unshare() -> None:
    """Enter a new network namespace (and, when not root, a user namespace that owns it); raise OSError."""
    if not sys.platform.startswith("linux"):
        raise OSError(errno.ENOSYS, f"network namespaces are Linux-only (this is {sys.platform})")
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNET if uid == 0 else CLONE_NEWUSER | CLONE_NEWNET
    if libc.unshare(flags) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"unshare: {os.strerror(code)}")
    if uid != 0:  # keep our own uid and gid inside the new user namespace
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            Path("/proc/self", name).write_text(text)
    _lo_up()


def _probe() -> str | None:
    """Try it in a forked child first, so that a refusal never half-applies here; None if it works."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: try, report, exit without running any cleanup of the parent
        os.close(read)
        try:
            _unshare()
            message = b""
        except Exception as exc:  # any failure is a reason to stay online
            message = str(exc).encode()[:500] or type(exc).__name__.encode()
        os.write(write, message)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode(errors="replace")
    os.waitpid(pid, 0)
    return message or None


def go_offline(quiet: bool = False) -> bool:
    """Cut this process (and its children) off the network, loopback kept; True if it is offline.

    Where the system refuses, print one line saying so and carry on with the network on.
    """
    if "reason" not in _state:
        try:
            reason = _probe()
            if reason is None:
                _unshare()
        except OSError as exc:
            reason = str(exc)
        _state["reason"] = reason
        if reason is not None and not quiet:
            print(
                f"network stays on: {reason}; cells that download are caught only by make check",
                file=sys.stderr,
                flush=True,
            )
    return _state["reason"] is None


def network_hint(exc_text: str) -> str | None:
    """The offline rule, if a failing cell's message looks like a network error; else None."""
    return RULE if NETWORK_ERROR.search(exc_text or "") else None


if __name__ == "__main__":  # `python tools/offline.py CMD ...`: run a command offline
    go_offline()
    if len(sys.argv) > 1:
        os.execvp(sys.argv[1], sys.argv[1:])
