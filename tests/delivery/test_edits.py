"""`/render?edit=` through the real app: local background removal on a people photo, and
the cost and abuse controls with a scripted provider (tests/shared/ai/test_bedrock_edits.py
checks the Titan requests themselves)."""

import threading

import numpy as np
import pytest
from fastapi.testclient import TestClient

from delivery.app import create_app
from shared import imaging
from shared.ai import AIProvider, ProviderError, ProviderUnavailable
from shared.ai.types import EditRequest, ProviderRejected, ProviderThrottled
from shared.manifest import save_manifest
from shared.signing import sign_url
from tests.helpers import corpus_file, load, make_jpeg

# A man standing in a field, 290x442: the corpus' one full-figure person photo.
PERSON = "jpeg/artifex_a98_icc_sample.jpg"


@pytest.fixture
def person(ingest):
    return ingest(corpus_file(PERSON).read_bytes(), "person.jpg")


@pytest.fixture
def photo(ingest, tmp_path):
    return ingest(make_jpeg(tmp_path / "p.jpg", 640, 480).read_bytes(), "p.jpg")


class ScriptedProvider(AIProvider):
    """A paid provider whose edit answers as scripted: an image, an error, or a wait."""

    name = "bedrock"
    edit_ops = frozenset({"bg_remove", "inpaint", "outpaint", "replace_bg", "variation"})

    def __init__(self) -> None:
        self.calls: list[EditRequest] = []
        self.error: Exception | None = None
        self.release: threading.Event | None = None

    def edit_model(self, op: str) -> str:
        return "test-model-v1"

    def edit_image(self, rgb, request: EditRequest):
        self.calls.append(request)
        if self.release is not None:
            self.release.wait(10)
        if self.error is not None:
            raise self.error
        return 255 - rgb  # "the edit": the negative

    labels = faces = ocr = embed_asset = embed_query = alt_text = summarize = None  # type: ignore[assignment]


@pytest.fixture
def scripted(settings, store):
    """A client signing its URLs, whose edits go to a ScriptedProvider."""
    settings.signing_key = "k3y"
    app = create_app(settings, store)
    provider = ScriptedProvider()
    app.state.delivery.editor._provider = provider
    client = TestClient(app)
    return client, provider


def _signed(path: str) -> str:
    return sign_url("k3y", path)


def _error(r) -> str:
    assert r.headers["content-type"] == "application/json"
    return r.json()["error"]["code"]


# -- local background removal ---------------------------------------------------------------


def test_bg_remove_cuts_the_person_out_on_transparency(client, person):
    r = client.get(f"/render/{person.id}?edit=bg_remove")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png" and imaging.sniff_format(r.content) == "png"
    img = load(r.content)
    assert (img.width, img.height) == (290, 442) and img.hasalpha()
    alpha = np.asarray(img.numpy())[..., 3]
    for x, y in ((5, 5), (284, 5), (5, 435), (284, 435), (20, 300)):  # field around him
        assert alpha[y, x] == 0, (x, y)
    for x, y in ((145, 60), (145, 200), (120, 300)):  # head, chest, legs
        assert alpha[y, x] == 255, (x, y)
    # Most of the frame is field; the figure is a third of it at most.
    assert 0.1 < (alpha > 127).mean() < 0.4
    audit = r.headers["picsha-edit"]
    assert "op=bg_remove" in audit and "provider=local" in audit
    assert "model=mediapipe/selfie_segmentation" in audit


def test_bg_remove_composes_with_bg_and_webp(client, person):
    r = client.get(f"/render/{person.id}?edit=bg_remove&bg=00ff00&fm=jpeg&wd=200")
    img = load(r.content)
    assert imaging.sniff_format(r.content) == "jpeg" and img.width == 200
    corner = img.getpoint(3, 3)
    assert corner[1] > 240 and corner[0] < 20 and corner[2] < 20  # the chosen background
    assert img.getpoint(100, 70)[1] < 200  # his coat is not green
    for fm in ("webp", "avif"):  # every format that carries alpha keeps the cut-out
        r = client.get(f"/render/{person.id}?edit=bg_remove&fm={fm}&wd=200")
        out = load(r.content)
        assert imaging.sniff_format(r.content) == fm and out.hasalpha()
        assert out.getpoint(3, 3)[3] == 0 and out.getpoint(100, 70)[3] == 255


def test_edit_is_part_of_the_etag_and_always_stored(client, person, store):
    plain = client.get(f"/render/{person.id}?wd=200&fm=png")
    first = client.get(f"/render/{person.id}?wd=200&fm=png&edit=bg_remove")
    assert first.status_code == 200 and first.headers["etag"] != plain.headers["etag"]
    tag = first.headers["etag"].strip('"')
    key = f"renders/{person.id}/{tag}.png"
    assert store.exists(key)  # without PICSHA_RENDER_RESULT_STORE: edits are always kept
    again = client.get(
        f"/render/{person.id}?edit=bg_remove&fm=png&wd=200", follow_redirects=False
    )  # another spelling, another edge: the stored render, no second model run
    assert again.status_code == 302 and again.headers["location"] == f"/{key}"
    assert again.headers["picsha-edit"].startswith("op=bg_remove")
    stored = client.get(again.headers["location"])
    assert stored.content == first.content


