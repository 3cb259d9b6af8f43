"""The supervisor that keeps `picsha serve`'s Celery worker alive (real child processes)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from ingest_worker.queue.beat import BEAT_NAME
from picsha.worker import SupervisedWorker, start_worker
from shared.settings import Settings
from tests.faults import data_dir_processes
from tests.helpers import API_KEY


def _spawner(script: str, started: list[subprocess.Popen]):
    def spawn() -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", script])
        started.append(proc)
        return proc

    return spawn


def _wait(condition, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_that_dies_is_started_again_with_backoff():
    started: list[subprocess.Popen] = []
    sup = SupervisedWorker(
        _spawner("import sys; sys.exit(3)", started), poll_seconds=0.05, max_backoff=0.4
    ).start()
    try:
        assert _wait(lambda: sup.restarts >= 3)
    finally:
        sup.stop()
    assert [p.wait(5) for p in started[:3]] == [3, 3, 3]
    assert len({p.pid for p in started}) == len(started)  # a new process each time


def test_stop_ends_the_worker_and_the_restarts(tmp_path):
    started: list[subprocess.Popen] = []
    sup = SupervisedWorker(
        _spawner("import time; time.sleep(60)", started), poll_seconds=0.05
    ).start()
    assert sup.proc is not None and sup.proc.poll() is None
    sup.proc.kill()  # dies: the supervisor brings a new one up after its 1 s backoff
    assert _wait(lambda: sup.restarts == 1 and sup.proc.poll() is None)
    sup.stop(timeout=5)
    count = len(started)
    time.sleep(1.5)  # longer than the backoff: no restart after stop
    assert len(started) == count == 2
    assert all(p.poll() is not None for p in started)


def test_a_clean_exit_is_not_fought():
    """Exit code 0 is a warm shutdown someone asked for (e.g. Ctrl-C reached the worker
    before `picsha serve` stopped it): no restart."""
    started: list[subprocess.Popen] = []
    sup = SupervisedWorker(_spawner("pass", started), poll_seconds=0.05).start()
    try:
        time.sleep(1.5)  # longer than the first backoff
        assert len(started) == 1 and sup.restarts == 0
    finally:
        sup.stop()


@pytest.mark.slow
@pytest.mark.faults
def test_kill_minus_nine_of_the_worker_leaves_one_beat_and_no_orphan(tmp_path):
    """`celery worker --beat` as `picsha serve` runs it: its beat used to outlive a killed
    worker (reparented to init), so the restart made two schedulers, and stopping left one."""
    settings = Settings(data_dir=tmp_path / "data", api_keys=[API_KEY])
    sup = SupervisedWorker(lambda: start_worker(settings, 1), poll_seconds=0.1).start()

    def beats() -> dict[int, int]:
        """pid → parent pid of each beat of this data folder."""
        procs = data_dir_processes(settings.data_dir)
        return {pid: p.ppid for pid, p in procs.items() if p.name == BEAT_NAME}

    try:
        assert _wait(lambda: len(beats()) == 1, timeout=60), data_dir_processes(settings.data_dir)
        os.kill(sup.proc.pid, signal.SIGKILL)
        # The restarted worker's own beat is up, and no other beat is left.
        assert _wait(lambda: sup.restarts == 1 and sup.proc.pid in beats().values(), timeout=60)
        _wait(lambda: len(beats()) == 1, timeout=10)
        assert list(beats().values()) == [sup.proc.pid], beats()
        # Every other process of this data folder is a child of the new worker: no orphans.
        procs = data_dir_processes(settings.data_dir)
        assert {p.ppid for pid, p in procs.items() if pid != sup.proc.pid} == {sup.proc.pid}
    finally:
        sup.stop()
    left = settings.data_dir
    assert _wait(lambda: not data_dir_processes(left), timeout=30), data_dir_processes(left)
