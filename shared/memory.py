"""Keeping a long-running imaging process's memory flat.

glibc gives every thread that touches libvips its own malloc arena (up to 8 per core), and
only returns memory from the top of a heap, so the freed middle of every arena stays
resident: in a 4-minute render soak the server grew 608 → 1140 MiB, and one
`malloc_trim(0)` took an 894 MiB server to 335 MiB (not a leak).

- jemalloc, what sharp, govips and the libvips maintainers recommend: `picsha serve`
  re-executes itself with it preloaded when the system has it (`libjemalloc2` in
  system-packages.txt; PICSHA_JEMALLOC=0 turns that off), the worker inherits it, the
  Dockerfiles preload it. 30-minute soak: +5 %. It costs 5-20 % CPU per render, because
  it zeroes libvips' calloc'd region buffers by madvise + page faults (docs/reliability.md).
- Under glibc: two arenas (`limit_malloc_arenas`) and a `Trimmer` that calls
  `malloc_trim(0)` every few seconds after work, from its own thread. 10-minute soak: +18 %.
"""

import ctypes
import ctypes.util
import os
import sys
import threading
from functools import cache
from pathlib import Path

from shared.settings import Settings

JEMALLOC = "libjemalloc.so.2"
_LIB_DIRS = (
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib",
    "/usr/local/lib",
)

M_ARENA_MAX = -8  # from glibc's malloc.h
ARENAS = 2


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap malloc arenas for this process (unless MALLOC_ARENA_MAX is set); True if applied."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False  # the operator chose; glibc already read it at start-up
    libc = _libc()
    try:
        return bool(libc and libc.mallopt(M_ARENA_MAX, arenas))
    except AttributeError:  # not glibc (e.g. musl): nothing to tune
        return False


def trim() -> bool:
    """Give freed heap pages of every arena back to the OS; True if glibc released some."""
    libc = _libc()
    try:
        return bool(libc and libc.malloc_trim(0))
    except AttributeError:
        return False


def jemalloc_path() -> str | None:
    return next((str(p) for d in _LIB_DIRS if (p := Path(d, JEMALLOC)).exists()), None)


def jemalloc_loaded() -> bool:
    try:
        return "libjemalloc" in Path("/proc/self/maps").read_text()
    except OSError:
        return False


def reexec_with_jemalloc() -> None:
    """Replace this process by the same command with jemalloc preloaded, when possible.

    Returns (doing nothing) when jemalloc is already in, not installed, or turned off.
    """
    if not Settings().jemalloc:
        return
    path = jemalloc_path()
    if path is None or jemalloc_loaded():
        return
    preload = os.environ.get("LD_PRELOAD", "")
    if path in preload.split(":"):
        return  # asked for and still not loaded: never loop
    os.environ["LD_PRELOAD"] = f"{path}:{preload}" if preload else path
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


class Trimmer:
    """Trims at most every `interval` seconds, and only after `worked()` was called.

    A daemon thread, so requests never wait for it; idle processes are not touched.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.trims = 0
        self._work = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Trimmer":
        # jemalloc returns memory by itself; glibc's malloc_trim would find nothing to do.
        if self.interval > 0 and self._thread is None and not jemalloc_loaded():
            self._thread = threading.Thread(target=self._run, name="malloc-trim", daemon=True)
            self._thread.start()
        return self

    def worked(self) -> None:
        self._work.set()

    def stop(self) -> None:
        self._stop.set()
        self._work.set()

    def _run(self) -> None:
        while self._work.wait() and not self._stop.is_set():
            self._work.clear()
            trim()
            self.trims += 1
            if self._stop.wait(self.interval):
                return
