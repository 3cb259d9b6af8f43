"""`picsha ingest` against an API whose job queue is away: `503 queue_unavailable` uploads
are sent again after Retry-After, under one Idempotency-Key, and make exactly one asset."""

import pytest
import redis
from fastapi.testclient import TestClient

from ingest_worker.http.app import create_app
from picsha.client import UPLOAD_ATTEMPTS, CliError, PicshaClient, Target
from shared.keys import ASSETS_PREFIX
from shared.settings import Settings
from tests.helpers import API_KEY, make_jpeg

pytestmark = [pytest.mark.slow, pytest.mark.faults]


def _client(app_client: TestClient, sleep) -> tuple[PicshaClient, list[str]]:
    """A PicshaClient on the in-process app, and the Idempotency-Key of every upload sent."""
    client = PicshaClient(Target("http://testserver", API_KEY), sleep=sleep)
    keys: list[str] = []
    app_client.headers["x-api-key"] = API_KEY
    app_client.event_hooks["request"] = [
        lambda r: keys.append(r.headers.get("idempotency-key", "")) if r.method == "POST" else None
    ]
    client.http = app_client
    return client, keys


def test_upload_waits_out_a_broker_outage_and_makes_one_asset(tmp_path, redis_proc):
    settings = Settings(data_dir=tmp_path / "data", broker_url=redis_proc.url, api_keys=[API_KEY])
    app_client = TestClient(create_app(settings))
    store = app_client.app.state.store
    waits: list[float] = []

    def broker_back_after_first_wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            redis_proc.start()

    client, keys = _client(app_client, broker_back_after_first_wait)
    photo = make_jpeg(tmp_path / "a.jpg", 64, 48)
    redis_proc.stop()
    body = client.upload(photo, pre_render_sizes=False)

    assert waits == [10.0, 10.0]  # the server's Retry-After, each time
    assert len(keys) == 3 and len(set(keys)) == 1 and keys[0]  # one key for every attempt
    assert store.list_children(ASSETS_PREFIX, None, 10) == [body["id"]]
    assert redis.Redis.from_url(redis_proc.url).llen("ingest") == 1


def test_upload_gives_up_after_a_few_attempts_and_keeps_nothing(tmp_path, redis_proc):
    settings = Settings(data_dir=tmp_path / "data", broker_url=redis_proc.url, api_keys=[API_KEY])
    app_client = TestClient(create_app(settings))
    waits: list[float] = []
    client, keys = _client(app_client, waits.append)
    redis_proc.stop()
    with pytest.raises(CliError) as failed:
        client.upload(make_jpeg(tmp_path / "a.jpg", 64, 48), pre_render_sizes=False)
    assert failed.value.message.startswith("queue_unavailable:")
    assert len(keys) == UPLOAD_ATTEMPTS and len(waits) == UPLOAD_ATTEMPTS - 1
    assert app_client.app.state.store.list_children(ASSETS_PREFIX, None, 10) == []