def test_generative_edit_locally_is_501_naming_bedrock(client, photo):
    r = client.get(f"/render/{photo.id}?edit=inpaint&prompt=a%20red%20hat&mask=subject")
    assert r.status_code == 501 and _error(r) == "edit_not_supported"
    assert "bedrock" in r.json()["error"]["message"]


def test_openapi_lists_the_edit_parameters(client):
    params = {
        p["name"]: p for p in client.get("/openapi.json").json()["paths"]["/render/{asset_id}"][
            "get"]["parameters"]
    }  # fmt: skip
    assert params["edit"]["schema"]["enum"] == [
        "bg_remove", "inpaint", "outpaint", "replace_bg", "variation"
    ]  # fmt: skip
    assert params["prompt"]["schema"]["maxLength"] == 512
    assert "subject" in params["mask"]["schema"]["pattern"]


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("edit=inpaint&mask=subject", "prompt"),  # missing prompt
        ("edit=replace_bg&prompt=" + "x" * 513, "prompt"),  # overlong
        ("edit=replace_bg&prompt=%20%20", "prompt"),  # blank
        ("edit=replace_bg&prompt=a%0Ab", "prompt"),  # a control character
        ("edit=bg_remove&prompt=a%20beach", "prompt"),  # bg_remove paints nothing
        ("prompt=a%20beach", "prompt"),  # no edit at all
        ("edit=inpaint&prompt=hat&mask=0.8,0,0.5,1", "mask"),  # box leaves the image
        ("edit=variation&mask=subject", "mask"),
        ("edit=sharpen_ai", "edit"),
    ],
)
def test_bad_edit_parameters_are_400(client, photo, query, field):
    r = client.get(f"/render/{photo.id}?{query}")
    assert r.status_code == 400 and _error(r) == "invalid_parameter"
    assert r.json()["error"]["message"].startswith(f"{field}:")


def test_edit_on_an_animation_or_a_document_poster_is_a_clear_400(client, ingest, store, photo):
    gif = ingest(corpus_file("gif/animated_cogs.gif").read_bytes())
    r = client.get(f"/render/{gif.id}?edit=bg_remove")
    assert r.status_code == 400 and _error(r) == "edit_unsupported_source"
    assert "animated" in r.json()["error"]["message"]
    photo.kind = "document"  # a document renders its poster: no edits on it
    save_manifest(store, photo)
    r = client.get(f"/render/{photo.id}?edit=bg_remove")
    assert r.status_code == 400 and _error(r) == "edit_unsupported_source"


# -- cost and abuse controls (a paid provider) ---------------------------------------------------


def test_paid_edits_need_a_signing_key_and_a_signed_url(settings, store, photo, scripted):
    client, provider = scripted
    path = f"/render/{photo.id}?edit=replace_bg&prompt=a%20beach&wd=100"
    unsigned = client.get(path)
    assert unsigned.status_code == 403 and _error(unsigned) == "signature_required"
    settings_without_key = settings.model_copy(update={"signing_key": None})
    open_app = create_app(settings_without_key, store)
    open_app.state.delivery.editor._provider = provider
    r = TestClient(open_app).get(path)
    assert r.status_code == 403 and _error(r) == "signed_url_required"
    assert provider.calls == []
    signed = client.get(_signed(path))
    assert signed.status_code == 200, signed.text
    assert load(signed.content).width == 100
    (call,) = provider.calls
    assert (call.op, call.prompt, call.mask) == ("replace_bg", "a beach", None)
    audit = signed.headers["picsha-edit"]
    assert audit == "op=replace_bg; provider=bedrock; model=test-model-v1; prompt=a%20beach"


def test_the_same_url_asks_for_the_same_seed(scripted, photo, store):
    client, provider = scripted
    for query in ("edit=variation&wd=50", "wd=50&edit=variation", "edit=variation&wd=60"):
        store.delete_prefix(f"renders/{photo.id}/")  # as if another region's store missed
        assert client.get(_signed(f"/render/{photo.id}?{query}")).status_code == 200
    first, respelled, other = provider.calls
    assert first.seed == respelled.seed != other.seed
    assert all(0 <= c.seed <= 2_147_483_646 for c in provider.calls)  # Titan's range


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ProviderThrottled("ThrottlingException: slow down"), 429, "edit_throttled"),
        (ProviderRejected("blocked by content filters"), 400, "edit_rejected"),
        (ProviderError("ModelErrorException: boom"), 502, "edit_failed"),
        (RuntimeError("segfault-ish"), 502, "edit_failed"),  # never a 500
        (ProviderUnavailable("mediapipe is not installed"), 503, "edit_unavailable"),
    ],
)
def test_provider_errors_map_to_json_statuses(scripted, photo, error, status, code):
    client, provider = scripted
    provider.error = error
    r = client.get(_signed(f"/render/{photo.id}?edit=inpaint&prompt=hat&mask=0,0,0.5,0.5"))
    assert r.status_code == status and _error(r) == code
    if status == 429:
        assert int(r.headers["retry-after"]) > 0


