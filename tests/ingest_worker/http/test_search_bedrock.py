"""Routes that differ with PICSHA_AI=bedrock: streamed alt text and text-to-image. AWS is
botocore's Stubber (requests validated against the service models), no network."""

import base64
import io
import json

import boto3
import httpx
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from fastapi.testclient import TestClient

from ingest_worker import runtime
from ingest_worker.http.app import create_app
from ingest_worker.queue.celery_app import make_celery
from shared.ai.bedrock.provider import BedrockProvider
from shared.ids import new_id
from shared.keys import ASSETS_PREFIX, original_key
from shared.manifest import Manifest, Source, load_manifest, save_manifest
from shared.settings import Settings
from tests.helpers import API_KEY, free_port, make_jpeg
from tests.shared.ai.test_bedrock import _StreamingRuntime

AUTH = {"x-api-key": API_KEY}


def _client(service: str):
    return boto3.client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def bedrock(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path / "data", api_keys=[API_KEY], ai="bedrock")
    app = create_app(settings)

    def install(provider: BedrockProvider) -> None:
        key = (settings.ai, settings.aws_region, settings.rekognition_collection)
        monkeypatch.setitem(runtime._providers, key, provider)

    return settings, app, TestClient(app), install


def test_alt_text_is_streamed_as_server_sent_events(bedrock, tmp_path):
    _, app, client, install = bedrock
    runtime = _StreamingRuntime(["A gradient", " of noise."])
    install(BedrockProvider(_client("rekognition"), runtime))
    store = app.state.store
    data = make_jpeg(tmp_path / "a.jpg", 64, 48).read_bytes()
    m = Manifest(
        id=new_id(),
        status="ready",
        kind="image",
        source=Source(filename="a.jpg", size=len(data), sha256="0" * 64, mime="image/jpeg"),
        analysis={"status": "done", "alt_text": "stored"},
    )
    store.put_bytes(original_key(m.id), data)
    save_manifest(store, m)
    headers = {**AUTH, "accept": "text/event-stream"}
    with client.stream("GET", f"/v1/assets/{m.id}/alt-text", headers=headers) as r:
        body = "".join(r.iter_text())
    events = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: {")]
    assert [e["text"] for e in events if "text" in e] == ["A gradient", " of noise."]
    assert body.rstrip().endswith("event: done\ndata: {}")
    sent = runtime.calls[0]["messages"][0]["content"][0]["image"]["source"]["bytes"]
    assert sent[:3] == b"\xff\xd8\xff"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _generate(client, runtime) -> httpx.Response:
    """POST /v1/generate with the text and image models answering (Stubber)."""
    raw = json.dumps({"images": [base64.b64encode(PNG).decode()], "error": None}).encode()
    with Stubber(runtime) as stub:
        stub.add_response("converse", {
            "output": {"message": {"role": "assistant", "content": [{"text": "A red bike"}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
            "metrics": {"latencyMs": 1},
        }, {"modelId": ANY, "messages": ANY, "inferenceConfig": ANY})  # fmt: skip
        stub.add_response(
            "invoke_model",
            {"body": StreamingBody(io.BytesIO(raw), len(raw)), "contentType": "application/json"},
            {"modelId": "amazon.titan-image-generator-v2:0", "body": ANY,
             "contentType": "application/json", "accept": "application/json"},
        )  # fmt: skip
        return client.post("/v1/generate", json={"prompt": "red bike"}, headers=AUTH)


def test_generate_refines_the_prompt_and_ingests_the_image(bedrock):
    settings, app, client, install = bedrock
    runtime = _client("bedrock-runtime")
    install(BedrockProvider(_client("rekognition"), runtime))
    r = _generate(client, runtime)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["refined_prompt"] == "A red bike" and body["status"] == "queued"
    manifest = load_manifest(app.state.store, body["id"])
    assert manifest.generated == {"prompt": "red bike", "refined_prompt": "A red bike"}
    assert app.state.store.get_bytes(original_key(body["id"])) == PNG
    queue = settings.broker_dir / "queue"
    assert sum(1 for p in queue.iterdir() if p.is_file()) == 1  # ingest enqueued
    listed = client.get("/v1/assets?order=newest", headers=AUTH).json()["items"]
    assert [m["id"] for m in listed] == [body["id"]]


def test_generate_while_the_broker_is_down_is_503_and_keeps_nothing(bedrock):
    settings, app, client, install = bedrock
    runtime = _client("bedrock-runtime")
    install(BedrockProvider(_client("rekognition"), runtime))
    down = settings.model_copy(update={"broker_url": f"redis://127.0.0.1:{free_port()}/0"})
    app.state.celery = make_celery(down)  # nothing listens on that port
    r = _generate(client, runtime)
    assert r.status_code == 503 and r.headers["retry-after"]
    assert r.json()["error"]["code"] == "queue_unavailable"
    assert app.state.store.list_children(ASSETS_PREFIX, None, 10) == []
    assert app.state.store.list_names("newest", None, 10) == []


def test_generate_validates_the_prompt(bedrock):
    _, _, client, _ = bedrock
    assert client.post("/v1/generate", json={"prompt": ""}, headers=AUTH).status_code == 400
    assert client.post("/v1/generate", json={}, headers=AUTH).status_code == 400
