"""Fault-injection helpers: a restartable Redis, a flaky S3 proxy, worker processes."""

import http.server
import os
import random
import signal
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

import httpx

from tests.helpers import free_port


class RedisProcess:
    """A private redis-server on a fixed port that a test may kill and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        import redis

        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class FlakyS3Proxy:
    """An HTTP proxy in front of the S3 server that fails or stalls some requests on demand."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.fail_rate = 0.0  # share of requests answered 500/503
        self.slow_rate = 0.0  # share of requests delayed
        self.injected = 0
        self._rng = random.Random(7)
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy._lock:
                    roll = proxy._rng.random()
                    fail = roll < proxy.fail_rate
                    slow = not fail and roll < proxy.fail_rate + proxy.slow_rate
                    if fail or slow:
                        proxy.injected += 1
                if fail:
                    status = 503 if roll < proxy.fail_rate / 2 else 500
                    payload = b"<Error><Code>ServiceUnavailable</Code></Error>"
                    self.send_response(status)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if slow:
                    time.sleep(0.4)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                r = httpx.request(self.command, proxy.upstream + self.path, headers=headers,
                                  content=body, timeout=30)  # fmt: skip
                self.send_response(r.status_code)
                for k, v in r.headers.items():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("content-length", str(len(r.content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(r.content)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()


def start_worker(env: dict[str, str], concurrency: int = 2, log: Path | None = None):
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - owned by the process
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ingest_worker.queue.celery_app", "worker",
         f"--concurrency={concurrency}", "--loglevel=INFO", "-Q", "ingest",
         "--without-gossip", "--without-mingle"],
        env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip


def pool_children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Proc(NamedTuple):
    name: str  # /proc/<pid>/comm
    ppid: int


def data_dir_processes(data_dir: Path) -> dict[int, Proc]:
    """Live processes started for this data folder (PICSHA_DATA_DIR in their environment);
    zombies left out (they hold no memory and run nothing)."""
    marker = f"PICSHA_DATA_DIR={Path(data_dir).resolve()}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            if state != "Z":
                found[int(entry.name)] = Proc((entry / "comm").read_text().strip(), int(ppid))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # gone meanwhile, or not ours
    return found


def processes_mentioning(text: str) -> list[int]:
    """Live processes (other than this one) whose command line contains `text`: what a
    converter's timeout must not leave behind."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline:
                found.append(int(entry.name))
    return found
