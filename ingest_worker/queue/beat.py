"""Celery beat as `picsha serve` runs it: embedded in the worker, one per data folder.

`celery worker --beat` forks beat from the worker's main process. Celery gives its pool
processes a parent-death signal but not beat, so a worker killed with -9 left its beat
running (reparented to init): the restarted worker added a second scheduler, and the
orphans outlived `picsha serve`. Here an embedded beat ends with its worker, and every
scheduler first takes an flock beside its schedule file, so a second one (another worker
on the same data folder, or one still shutting down) waits instead of running alongside.
"""

import fcntl
import logging
import os
from typing import IO

from celery import signals
from celery.beat import PersistentScheduler

from ingest_worker.queue.lifetime import die_with_parent, set_name

log = logging.getLogger(__name__)
BEAT_NAME = "celery beat"

# The worker's main process, when this process is (a fork of) a worker: beat then runs
# embedded. `celery beat` on its own never sends worker_init.
_worker_pid: int | None = None


@signals.worker_init.connect
def _note_worker(**_: object) -> None:
    global _worker_pid
    _worker_pid = os.getpid()


class SingleScheduler(PersistentScheduler):
    """The persistent (shelve) scheduler, one at a time per schedule file."""

    _lock: IO[str] | None = None

    def setup_schedule(self) -> None:
        if _worker_pid is not None and _worker_pid != os.getpid():
            # Before waiting for the lock: a beat waiting on it must not outlive its worker.
            die_with_parent(_worker_pid)
            # A fork of the worker with the same command line: named, `ps -e` and `top`
            # tell it from the worker and its pool processes.
            set_name(BEAT_NAME)
        self._lock = _hold(f"{self.schedule_filename}.lock")
        super().setup_schedule()

    def close(self) -> None:
        super().close()
        if self._lock is not None:
            self._lock.close()  # drops the flock; the kernel does that too if we are killed
            self._lock = None


def _hold(path: str) -> IO[str]:
    handle = open(path, "a")  # noqa: SIM115 - held for the scheduler's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log.warning("beat: another scheduler holds %s; waiting for it to end", path)
        fcntl.flock(handle, fcntl.LOCK_EX)
    return handle
