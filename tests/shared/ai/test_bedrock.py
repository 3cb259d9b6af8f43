"""The bedrock provider against botocore's Stubber: every request is checked against the real
service models (Rekognition, bedrock-runtime); no network, no credentials."""

import base64
import io
import json

import boto3
import numpy as np
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from shared.ai.bedrock.provider import EMBED_DIM, BedrockProvider
from shared.ai.bedrock.retry import Retrier
from shared.ai.types import Face, ImageFacts, Label, ProviderError, TransientProviderError

JPEG = b"\xff\xd8\xff\xe0fake-jpeg-bytes"
TEXT_MODEL = "anthropic.claude-sonnet-4-6"
EMBED_MODEL = "amazon.titan-embed-image-v1"


def _client(service: str):
    return boto3.client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def aws():
    rek, runtime = _client("rekognition"), _client("bedrock-runtime")
    sleeps: list[float] = []
    provider = BedrockProvider(rek, runtime, retrier=Retrier(attempts=3, sleep=sleeps.append))
    with Stubber(rek) as rek_stub, Stubber(runtime) as rt_stub:
        yield provider, rek_stub, rt_stub, sleeps
        rek_stub.assert_no_pending_responses()
        rt_stub.assert_no_pending_responses()


def _body(payload: dict) -> dict:
    raw = json.dumps(payload).encode()
    return {"body": StreamingBody(io.BytesIO(raw), len(raw)), "contentType": "application/json"}


def _converse_reply(text: str) -> dict:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 100},
    }


def test_labels_from_detect_labels(aws):
    provider, rek, _, _ = aws
    rek.add_response(
        "detect_labels",
        {"Labels": [{"Name": "Cat", "Confidence": 98.5}, {"Name": "Pet", "Confidence": 90.0}]},
        {"Image": {"Bytes": JPEG}, "MaxLabels": 20, "MinConfidence": 55},
    )
    assert provider.labels(JPEG) == [Label("Cat", 0.985), Label("Pet", 0.9)]


def test_faces_from_detect_faces(aws):
    provider, rek, _, _ = aws
    box = {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.1}
    rek.add_response(
        "detect_faces",
        {"FaceDetails": [{"BoundingBox": box, "Confidence": 99.9}]},
        {"Image": {"Bytes": JPEG}, "Attributes": ["DEFAULT"]},
    )
    assert provider.faces(JPEG) == [Face([0.4, 0.1, 0.2, 0.3], 0.999)]


def test_faces_are_indexed_into_the_collection_for_people_search(aws):
    provider, rek, _, _ = aws
    provider.collection = "picsha-people"
    face = {"FaceId": "11111111-2222-3333-4444-555555555555", "Confidence": 99.0,
            "BoundingBox": {"Width": 0.1, "Height": 0.1, "Left": 0.95, "Top": 0.0}}  # fmt: skip
    rek.add_response(
        "index_faces",
        {"FaceRecords": [{"Face": face, "FaceDetail": {}}]},
        {
            "CollectionId": "picsha-people",
            "Image": {"Bytes": JPEG},
            "DetectionAttributes": ["DEFAULT"],
            "QualityFilter": "AUTO",
            "MaxFaces": 50,
        },
    )
    earlier = "99999999-2222-3333-4444-555555555555"
    rek.add_response(
        "search_faces",
        {"SearchedFaceId": face["FaceId"], "FaceMatches": [
            {"Similarity": 97.5, "Face": {"FaceId": earlier, "Confidence": 99.0}}]},
        {"CollectionId": "picsha-people", "FaceId": face["FaceId"],
         "FaceMatchThreshold": 90.0, "MaxFaces": 50},
    )  # fmt: skip
    (found,) = provider.faces(JPEG)
    assert found.face_id == face["FaceId"] and found.matches == [earlier]
    assert found.box == [0.95, 0.0, 0.05, 0.1]  # clamped to the image


def test_ocr_joins_lines(aws):
    provider, rek, _, _ = aws
    rek.add_response(
        "detect_text",
        {"TextDetections": [
            {"DetectedText": "OPEN 24 HOURS", "Type": "LINE", "Id": 0},
            {"DetectedText": "OPEN", "Type": "WORD", "Id": 1, "ParentId": 0},
            {"DetectedText": "Fresh bread", "Type": "LINE", "Id": 2},
        ]},
        {"Image": {"Bytes": JPEG}},
    )  # fmt: skip
    assert provider.ocr(JPEG) == "OPEN 24 HOURS Fresh bread"


def test_titan_embeds_the_image_and_the_query_in_one_space(aws):
    provider, _, rt, _ = aws
    vector = list(np.linspace(0.1, 1, EMBED_DIM))
    expected_image = {
        "inputImage": base64.b64encode(JPEG).decode(),
        "embeddingConfig": {"outputEmbeddingLength": EMBED_DIM},
    }
    call = {"modelId": EMBED_MODEL, "contentType": "application/json", "accept": "application/json"}
    rt.add_response(
        "invoke_model",
        _body({"embedding": vector, "inputTextTokenCount": 0}),
        {**call, "body": json.dumps(expected_image).encode()},
    )
    long_query = "a cat " * 500
    expected_text = {
        "inputText": long_query[:500],
        "embeddingConfig": {"outputEmbeddingLength": EMBED_DIM},
    }
    rt.add_response(
        "invoke_model",
        _body({"embedding": vector, "inputTextTokenCount": 3}),
        {**call, "body": json.dumps(expected_text).encode()},
    )
    image = provider.embed_asset("ignored when there is an image", JPEG)
    query = provider.embed_query(long_query)
    assert image.model == query.model == EMBED_MODEL
    assert image.vector.shape == (EMBED_DIM,)
    assert float(np.linalg.norm(image.vector)) == pytest.approx(1.0, abs=1e-5)


