"""Shared test fixtures: corpus access, synthetic images, real Redis and S3 servers."""

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.libvips import use_bundled

# The suite runs on the system libvips (ingest needs its loaders); delivery's own tests can
# run again on the bundled one that `picsha serve` gives delivery: PICSHA_TEST_LIBVIPS=bundled.
if os.environ.get("PICSHA_TEST_LIBVIPS") == "bundled":
    use_bundled()

from shared.settings import Settings
from shared.storage import ObjectStore
from shared.storage.local import LocalStore
from tests.corpus_ingest import CorpusIngest
from tests.faults import RedisProcess
from tests.helpers import API_KEY, corpus_rows, free_port

# Processes the tests start (`python -m picsha.cli serve`, celery, `-c` probes) import this
# checkout, not whichever one the virtualenv was installed from (a worktree's own code).
_REPO = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(
    [_REPO, *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != _REPO)]
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", api_keys=[API_KEY])


@pytest.fixture
def store(settings: Settings) -> ObjectStore:
    return LocalStore(settings.data_dir / "objects")


@pytest.fixture(scope="session")
def corpus_ingest(tmp_path_factory) -> CorpusIngest:
    """../shared/corpus ingested once for the session (tests/corpus_ingest.py)."""
    if not corpus_rows():
        pytest.skip("corpus not present")
    return CorpusIngest(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A private real Redis on loopback (or PICSHA_TEST_REDIS_URL), never persisted."""
    if url := os.environ.get("PICSHA_TEST_REDIS_URL"):
        yield url
        return
    binary = shutil.which("redis-server")
    if not binary:
        pytest.fail("redis-server is not installed (see system-packages.txt, group test)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def redis_proc() -> Iterator[RedisProcess]:
    """A private Redis that the test may stop and start again (tests/faults.py)."""
    r = RedisProcess()
    r.start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's standalone S3-compatible server over HTTP on loopback."""
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    import boto3

    name = f"picsha-test-{time.time_ns()}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


def _wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port}")
