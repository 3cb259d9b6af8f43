"""The ingest API in-process (TestClient); the queue is the real embedded broker folder."""

import io
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import redis
from fastapi.testclient import TestClient

from ingest_worker.http.app import create_app
from ingest_worker.http.idempotency import IdempotencyKeys
from ingest_worker.queue.locks import asset_lock
from shared.keys import ASSETS_PREFIX, original_key
from shared.manifest import AssetError, load_manifest, save_manifest
from shared.settings import Settings
from shared.signing import verify
from tests.helpers import API_KEY, make_jpeg

AUTH = {"x-api-key": API_KEY}


@pytest.fixture
def client(settings):
    return TestClient(create_app(settings))


def _queued_messages(settings) -> int:
    folder = settings.broker_dir / "queue"
    return sum(1 for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0


def _upload(client, data: bytes, name="p.jpg", key: str | None = None, api_key=API_KEY, **form):
    files = {"file": (name, io.BytesIO(data), "image/jpeg")}
    headers = {"x-api-key": api_key} | ({"Idempotency-Key": key} if key is not None else {})
    return client.post("/v1/assets", files=files, data=form, headers=headers)


def _stored_assets(client) -> list[str]:
    return client.app.state.store.list_children(ASSETS_PREFIX, None, 100)


def test_upload_answers_202_stores_the_original_and_enqueues(client, settings, tmp_path):
    data = make_jpeg(tmp_path / "p.jpg", 64, 64).read_bytes()
    r = _upload(client, data, pre_render_sizes="true")
    assert r.status_code == 202
    body = r.json()
    assert body["status"] == "queued" and len(body["id"]) == 21
    assert body["links"]["render"] == f"/render/{body['id']}"
    assert client.app.state.store.get_bytes(original_key(body["id"])) == data
    assert _queued_messages(settings) == 1
    m = client.get(f"/v1/assets/{body['id']}", headers=AUTH).json()
    assert m["pre_render_sizes"] is True
    assert m["source"]["size"] == len(data) and m["source"]["declared_mime"] == "image/jpeg"
    assert len(m["source"]["sha256"]) == 64


def test_every_v1_route_needs_a_key(client):
    for method, path in [
        ("get", "/v1/assets"),
        ("get", "/v1/assets/" + "a" * 21),
        ("delete", "/v1/assets/" + "a" * 21),
        ("post", "/v1/assets/" + "a" * 21 + "/reprocess"),
        ("post", "/v1/assets"),
    ]:
        for headers in ({}, {"x-api-key": "wrong"}):
            r = getattr(client, method)(path, headers=headers)
            assert r.status_code == 401, (method, path)
            assert r.json()["error"]["code"] == "unauthorized"
    assert client.get("/healthz").status_code == 200


def test_too_large_upload_is_413_and_nothing_is_stored(settings, tmp_path):
    settings.max_upload_bytes = 1000
    client = TestClient(create_app(settings))
    r = _upload(client, b"\xff" * 200_000)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "upload_too_large"
    assert client.app.state.store.list_children("assets", None, 10) == []
    assert _queued_messages(settings) == 0


def test_too_large_upload_without_length_is_cut_off_while_streaming(settings):
    settings.max_upload_bytes = 100_000
    client = TestClient(create_app(settings))
    # Just under the declared-length slack, so only the streaming check can catch it.
    r = _upload(client, b"\xff" * 150_000)
    assert r.status_code == 413
    assert client.app.state.store.list_children("assets", None, 10) == []


def test_missing_file_field_is_400_and_not_multipart_is_415(client):
    r = client.post("/v1/assets", files={"other": ("x", b"x")}, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["code"] == "missing_file"
    r = client.post("/v1/assets", data={"pre_render_sizes": "true"}, headers=AUTH)
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    assert client.app.state.store.list_children("assets", None, 10) == []


def test_big_upload_streams_through_intact(client, settings):
    import hashlib

    data = bytes(range(256)) * 40_000  # 10 MB, many chunks through the pipe
    r = _upload(client, data, "big.bin")
    assert r.status_code == 202
    m = client.get(f"/v1/assets/{r.json()['id']}", headers=AUTH).json()
    assert m["source"]["size"] == len(data)
    assert m["source"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert client.app.state.store.get_bytes(original_key(m["id"])) == data


def test_list_pages_with_a_cursor_in_stable_order(client):
    ids = sorted(_upload(client, b"x" * 10, f"{i}.bin").json()["id"] for i in range(5))
    page1 = client.get("/v1/assets?limit=2", headers=AUTH).json()
    page2 = client.get(f"/v1/assets?limit=2&cursor={page1['next_cursor']}", headers=AUTH).json()
    page3 = client.get(f"/v1/assets?limit=2&cursor={page2['next_cursor']}", headers=AUTH).json()
    seen = [m["id"] for p in (page1, page2, page3) for m in p["items"]]
    assert seen == ids
    assert page3["next_cursor"] is None
    bad = client.get("/v1/assets?cursor=../../etc", headers=AUTH)
    assert bad.status_code == 400


def _names(page: dict) -> list[str]:
    return [m["source"]["filename"] for m in page["items"]]


def test_newest_first_lists_by_created_at(client):
    for name in ("A", "B", "C"):
        _upload(client, name.encode() * 10, name)
    page = client.get("/v1/assets?order=newest", headers=AUTH).json()
    assert _names(page) == ["C", "B", "A"] and page["next_cursor"] is None
    by_id = client.get("/v1/assets", headers=AUTH).json()["items"]
    assert [m["id"] for m in by_id] == sorted(m["id"] for m in page["items"])


def test_newest_first_pages_each_once_while_uploads_arrive(client):
    for name in ("A", "B", "C"):
        _upload(client, name.encode() * 10, name)
    seen: list[str] = []
    cursor = ""
    while True:
        page = client.get(f"/v1/assets?order=newest&limit=1{cursor}", headers=AUTH).json()
        seen += _names(page)
        if seen == ["C"]:
            _upload(client, b"D" * 10, "D")  # newer than the cursor: not in this walk
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == ["C", "B", "A"]
    again = client.get("/v1/assets?order=newest", headers=AUTH).json()
    assert _names(again) == ["D", "C", "B", "A"]


def test_newest_first_forgets_deleted_assets(client):
    first = _upload(client, b"a" * 10, "A").json()["id"]
    _upload(client, b"b" * 10, "B")
    assert client.delete(f"/v1/assets/{first}", headers=AUTH).status_code == 204
    page = client.get("/v1/assets?order=newest", headers=AUTH).json()
    assert _names(page) == ["B"]
    assert len(client.app.state.store.list_names("newest", None, 10)) == 1


@pytest.mark.parametrize(
    "query, message",
    [
        ("order=oldest", "order"),
        ("order=newest&cursor=" + "a" * 21, "next_cursor of order=newest"),
        ("cursor=00000000000000001." + "a" * 21, "asset id"),
    ],
)
def test_list_refuses_a_bad_order_or_cursor_with_400(client, query, message):
    r = client.get(f"/v1/assets?{query}", headers=AUTH)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] in ("invalid_request", "invalid_cursor") and message in error["message"]


def test_delete_removes_every_object(client):
    asset_id = _upload(client, b"x" * 10).json()["id"]
    store = client.app.state.store
    store.put_bytes(f"assets/{asset_id}/thumb.webp", b"t")
    assert client.delete(f"/v1/assets/{asset_id}", headers=AUTH).status_code == 204
    assert not store.exists(original_key(asset_id))
    assert not store.exists(f"assets/{asset_id}/thumb.webp")
    assert client.get(f"/v1/assets/{asset_id}", headers=AUTH).status_code == 404
    assert client.delete(f"/v1/assets/{asset_id}", headers=AUTH).status_code == 404


def test_the_same_bytes_again_are_accepted_and_name_the_first_asset(client, settings, tmp_path):
    data = make_jpeg(tmp_path / "p.jpg", 64, 64).read_bytes()
    first = _upload(client, data).json()
    assert "duplicate_of" not in first
    again = _upload(client, data, name="copy.jpg")
    assert again.status_code == 202 and again.json()["duplicate_of"] == first["id"]
    m = client.get(f"/v1/assets/{again.json()['id']}", headers=AUTH).json()
    assert m["duplicate_of"] == first["id"]
    assert _queued_messages(settings) == 2  # still ingested: a copy with its own name
    other = _upload(client, make_jpeg(tmp_path / "q.jpg", 32, 32).read_bytes())
    assert "duplicate_of" not in other.json()


def test_deleting_the_first_asset_forgets_its_bytes(client, tmp_path):
    data = make_jpeg(tmp_path / "p.jpg", 64, 64).read_bytes()
    first = _upload(client, data).json()["id"]
    copy = _upload(client, data).json()["id"]
    assert client.delete(f"/v1/assets/{copy}", headers=AUTH).status_code == 204
    assert _upload(client, data).json()["duplicate_of"] == first  # the copy named nothing
    assert client.delete(f"/v1/assets/{first}", headers=AUTH).status_code == 204
    assert "duplicate_of" not in _upload(client, data).json()


def test_reprocess_requeues(client, settings):
    asset_id = _upload(client, b"x" * 10).json()["id"]
    r = client.post(f"/v1/assets/{asset_id}/reprocess", headers=AUTH)
    assert r.status_code == 202 and r.json()["status"] == "queued"
    assert _queued_messages(settings) == 2


def test_unknown_and_traversal_ids_are_404_json(client):
    for asset_id in ["a" * 21, "..%2F..%2Fetc", "x"]:
        r = client.get(f"/v1/assets/{asset_id}", headers=AUTH)
        assert r.status_code == 404
        assert r.json()["error"]["code"] in ("asset_not_found", "not_found")


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(client, settings):
    first = _upload(client, b"x" * 100, key="4f1c-retry")
    again = _upload(client, b"x" * 100, key="4f1c-retry")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _stored_assets(client) == [first.json()["id"]]  # the retry's copy is gone too
    assert _queued_messages(settings) == 1
    listed = client.get("/v1/assets", headers=AUTH).json()["items"]
    assert [m["id"] for m in listed] == [first.json()["id"]]


def test_the_same_idempotency_key_for_another_request_is_422(client, settings):
    first = _upload(client, b"x" * 100, key="k1")
    for other in (
        _upload(client, b"y" * 100, key="k1"),  # another file
        _upload(client, b"x" * 100, key="k1", pre_render_sizes="true"),  # another field
    ):
        assert other.status_code == 422
        assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert _stored_assets(client) == [first.json()["id"]]
    assert _queued_messages(settings) == 1


def test_idempotency_keys_are_per_api_key_and_last_a_day(settings):
    settings.api_keys = [API_KEY, "second-key"]
    client = TestClient(create_app(settings))
    mine = _upload(client, b"x" * 100, key="k").json()["id"]
    theirs = _upload(client, b"x" * 100, key="k", api_key="second-key").json()["id"]
    assert mine != theirs
    # A day later the key is free again: age the records by 25 hours.
    for record in (settings.data_dir / "objects" / "idempotency").rglob("*.json"):
        data = json.loads(record.read_text())
        created = datetime.fromisoformat(data["created_at"]) - timedelta(hours=25)
        record.write_text(json.dumps(data | {"created_at": created.isoformat()}))
    later = _upload(client, b"x" * 100, key="k")
    assert later.status_code == 202 and "idempotent-replayed" not in later.headers
    assert later.json()["id"] not in (mine, theirs)


def test_a_malformed_idempotency_key_is_400_before_the_body_is_read(client):
    for key in ("", "k" * 256):
        r = _upload(client, b"x" * 100, key=key)
        assert r.status_code == 400, key
        assert r.json()["error"]["code"] == "invalid_idempotency_key"
    assert _stored_assets(client) == []


def test_an_idempotency_key_in_use_is_409_and_leaves_nothing(client, settings):
    scope = IdempotencyKeys.scope(API_KEY, "busy")
    with asset_lock(settings, f"idempotency-{scope}") as held:  # another request commits
        assert held
        r = _upload(client, b"x" * 100, key="busy")
    assert r.status_code == 409 and r.headers["retry-after"]
    assert r.json()["error"]["code"] == "idempotency_key_in_use"
    assert _stored_assets(client) == []
    assert _upload(client, b"x" * 100, key="busy").status_code == 202


@pytest.mark.slow
@pytest.mark.faults
def test_broker_down_is_503_with_nothing_kept_and_uploads_resume(tmp_path, redis_proc):
    """Redis stopped: an upload used to answer a bare 500 yet keep the asset (the sweeper
    later made it ready), so the client's retry made a duplicate."""
    settings = Settings(data_dir=tmp_path / "data", broker_url=redis_proc.url, api_keys=[API_KEY])
    client = TestClient(create_app(settings))
    store = client.app.state.store
    failed_id = _upload(client, b"f" * 10).json()["id"]
    failed = load_manifest(store, failed_id)
    failed.status, failed.error = "failed", AssetError(stage="sniff", code="x", message="x")
    save_manifest(store, failed)

    redis_proc.stop()
    for r in (
        _upload(client, b"x" * 100, key="retry-me"),
        _upload(client, b"x" * 100),
        client.post(f"/v1/assets/{failed_id}/reprocess", headers=AUTH),
    ):
        assert r.status_code == 503, r.text
        assert int(r.headers["retry-after"]) > 0
        assert r.json()["error"]["code"] == "queue_unavailable"
    assert _stored_assets(client) == [failed_id]  # no asset the client was never told of
    assert load_manifest(store, failed_id).status == "failed"  # reprocess changed nothing

    redis_proc.start()
    first = _upload(client, b"x" * 100, key="retry-me")  # the client's retry
    assert first.status_code == 202 and "idempotent-replayed" not in first.headers
    again = _upload(client, b"x" * 100, key="retry-me")
    assert again.json()["id"] == first.json()["id"]
    assert client.post(f"/v1/assets/{failed_id}/reprocess", headers=AUTH).status_code == 202
    assert sorted(_stored_assets(client)) == sorted([failed_id, first.json()["id"]])
    assert redis.Redis.from_url(redis_proc.url).llen("ingest") == 2  # one job each


def test_with_a_signing_key_the_delivery_links_come_signed(settings, tmp_path):
    """Delivery asks every URL for its `sig` then: links a client can follow as they are."""
    signed = settings.model_copy(update={"signing_key": "s3cret"})
    client = TestClient(create_app(signed))
    r = _upload(client, make_jpeg(tmp_path / "p.jpg", 32, 32).read_bytes())
    links = r.json()["links"]
    asset_id = r.json()["id"]
    for name in ("render", "original"):
        url = urlsplit(links[name])
        assert url.path == f"/{name}/{asset_id}"
        items = parse_qsl(url.query)
        given = dict(items).pop("sig")
        assert verify("s3cret", url.path, [i for i in items if i[0] != "sig"], given)
    assert links["self"] == f"/v1/assets/{asset_id}"  # the API itself needs the key, not a sig