def test_claude_writes_alt_text_through_converse(aws):
    provider, _, rt, _ = aws
    rt.add_response(
        "converse",
        _converse_reply("A tabby cat asleep on a red sofa."),
        {
            "modelId": TEXT_MODEL,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"image": {"format": "jpeg", "source": {"bytes": JPEG}}},
                        {"text": ANY},
                    ],
                }
            ],
            "inferenceConfig": {"maxTokens": 200, "temperature": 0.2},
        },
    )
    text, source = provider.alt_text(ImageFacts(labels=[Label("Cat", 0.98)]), JPEG)
    assert text == "A tabby cat asleep on a red sofa." and TEXT_MODEL in source


def test_document_summary_through_converse_and_short_text_without_a_call(aws):
    provider, _, rt, _ = aws
    rt.add_response("converse", _converse_reply("A release note."), {
        "modelId": TEXT_MODEL, "messages": ANY, "inferenceConfig": ANY})  # fmt: skip
    assert provider.summarize("Long text. " * 50) == "A release note."
    assert provider.summarize("Short title") == "Short title"


def test_throttling_is_retried_with_backoff(aws):
    provider, rek, _, sleeps = aws
    rek.add_client_error("detect_labels", "ThrottlingException", "Rate exceeded")
    rek.add_client_error("detect_labels", "ProvisionedThroughputExceededException", "slow down")
    rek.add_response("detect_labels", {"Labels": [{"Name": "Dog", "Confidence": 91.0}]})
    assert provider.labels(JPEG) == [Label("Dog", 0.91)]
    assert len(sleeps) == 2 and all(s >= 0 for s in sleeps)


def test_persistent_throttling_becomes_a_transient_error(aws):
    provider, rek, _, _ = aws
    for _ in range(3):
        rek.add_client_error("detect_faces", "ThrottlingException", "Rate exceeded")
    with pytest.raises(TransientProviderError, match="3 attempts"):
        provider.faces(JPEG)


def test_a_rejected_image_is_a_final_provider_error(aws):
    provider, rek, _, sleeps = aws
    rek.add_client_error("detect_labels", "InvalidImageFormatException", "bad image")
    with pytest.raises(ProviderError, match="InvalidImageFormatException"):
        provider.labels(JPEG)
    assert sleeps == []


def test_text_to_image_refines_the_prompt_then_generates(aws):
    provider, _, rt, _ = aws
    rt.add_response("converse", _converse_reply("A red bicycle against a white wall, soft light"),
                    {"modelId": TEXT_MODEL, "messages": ANY, "inferenceConfig": ANY})  # fmt: skip
    png = b"\x89PNG\r\n\x1a\nfake"
    rt.add_response(
        "invoke_model",
        _body({"images": [base64.b64encode(png).decode()], "error": None}),
        {
            "modelId": "amazon.titan-image-generator-v2:0",
            "contentType": "application/json",
            "accept": "application/json",
            "body": ANY,
        },
    )
    data, refined = provider.generate_image("red bike")
    assert data == png and refined.startswith("A red bicycle")


class _StreamingRuntime:
    """bedrock-runtime for ConverseStream: the request is validated against the real
    service model (the Stubber cannot build event-stream responses); the events are the
    shapes ConverseStream documents."""

    def __init__(self, chunks: list[str]) -> None:
        self.model = _client("bedrock-runtime").meta.service_model.operation_model("ConverseStream")
        self.chunks = chunks
        self.calls: list[dict] = []

    def converse_stream(self, **params):
        from botocore.validate import validate_parameters

        validate_parameters(params, self.model.input_shape)  # raises on a bad request
        self.calls.append(params)
        events = [{"messageStart": {"role": "assistant"}}]
        events += [{"contentBlockDelta": {"delta": {"text": c}, "contentBlockIndex": 0}}
                   for c in self.chunks]  # fmt: skip
        events += [{"messageStop": {"stopReason": "end_turn"}}]
        return {"stream": iter(events)}


def test_alt_text_streams_through_converse_stream():
    runtime = _StreamingRuntime(["A tabby cat", " asleep on", " a red sofa."])
    provider = BedrockProvider(_client("rekognition"), runtime)
    chunks = provider.stream_alt_text(ImageFacts(labels=[Label("Cat", 0.9)]), JPEG)
    assert "".join(chunks) == "A tabby cat asleep on a red sofa."
    (call,) = runtime.calls
    assert call["modelId"] == TEXT_MODEL
    assert call["messages"][0]["content"][0]["image"]["source"]["bytes"] == JPEG
