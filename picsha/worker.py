"""Start, stop and supervise the Celery worker process of `picsha serve`."""

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import partial

from ingest_worker.queue.lifetime import die_with_parent
from shared.settings import Settings

log = logging.getLogger(__name__)


def worker_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["PICSHA_DATA_DIR"] = str(settings.data_dir.resolve())
    env.setdefault("MALLOC_ARENA_MAX", "2")  # see shared/memory.py
    if settings.api_keys:
        env["PICSHA_API_KEYS"] = ",".join(settings.api_keys)
    return env


def start_worker(settings: Settings, concurrency: int, loglevel: str = "INFO") -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "ingest_worker.queue.celery_app",
        "--quiet",  # no start-up banner: the logs are JSON lines (shared/logging.py)
        "worker",
        f"--concurrency={concurrency}",
        f"--loglevel={loglevel}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-Q",
        "ingest,analysis",  # analysis: AI models on their own queue (issue 5)
        "--beat",  # embedded beat runs the stuck-asset sweeper every sweep_interval_seconds
    ]
    # A `picsha serve` killed with -9 takes its worker along (a warm shutdown, as a normal
    # stop would ask for) instead of leaving it, and its beat, running without a supervisor.
    # The kernel ties this to the spawning thread: the main thread or the supervisor's, and
    # the supervisor's ends only once its worker has exited or is being stopped.
    return subprocess.Popen(
        cmd, env=worker_env(settings), preexec_fn=partial(die_with_parent, os.getpid())
    )


def stop_worker(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.terminate()  # warm shutdown: the current job finishes
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class SupervisedWorker:
    """A worker process that is started again whenever it dies.

    On one machine nothing else watches the Celery worker: if it crashed, `picsha serve`
    would go on accepting uploads that nobody processes. Its jobs are not lost either way
    (the sweeper re-enqueues stuck assets), but the worker must come back. Restarts back
    off from 1 s to `max_backoff` while the worker keeps dying young; a clean exit (code 0,
    a warm shutdown that a signal asked for) is respected.
    """

    def __init__(
        self,
        spawn: Callable[[], subprocess.Popen],
        poll_seconds: float = 1.0,
        max_backoff: float = 30.0,
        healthy_after: float = 60.0,
    ) -> None:
        self._spawn, self._poll = spawn, poll_seconds
        self._max_backoff, self._healthy_after = max_backoff, healthy_after
        self._lock = threading.Lock()  # spawn and stop never interleave
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self._started = 0.0

    def start(self) -> "SupervisedWorker":
        self._start_one()
        self._thread.start()
        return self

    def stop(self, timeout: float = 20) -> None:
        self._stopping.set()
        with self._lock:
            if self.proc is not None:
                stop_worker(self.proc, timeout)
        self._thread.join(timeout)

    def _start_one(self) -> None:
        with self._lock:
            if not self._stopping.is_set():
                self.proc, self._started = self._spawn(), time.monotonic()

    def _watch(self) -> None:
        backoff = 1.0
        while not self._stopping.wait(self._poll):
            proc = self.proc
            code = proc.poll() if proc is not None else None
            if code is None:
                continue
            if code == 0:  # a warm shutdown someone asked for (Ctrl-C reaches it too)
                log.info("the Celery worker stopped cleanly; not starting it again")
                return
            lived = time.monotonic() - self._started
            backoff = 1.0 if lived >= self._healthy_after else backoff
            log.error(
                "the Celery worker exited with code %s after %.0f s; starting it again in %.0f s",
                code, lived, backoff,
            )  # fmt: skip
            if self._stopping.wait(backoff):
                return
            self._start_one()
            self.restarts += 1
            backoff = min(backoff * 2, self._max_backoff)
