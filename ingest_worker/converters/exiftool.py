"""One persistent ExifTool process per worker process (pyexiftool's -stay_open mode).

Starting exiftool costs ~100 ms of Perl start-up; keeping one per process makes metadata
extraction a pipe round-trip. The pid check restarts it in a forked child.
"""

import os
import threading
from typing import Any

import exiftool

_lock = threading.Lock()
_helper: exiftool.ExifToolHelper | None = None
_owner_pid: int | None = None

# -G: group names (EXIF, IPTC, XMP, Composite, ICC_Profile...); -n: numbers, not prose,
# so GPS is signed decimal degrees and Orientation an integer.
COMMON_ARGS = ["-G", "-n", "-api", "LargeFileSupport=1"]


def _get_helper() -> exiftool.ExifToolHelper:
    global _helper, _owner_pid
    if _helper is not None and _owner_pid == os.getpid() and not _alive(_helper):
        # pyexiftool would spin forever reading a dead process's pipe: replace it first.
        _helper = None
    if _helper is None or _owner_pid != os.getpid() or not _helper.running:
        _helper = exiftool.ExifToolHelper(common_args=COMMON_ARGS, check_execute=False)
        _helper.run()
        _owner_pid = os.getpid()
    return _helper


def _alive(helper: exiftool.ExifToolHelper) -> bool:
    process = helper._process  # pyexiftool exposes no liveness check
    return helper.running and process is not None and process.poll() is None


def _kill(helper: exiftool.ExifToolHelper) -> None:
    process = helper._process
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()


def read_tags(path: str) -> dict[str, Any]:
    """All tags of one file as {"Group:Tag": value}; the process is reused across calls."""
    global _helper
    with _lock:
        helper = _get_helper()
        try:
            result = helper.get_metadata(path)
        except Exception:
            # A wedged or dead process is replaced on the next call, never reused.
            _kill(helper)
            _helper = None
            raise
    return result[0] if result else {}


def process_pid() -> int | None:
    """The pid of this process's ExifTool (for tests and `picsha doctor`)."""
    with _lock:
        helper = _get_helper()
        return helper._process.pid if helper._process else None
