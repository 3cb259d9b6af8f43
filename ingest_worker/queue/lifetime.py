"""Child processes that say what they are and end with their parent (Linux `prctl`)."""

import ctypes
import os
import signal
import sys

# Resolved once, here: a `preexec_fn` runs in a child forked from a threaded parent, where
# loading a library (dlopen takes a lock another thread may have held at the fork) can hang.
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


def die_with_parent(parent_pid: int, sig: signal.Signals = signal.SIGTERM) -> None:
    """Ask the kernel to send `sig` when the parent dies; exit at once if it already has.

    The signal follows the parent *thread* that forked this process. Safe in a `preexec_fn`.
    """
    if _libc is None:
        return
    _libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent_pid:  # it died before the prctl took effect
        os._exit(1)


def set_name(name: str) -> None:
    """The name `ps -e`, `top` and /proc/<pid>/comm show (15 bytes at most)."""
    if _libc is not None:
        _libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)
