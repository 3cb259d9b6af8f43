"""Overload: a bounded number of renders and a short queue; beyond that 503 + Retry-After."""

import threading

import pytest

from delivery.overload import RenderGate
from shared.errors import PicshaError


def test_gate_admits_up_to_concurrency_plus_queue_then_refuses():
    gate = RenderGate(concurrency=2, queue=1, wait_seconds=5)
    release = threading.Event()
    entered = threading.Semaphore(0)
    results: list[str] = []

    def worker() -> None:
        try:
            with gate.slot():
                entered.release()
                release.wait(10)
            results.append("ok")
        except PicshaError as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    entered.acquire(timeout=5)
    entered.acquire(timeout=5)  # two inside, the third waits in the queue
    with pytest.raises(PicshaError) as err, gate.slot():
        pass
    assert err.value.status == 503 and err.value.headers == {"Retry-After": "1"}
    release.set()
    for t in threads:
        t.join(10)
    assert results == ["ok", "ok", "ok"]


def test_waiting_too_long_is_503():
    gate = RenderGate(concurrency=1, queue=5, wait_seconds=0.05)
    with gate.slot(), pytest.raises(PicshaError) as err, gate.slot():
        pass
    assert err.value.code == "overloaded"
    with gate.slot():  # the slot was released
        pass


def test_overloaded_render_answers_json_503(settings, store, ingest, tmp_path):
    from fastapi.testclient import TestClient

    from delivery.app import create_app
    from tests.helpers import make_jpeg

    asset = ingest(make_jpeg(tmp_path / "p.jpg", 200, 100).read_bytes())
    settings.render_concurrency, settings.render_queue = 1, 0
    app = create_app(settings, store)
    client = TestClient(app)
    with app.state.delivery.gate.slot():  # a render in flight holds the only slot
        r = client.get(f"/render/{asset.id}?wd=50")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.json()["error"]["code"] == "overloaded"
    assert client.get(f"/render/{asset.id}?wd=50").status_code == 200
