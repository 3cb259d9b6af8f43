"""External programs (Ghostscript, LibreOffice, ffmpeg) under a wall-clock bound.

Each runs in its own session (process group), so a timeout kills the whole tree — soffice
starts oosplash and soffice.bin, gs may fork — and it is reaped: no orphans, no zombies.
"""

import contextlib
import os
import selectors
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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
    proc = _spawn(args, subprocess.PIPE, cwd, env)
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


def stream(
    args: Sequence[str | Path],
    timeout: float,
    on_line: Callable[[str], None],
    *,
    cwd: Path | None = None,
) -> Result:
    """Like run(), but hand each stdout line to `on_line` as it arrives (ffmpeg's
    `-progress pipe:1`). stderr goes to a temporary file so a chatty program cannot block
    on a full pipe while we wait on stdout; the result's stdout is empty."""
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryFile() as err:
        proc = _spawn(args, err, cwd)
        assert proc.stdout is not None
        try:
            _pump(proc.stdout.fileno(), deadline, on_line)
            proc.wait(max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()
            raise ConverterTimeout(Path(str(args[0])).name, timeout) from None
        finally:
            _kill_group(proc.pid)
            proc.stdout.close()
            if proc.poll() is None:  # on_line raised: stop the program, then reap it
                proc.wait()
        err.seek(0)
        return Result(proc.returncode, "", err.read().decode(errors="replace"))


def _spawn(
    args: Sequence[str | Path],
    stderr: Any,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """The program in a session (process group) of its own: a timeout kills all of it."""
    return subprocess.Popen(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        start_new_session=True,
    )


def _pump(fd: int, deadline: float, on_line: Callable[[str], None]) -> None:
    """Read `fd` to EOF, calling on_line per line; TimeoutExpired past the deadline."""
    pending = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise subprocess.TimeoutExpired("stream", 0)
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                on_line(line.decode(errors="replace").rstrip("\r"))
    if pending:
        on_line(pending.decode(errors="replace"))


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
