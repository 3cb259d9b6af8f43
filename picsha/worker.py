"""Start and stop a Celery worker process bound to the same settings as the server."""

import os
import subprocess
import sys

from shared.settings import Settings


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
        "ingest_worker.celery_app",
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
    return subprocess.Popen(cmd, env=worker_env(settings))


def stop_worker(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.terminate()  # warm shutdown: the current job finishes
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
