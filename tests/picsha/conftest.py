"""A real `picsha serve` on 127.0.0.1 for the CLI, ops and browser tests (one per module)."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ingest_worker.http.s3_events import enqueue_if_presigned
from ingest_worker.queue.celery_app import make_celery
from shared.settings import Settings
from shared.storage import open_store
from tests.helpers import free_port


@dataclass
class Served:
    base: str
    key: str
    data: Path
    log: Path
    proc: subprocess.Popen

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"x-api-key": self.key}, timeout=30)


def bucket_event(served: Served, key: str, s3_bucket: str, s3_endpoint: str) -> bool:
    """What the bucket's ObjectCreated event does in a deployed stack (EventBridge → SQS →
    the upload-events Lambda, ingest_worker/http/s3_events.py), into the server's queue."""
    settings = Settings(data_dir=served.data, storage="s3", s3_bucket=s3_bucket,
                        s3_endpoint_url=s3_endpoint)  # fmt: skip
    return enqueue_if_presigned(key, open_store(settings), make_celery(settings))


def start_server(workdir: Path, extra_env: dict[str, str] | None = None) -> Served:
    port = free_port()
    data = workdir / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PICSHA_", "PROMETHEUS_"))}
    env.update(extra_env or {})
    log_path = workdir / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "picsha.cli", "serve", "--port", str(port),
             "--data-dir", str(data), "--workers", "1"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # only stops a broken run
    while True:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"picsha serve did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.1)
    key = (data / "dev-api-key").read_text().strip()
    return Served(base, key, data, log_path, proc)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


# These tests are about the console, CLI and ops surface: no AI analysis after ingest,
# which keeps the two shared CPU cores for what is being tested.
NO_ANALYSIS = {"PICSHA_ANALYSIS_ENABLED": "false"}


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    server = start_server(tmp_path_factory.mktemp("serve"), NO_ANALYSIS)
    try:
        yield server
    finally:
        stop_server(server.proc)
