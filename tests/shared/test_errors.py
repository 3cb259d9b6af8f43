"""The last-resort 500: JSON, logged with the request id, and the connection stays usable."""

import errno
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

import delivery.app
import ingest_worker.http.app
import picsha.app
from shared.errors import install_error_handlers
from shared.logging import JsonFormatter
from shared.middleware import ObservabilityMiddleware
from shared.storage.local import LocalStore
from tests.helpers import free_port


def _boom() -> None:
    raise RuntimeError("secret detail")


def _boom_os() -> None:
    raise OSError(5, "secret detail")  # EIO: not a full disk, so not a 507


def _port(request: Request) -> dict:
    return {"port": request.client.port if request.client else None}


def _with_failing_route(app: FastAPI) -> FastAPI:
    app.add_api_route("/boom", _boom)
    app.add_api_route("/boom-os", _boom_os)
    app.add_api_route("/port", _port)
    return app


def _small_app(observed: bool) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    if observed:
        app.add_middleware(ObservabilityMiddleware)
    return _with_failing_route(app)


@contextmanager
def _error_log() -> Iterator[io.StringIO]:
    """The JSON lines shared.errors writes (the formatter reads the ids at write time)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("shared.errors")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def _assert_json_500(r: httpx.Response, request_id: str) -> None:
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    error = r.json()["error"]
    assert error["code"] == "internal_error"
    assert request_id in error["message"]
    assert "secret detail" not in r.text and "Traceback" not in r.text


@pytest.mark.parametrize("observed", [True, False], ids=["with-observability", "alone"])
@pytest.mark.parametrize(("path", "error"), [("/boom", "RuntimeError"), ("/boom-os", "OSError")])
def test_an_unexpected_error_is_a_json_500_logged_with_its_request_id(observed, path, error):
    # raise_server_exceptions (the default) re-raises whatever reaches the server: the
    # exception must end in the app.
    client = TestClient(_small_app(observed))
    with _error_log() as log:
        r = client.get(path, headers={"x-request-id": "req-500"})
    _assert_json_500(r, "req-500")
    if observed:
        assert r.headers["x-request-id"] == "req-500"
    event = json.loads(log.getvalue().splitlines()[-1])
    assert event["level"] == "error" and event["request_id"] == "req-500"
    assert f"{error}: " in event["exc"] and "secret detail" in event["exc"]


def _full_disk() -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_stays_a_507():
    app = _small_app(observed=False)
    app.add_api_route("/full", _full_disk)
    r = TestClient(app).get("/full")
    assert r.status_code == 507 and r.json()["error"]["code"] == "insufficient_storage"
    assert r.headers["retry-after"] == "60"


def _delivery(settings) -> FastAPI:
    return delivery.app.create_app(settings, LocalStore(settings.data_dir / "objects"))


@pytest.mark.parametrize(
    "make_app",
    [_delivery, ingest_worker.http.app.create_app, picsha.app.create_app],
    ids=["delivery", "ingest-api", "picsha-serve"],
)
def test_every_app_answers_an_unexpected_error_with_json(settings, make_app: Callable):
    client = TestClient(_with_failing_route(make_app(settings)))
    _assert_json_500(client.get("/boom", headers={"x-request-id": "req-app"}), "req-app")
    assert client.get("/port").status_code == 200


@contextmanager
def _serve(app: FastAPI) -> Iterator[str]:
    """uvicorn on 127.0.0.1 in a thread, as `picsha serve` runs it."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30  # only stops a broken run
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


def test_the_connection_survives_a_500(settings):
    app = _with_failing_route(picsha.app.create_app(settings))
    with _serve(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        before = client.get("/port").json()["port"]
        r = client.get("/boom", headers={"x-request-id": "req-conn"})
        assert r.status_code == 500 and r.headers.get("connection") != "close"
        # The server saw the next request on the same TCP connection (same client port).
        after = client.get("/port")
        assert after.status_code == 200 and after.json()["port"] == before
        _assert_json_500(r, "req-conn")
