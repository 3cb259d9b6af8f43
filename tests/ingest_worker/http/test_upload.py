"""Uploads stream: the limit is enforced while bytes arrive and memory stays flat."""

import os
import select
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.helpers import API_KEY, free_port

pytestmark = pytest.mark.slow

LIMIT = 256 * 1024 * 1024
SERVER = """
import uvicorn
from ingest_worker.http.app import create_app
uvicorn.run(create_app(), host="127.0.0.1", port={port}, log_level="warning")
"""


def _rss_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    raise AssertionError(field)


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = {**os.environ, "PICSHA_DATA_DIR": str(tmp_path / "data"), "PICSHA_API_KEYS": API_KEY,
           "PICSHA_MAX_UPLOAD_BYTES": str(LIMIT)}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(port=port)], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz")
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield port, proc, tmp_path / "data"
    proc.terminate()
    proc.wait(10)


def _send_chunked_until_answered(port: int, total: int) -> tuple[int, int]:
    """POST a multipart body of `total` zero bytes, chunked (no Content-Length), stopping
    as soon as the server answers. Returns (status, bytes sent)."""
    boundary = "picshaboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        'filename="zeros.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        (f"POST /v1/assets HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: {API_KEY}\r\n"
         f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
         "Transfer-Encoding: chunked\r\n\r\n").encode()
    )  # fmt: skip
    chunk = b"\0" * (1024 * 1024)
    sent = 0
    pieces = iter([head, *([chunk] * (total // len(chunk)))])
    try:
        for piece in pieces:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered: stop sending
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass
    sock.settimeout(30)
    response = sock.recv(65536).decode("latin-1")
    sock.close()
    return int(response.split()[1]), sent


def test_two_gigabytes_get_413_at_the_limit_with_flat_memory(server):
    port, proc, data = server
    before = _rss_kib(proc.pid, "VmRSS:")
    status, sent = _send_chunked_until_answered(port, 2 * 1024**3)
    peak = _rss_kib(proc.pid, "VmHWM:")
    assert status == 413
    assert LIMIT <= sent < 2 * 1024**3  # read up to the limit, cut off there
    assert peak - before < 64 * 1024, f"server RSS grew {(peak - before) // 1024} MiB"
    objects = data / "objects" / "assets"
    assert not objects.exists() or not any(p.is_file() for p in objects.rglob("*"))
