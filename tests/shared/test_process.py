import os
import time

import pytest

from shared import process


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/status") as f:
        return "State:\tZ" not in f.read()


def test_a_timeout_kills_the_whole_process_tree(tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    with pytest.raises(process.ConverterTimeout):
        process.run(["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"], timeout=0.5)
    grandchild = int(pidfile.read_text())
    for _ in range(50):  # the kernel needs a moment to deliver SIGKILL to the orphan
        if not _alive(grandchild):
            break
        time.sleep(0.02)
    assert not _alive(grandchild)


def test_output_and_exit_status_come_back():
    result = process.run(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=10)
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