def test_a_model_that_does_not_answer_is_504_not_a_hang(settings, store, photo):
    settings.signing_key = "k3y"
    settings.edit_timeout_seconds = 0.2
    app = create_app(settings, store)
    provider = ScriptedProvider()
    provider.release = threading.Event()
    app.state.delivery.editor._provider = provider
    try:
        r = TestClient(app).get(_signed(f"/render/{photo.id}?edit=variation&wd=80"))
    finally:
        provider.release.set()
    assert r.status_code == 504 and _error(r) == "edit_timeout"


def test_model_runs_are_rate_limited_per_client(settings, store, photo):
    settings.signing_key = "k3y"
    settings.edit_rate_burst = 2
    settings.edit_rate_per_minute = 1
    app = create_app(settings, store)
    app.state.delivery.editor._provider = ScriptedProvider()
    client = TestClient(app)
    for wd in (50, 60):
        assert client.get(_signed(f"/render/{photo.id}?edit=variation&wd={wd}")).status_code == 200
    # A stored result takes no token...
    again = client.get(_signed(f"/render/{photo.id}?edit=variation&wd=50"), follow_redirects=False)
    assert again.status_code == 302
    # ...a new model run does.
    r = client.get(_signed(f"/render/{photo.id}?edit=variation&wd=70"))
    assert r.status_code == 429 and _error(r) == "rate_limited"
    assert 0 < int(r.headers["retry-after"]) <= 60


def test_behind_a_cdn_the_viewer_address_header_is_the_client(settings, store, photo):
    settings.signing_key = "k3y"
    settings.edit_rate_burst, settings.edit_rate_per_minute = 1, 1
    settings.edit_client_header = "CloudFront-Viewer-Address"
    app = create_app(settings, store)
    app.state.delivery.editor._provider = ScriptedProvider()
    client = TestClient(app)

    def get(wd: int, viewer: str) -> int:
        url = _signed(f"/render/{photo.id}?edit=variation&wd={wd}")
        return client.get(url, headers={"CloudFront-Viewer-Address": viewer}).status_code

    assert get(50, "198.51.100.7:41000") == 200
    assert get(60, "198.51.100.7:52000") == 429  # the same viewer, another port
    assert get(70, "203.0.113.9:41000") == 200  # another viewer, same edge
    assert get(80, "2001:db8::1:41000") == 200  # IPv6 (with its port), its own bucket
    assert get(90, "2001:db8::1:52000") == 429


def test_prompt_denylist_refuses_the_prompt(settings, store, photo):
    settings.signing_key = "k3y"
    settings.edit_prompt_denylist = ["gore"]
    app = create_app(settings, store)
    app.state.delivery.editor._provider = ScriptedProvider()
    client = TestClient(app)
    r = client.get(_signed(f"/render/{photo.id}?edit=replace_bg&prompt=GORE%20beach"))
    assert r.status_code == 400 and _error(r) == "prompt_refused"
    # Whole words only: a gorge is a landscape.
    r = client.get(_signed(f"/render/{photo.id}?edit=replace_bg&prompt=a%20gorge&wd=50"))
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("ThrottlingException", 429, "edit_throttled"),
        ("ValidationException", 400, "edit_rejected"),
        ("ModelTimeoutException", 504, "edit_timeout"),
        ("ModelErrorException", 502, "edit_failed"),
    ],
)
def test_bedrock_errors_reach_the_client_as_json(settings, store, photo, code, status, error):
    import boto3
    from botocore.stub import Stubber

    from shared.ai.bedrock.provider import BedrockProvider

    settings.signing_key = "k3y"
    app = create_app(settings, store)
    runtime = boto3.client("bedrock-runtime", region_name="us-east-1",
                           aws_access_key_id="x", aws_secret_access_key="x")  # fmt: skip
    app.state.delivery.editor._provider = BedrockProvider(None, runtime)
    with Stubber(runtime) as stub:
        stub.add_client_error("invoke_model", code, "Titan says no", 400)
        r = TestClient(app).get(_signed(f"/render/{photo.id}?edit=bg_remove&wd=300"))
    assert r.status_code == status and _error(r) == error
    assert "Titan says no" in r.json()["error"]["message"]


def test_a_remote_model_call_holds_no_render_slot(settings, store, photo):
    settings.signing_key = "k3y"
    settings.render_concurrency, settings.render_queue = 1, 0  # one slot, no queue: else 503
    app = create_app(settings, store)
    provider = ScriptedProvider()
    provider.release = threading.Event()
    app.state.delivery.editor._provider = provider
    client = TestClient(app)
    answers: list[int] = []
    edit = threading.Thread(target=lambda: answers.append(
        client.get(_signed(f"/render/{photo.id}?edit=variation&wd=90")).status_code))  # fmt: skip
    edit.start()
    try:
        while not provider.calls and edit.is_alive():  # until the edit waits on its model
            edit.join(0.01)
        plain = client.get(_signed(f"/render/{photo.id}?wd=80"))
        assert plain.status_code == 200, plain.text  # the slot was free for it
    finally:
        provider.release.set()
        edit.join()
    assert answers == [200]
