"""Titan Image Generator v2 edits against botocore's Stubber: each task type's request, as
the real bedrock-runtime model validates it, and each service error as the caller sees it."""

import base64
import io
import json

import boto3
import numpy as np
import pytest
import pyvips
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from shared.ai.bedrock import edits
from shared.ai.bedrock.provider import BedrockProvider
from shared.ai.types import (
    EditRequest,
    ProviderError,
    ProviderRejected,
    ProviderThrottled,
    ProviderTimeout,
)

MODEL = "amazon.titan-image-generator-v2:0"


@pytest.fixture
def titan():
    runtime = boto3.client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="x",
        aws_secret_access_key="x",
    )  # fmt: skip
    sent: list[dict] = []

    def capture(params, **_):
        sent.append(json.loads(params["body"]))

    runtime.meta.events.register("before-parameter-build.bedrock-runtime.InvokeModel", capture)
    provider = BedrockProvider(boto3.client("rekognition", region_name="us-east-1"), runtime)
    with Stubber(runtime) as stub:
        yield provider, stub, sent
        stub.assert_no_pending_responses()


def _png(width: int, height: int, rgba: bool = False) -> bytes:
    bands = 4 if rgba else 3
    image = pyvips.Image.black(width, height, bands=bands).copy(interpretation="srgb")
    return image.pngsave_buffer()


def _answer(png: bytes) -> dict:
    raw = json.dumps({"images": [base64.b64encode(png).decode()], "error": None}).encode()
    return {"body": StreamingBody(io.BytesIO(raw), len(raw)), "contentType": "application/json"}


CALL = {"modelId": MODEL, "body": ANY, "contentType": "application/json",
        "accept": "application/json"}  # fmt: skip


def _image(b64: str) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(base64.b64decode(b64), "")


def test_background_removal_sends_the_image_and_keeps_titans_alpha(titan):
    provider, stub, sent = titan
    stub.add_response("invoke_model", _answer(_png(400, 300, rgba=True)), CALL)
    rgb = np.full((300, 400, 3), 200, dtype=np.uint8)
    out = provider.edit_image(rgb, EditRequest("bg_remove"))
    assert out.shape == (300, 400, 4)  # Titan's transparent background survives
    (body,) = sent
    assert body["taskType"] == "BACKGROUND_REMOVAL"
    sent_image = _image(body["backgroundRemovalParams"]["image"])
    assert (sent_image.width, sent_image.height) == (400, 300)
    assert "imageGenerationConfig" not in body


def test_inpainting_a_box_sends_titans_black_inside_mask(titan):
    provider, stub, sent = titan
    stub.add_response("invoke_model", _answer(_png(400, 300)), CALL)
    rgb = np.zeros((300, 400, 3), dtype=np.uint8)
    box = (0.5, 0.0, 0.5, 0.5)
    out = provider.edit_image(rgb, EditRequest("inpaint", "a red hat", box, seed=42))
    assert out.shape == (300, 400, 3)
    (body,) = sent
    params = body["inPaintingParams"]
    assert body["taskType"] == "INPAINTING" and params["text"] == "a red hat"
    assert body["imageGenerationConfig"]["seed"] == 42
    assert body["imageGenerationConfig"]["numberOfImages"] == 1
    mask = _image(params["maskImage"])
    assert (mask.width, mask.height) == (400, 300)
    assert mask.getpoint(300, 50) == [0, 0, 0]  # inside the box: repainted
    assert mask.getpoint(100, 250) == [255, 255, 255]  # outside: kept
    assert "maskPrompt" not in params


def test_replace_bg_outpaints_precisely_around_the_subject(titan):
    provider, stub, sent = titan
    stub.add_response("invoke_model", _answer(_png(512, 512)), CALL)
    provider.edit_image(np.zeros((512, 512, 3), np.uint8), EditRequest("replace_bg", "a beach"))
    (body,) = sent
    assert body["taskType"] == "OUTPAINTING"
    params = body["outPaintingParams"]
    assert params["outPaintingMode"] == "PRECISE" and params["text"] == "a beach"
    assert params["maskPrompt"] == edits.SUBJECT_MASK_PROMPT


def test_outpaint_keeps_a_box_by_default_mode(titan):
    provider, stub, sent = titan
    stub.add_response("invoke_model", _answer(_png(512, 512)), CALL)
    request = EditRequest("outpaint", "more sky", (0.25, 0.25, 0.5, 0.5))
    provider.edit_image(np.zeros((512, 512, 3), np.uint8), request)
    params = sent[0]["outPaintingParams"]
    assert params["outPaintingMode"] == "DEFAULT" and "maskImage" in params


def test_variation_sends_one_image_and_the_optional_text(titan):
    provider, stub, sent = titan
    stub.add_response("invoke_model", _answer(_png(512, 512)), CALL)
    stub.add_response("invoke_model", _answer(_png(512, 512)), CALL)
    provider.edit_image(np.zeros((512, 512, 3), np.uint8), EditRequest("variation"))
    provider.edit_image(np.zeros((512, 512, 3), np.uint8), EditRequest("variation", "in autumn"))
    bare, worded = (b["imageVariationParams"] for b in sent)
    assert sent[0]["taskType"] == "IMAGE_VARIATION" and len(bare["images"]) == 1
    assert "text" not in bare and worded["text"] == "in autumn"


def test_images_are_scaled_into_titans_side_limits_and_back(titan):
    provider, stub, sent = titan
    stub.add_response("invoke_model", _answer(_png(1408, 704)), CALL)
    out = provider.edit_image(np.zeros((1024, 2048, 3), np.uint8), EditRequest("variation"))
    sent_image = _image(sent[0]["imageVariationParams"]["images"][0])
    assert max(sent_image.width, sent_image.height) <= edits.MAX_SIDE
    assert out.shape == (1024, 2048, 3)  # the render's own size again
    assert edits.scale_into_limits(100, 800) == pytest.approx(1408 / 800)  # long side wins
    assert edits.scale_into_limits(200, 300) == pytest.approx(256 / 200)


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("ThrottlingException", 429, ProviderThrottled),
        ("ServiceQuotaExceededException", 400, ProviderThrottled),
        ("ValidationException", 400, ProviderRejected),
        ("ModelTimeoutException", 408, ProviderTimeout),
        ("ModelErrorException", 424, ProviderError),
        ("AccessDeniedException", 403, ProviderError),
    ],
)
def test_service_errors_keep_their_meaning(titan, code, status, error):
    provider, stub, _ = titan
    stub.add_client_error("invoke_model", code, "the message", status, expected_params=CALL)
    with pytest.raises(error) as raised:
        provider.edit_image(np.zeros((300, 300, 3), np.uint8), EditRequest("bg_remove"))
    assert type(raised.value) is error  # not a broader or narrower class


def test_an_answer_without_an_image_is_a_provider_error(titan):
    provider, stub, _ = titan
    raw = json.dumps({"images": [], "error": "content filtered"}).encode()
    stub.add_response(
        "invoke_model", {"body": StreamingBody(io.BytesIO(raw), len(raw)),
                         "contentType": "application/json"}, CALL,
    )  # fmt: skip
    with pytest.raises(ProviderError, match="content filtered"):
        provider.edit_image(np.zeros((300, 300, 3), np.uint8), EditRequest("bg_remove"))
