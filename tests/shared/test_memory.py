import ctypes
import ctypes.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared import memory
from shared.memory import Trimmer, limit_malloc_arenas


def test_caps_arenas_on_glibc_unless_the_operator_chose(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas() is True  # Debian's glibc accepts M_ARENA_MAX
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_trim_gives_freed_heap_back_to_the_os():
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    # 200 MB in 64 kB blocks (below the mmap threshold: they come from the heap), touched,
    # then all freed but the last, which pins the top so glibc cannot shrink the heap itself.
    blocks = [libc.malloc(64 * 1024) for _ in range(3200)]
    for b in blocks:
        ctypes.memset(b, 1, 64 * 1024)
    for b in blocks[:-1]:
        libc.free(b)
    before = _rss_kb()
    assert memory.trim() is True
    after = _rss_kb()
    libc.free(blocks[-1])
    assert before - after > 150_000  # kB: most of the 200 MB went back


def test_trimmer_trims_only_after_work():
    trimmer = Trimmer(interval=0.05).start()
    try:
        time.sleep(0.2)
        assert trimmer.trims == 0  # idle: untouched
        trimmer.worked()
        deadline = time.monotonic() + 5
        while trimmer.trims == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert trimmer.trims == 1
        time.sleep(0.2)
        assert trimmer.trims == 1  # one trim per burst of work
    finally:
        trimmer.stop()


def test_trimmer_off_with_zero_interval():
    trimmer = Trimmer(interval=0).start()
    trimmer.worked()
    time.sleep(0.1)
    assert trimmer.trims == 0


_PROBE = (
    "from shared.memory import reexec_with_jemalloc, jemalloc_loaded; "
    "reexec_with_jemalloc(); print(jemalloc_loaded())"
)


def _probe(**env: str) -> str:
    run_env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "PICSHA_JEMALLOC")}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=run_env | env, capture_output=True, text=True,
        timeout=60, check=True, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    return out.stdout.strip()


@pytest.mark.skipif(memory.jemalloc_path() is None, reason="libjemalloc2 not installed")
def test_reexec_preloads_jemalloc_once():
    assert _probe() == "True"  # re-executed itself with jemalloc, then did not loop
    assert _probe(PICSHA_JEMALLOC="0") == "False"
