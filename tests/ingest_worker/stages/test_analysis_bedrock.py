"""The analysis stage with PICSHA_AI=bedrock, AWS answered by botocore's Stubber."""

import io
import json

import boto3
import numpy as np
import pyvips
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from ingest_worker.stages import analysis
from shared.ai.bedrock.provider import EMBED_DIM, BedrockProvider
from shared.ai.bedrock.retry import Retrier
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Source, save_manifest
from tests.helpers import make_jpeg


def _client(service: str):
    return boto3.client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_a_photo_is_analysed_through_rekognition_titan_and_claude(settings, store, tmp_path):
    # A 50 MP photo: the provider must only ever see a compliant JPEG (<= 5 MB, <= 1568 px).
    data = make_jpeg(tmp_path / "big.jpg", 8660, 5774, q=95).read_bytes()
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), data)
    save_manifest(
        store,
        Manifest(
            id=asset_id,
            status="ready",
            kind="image",
            source=Source(filename="big.jpg", size=len(data), sha256="0" * 64, mime="image/jpeg"),
        ),
    )
    rek, runtime = _client("rekognition"), _client("bedrock-runtime")
    provider = BedrockProvider(rek, runtime, retrier=Retrier(sleep=lambda s: None))
    sent: list[bytes] = []

    def image_param(value) -> bool:
        sent.append(value["Bytes"])
        return True

    class Capture:
        def __eq__(self, other) -> bool:
            return image_param(other)

    with Stubber(rek) as r, Stubber(runtime) as b:
        r.add_response("detect_labels", {"Labels": [{"Name": "Pattern", "Confidence": 88.0}]},
                       {"Image": Capture(), "MaxLabels": 20, "MinConfidence": 55})  # fmt: skip
        r.add_client_error("detect_faces", "ThrottlingException", "Rate exceeded")
        r.add_response("detect_faces", {"FaceDetails": []})
        r.add_response("detect_text", {"TextDetections": []})
        vector = list(np.ones(EMBED_DIM))
        raw = json.dumps({"embedding": vector}).encode()
        b.add_response("invoke_model", {"body": StreamingBody(io.BytesIO(raw), len(raw)),
                                        "contentType": "application/json"})  # fmt: skip
        b.add_response("converse", {
            "output": {"message": {"role": "assistant", "content": [{"text": "Noise."}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
            "metrics": {"latencyMs": 1},
        }, {"modelId": ANY, "messages": ANY, "inferenceConfig": ANY})  # fmt: skip
        after = analysis.run(asset_id, settings, store, provider)
    a = after.analysis
    assert a.status == "done" and a.provider == "bedrock"
    assert [lb.model_dump() for lb in a.labels] == [{"name": "Pattern", "confidence": 0.88}]
    assert a.alt_text == "Noise." and "claude" in a.alt_text_source
    assert a.embedding.model == "amazon.titan-embed-image-v1"
    assert a.embedding.dim == EMBED_DIM
    (jpeg,) = sent
    assert jpeg[:3] == b"\xff\xd8\xff" and len(jpeg) <= 5 * 1024 * 1024
    image = pyvips.Image.new_from_buffer(jpeg, "")
    assert max(image.width, image.height) == 1568
