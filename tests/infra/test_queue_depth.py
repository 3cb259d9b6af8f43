"""The backlog probe against a real Redis: Celery's queue lists plus the unacked hash."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.infra.loaders import QUEUE_DEPTH, load

probe = load(QUEUE_DEPTH, "picsha_queue_depth")
PASSWORD = "probe-test-password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    binary = shutil.which("redis-server")
    if not binary:
        pytest.skip("redis-server not installed (system-packages.txt, group test)")
    port = _free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            PASSWORD,
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _redis(port: int, *commands: tuple[str, ...]) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        stream = conn.makefile("rwb")
        everything = [("AUTH", PASSWORD), *commands]
        stream.write(b"".join(probe._encode(*c) for c in everything))
        stream.flush()
        for _ in everything:
            probe._reply(stream)


def test_backlog_counts_queued_and_in_flight_jobs(redis_port: int) -> None:
    _redis(
        redis_port,
        ("DEL", "ingest", "analysis", "unacked"),
        ("RPUSH", "ingest", "a", "b", "c"),
        ("RPUSH", "analysis", "d"),
        ("HSET", "unacked", "tag1", "x", "tag2", "y"),
    )
    counts = probe.backlog("127.0.0.1", redis_port, ["ingest", "analysis"], PASSWORD, tls=False)
    assert counts == {"ingest": 3, "analysis": 1, "unacked": 2}


def test_an_idle_broker_has_no_backlog(redis_port: int) -> None:
    _redis(redis_port, ("DEL", "ingest", "analysis", "unacked"))
    counts = probe.backlog("127.0.0.1", redis_port, ["ingest", "analysis"], PASSWORD, tls=False)
    assert sum(counts.values()) == 0


def test_a_wrong_password_is_an_error_not_zero(redis_port: int) -> None:
    with pytest.raises(RuntimeError, match="Redis error"):
        probe.backlog("127.0.0.1", redis_port, ["ingest"], "wrong", tls=False)
