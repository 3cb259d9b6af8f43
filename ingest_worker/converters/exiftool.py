"""One persistent ExifTool process per worker process (pyexiftool's -stay_open mode).

Starting exiftool costs ~100 ms of Perl start-up; keeping one per process makes metadata
extraction a pipe round-trip. The pid check restarts it in a forked child.
"""

import os
import threading
from typing import Any, NamedTuple

import exiftool

_lock = threading.Lock()
_helper: exiftool.ExifToolHelper | None = None
_owner_pid: int | None = None

# -G: group names (EXIF, IPTC, XMP, Composite, ICC_Profile...); -l: each tag as
# {"val": printed, "num": number} (num only where they differ), so one read gives both the
# numbers (GPS in signed degrees, Orientation an integer) and the prose people read
# ("Aperture-priority AE", a lens name instead of Canon's 505 or Nikon's hex LensID).
COMMON_ARGS = ["-G", "-l", "-api", "LargeFileSupport=1"]


class Tags(NamedTuple):
    values: dict[str, Any]  # {"Group:Tag": value} as numbers, what `exiftool -n` gives
    printed: dict[str, Any]  # ExifTool's human-readable value, where it differs from the number


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


def read_tags(path: str) -> Tags:
    """All tags of one file, numeric and printed; the process is reused across calls."""
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
    return _split(result[0] if result else {})


def _split(long_json: dict[str, Any]) -> Tags:
    values: dict[str, Any] = {}
    printed: dict[str, Any] = {}
    for key, entry in long_json.items():
        if not isinstance(entry, dict) or "val" not in entry:  # SourceFile is a bare string
            values[key] = entry
            continue
        values[key] = entry.get("num", entry["val"])
        if "num" in entry:
            printed[key] = entry["val"]
    return Tags(values, printed)


def process_pid() -> int | None:
    """The pid of this process's ExifTool (for tests and `picsha doctor`)."""
    with _lock:
        helper = _get_helper()
        return helper._process.pid if helper._process else None
