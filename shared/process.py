"""External programs (Ghostscript, LibreOffice, ffmpeg) under a wall-clock bound.

Each runs in its own session (process group), so a timeout kills the whole tree — soffice
starts oosplash and soffice.bin, gs may fork — and it is reaped: no orphans, no zombies.
"""

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class ConverterTimeout(Exception):
    def __init__(self, name: str, seconds: float) -> None:
        super().__init__(f"{name} did not finish within {seconds:g} s and was stopped")


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def run(
    args: Sequence[str | Path],
    timeout: float,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """Run `args`; on timeout SIGKILL its process group, reap it and raise ConverterTimeout."""
    proc = subprocess.Popen(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.communicate()
        raise ConverterTimeout(Path(str(args[0])).name, timeout) from None
    finally:
        # A converter that exited may leave helpers behind in its group (soffice.bin).
        _kill_group(proc.pid)
    return Result(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
