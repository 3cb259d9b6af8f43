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


def test_stream_hands_over_each_line_as_it_comes():
    lines: list[str] = []
    result = process.stream(
        ["sh", "-c", "echo a=1; echo err >&2; printf 'b=2\\nc=3'; exit 4"], 10, lines.append
    )
    assert lines == ["a=1", "b=2", "c=3"]
    assert (result.returncode, result.stderr) == (4, "err\n")


def test_stream_timeout_kills_the_whole_process_tree_even_while_it_prints(tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    lines: list[str] = []
    script = f"sleep 60 & echo $! > {pidfile}; while true; do echo tick; sleep 0.05; done"
    with pytest.raises(process.ConverterTimeout):
        process.stream(["sh", "-c", script], 0.5, lines.append)
    assert lines and set(lines) == {"tick"}
    grandchild = int(pidfile.read_text())
    for _ in range(50):
        if not _alive(grandchild):
            break
        time.sleep(0.02)
    assert not _alive(grandchild)
