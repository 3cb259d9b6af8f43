"""Bedrock + Rekognition: labels, faces (IndexFaces into a collection when one is set),
Titan multimodal embeddings for assets and queries in one space, Claude for words."""

import base64
import json
from collections.abc import Iterator
from typing import Any

from shared.ai.base import AIProvider
from shared.ai.bedrock.retry import Retrier
from shared.ai.summary import extractive_summary
from shared.ai.types import EditRequest, Embedding, Face, ImageFacts, Label, ProviderError
from shared.settings import Settings

# Rekognition takes at most 5 MB of image bytes; Claude reads images best near 1568 px.
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_SIDE = 1568
EMBED_DIM = 1024
SAME_PERSON_SIMILARITY = 90.0  # Rekognition similarity (%) for "the same person"
# Titan multimodal embeddings take at most 128 tokens of text; ~4 characters a token.
MAX_EMBED_TEXT = 500
MAX_SUMMARY_INPUT = 60_000  # characters of a document sent for its summary

ALT_TEXT_PROMPT = (
    "Write alt text for this image for a screen reader: one sentence, at most 125 "
    "characters, no 'image of' prefix unless it is a drawing or document. Facts detected "
    "by other models, which may help: {facts}. Reply with the alt text only."
)
SUMMARY_PROMPT = (
    "Summarise this document in at most three sentences for a search result. "
    "Reply with the summary only.\n\n<document>\n{text}\n</document>"
)
REFINE_PROMPT = (
    "Rewrite this request as one detailed prompt for an image generator (subject, setting, "
    "style, lighting), under 400 characters. Reply with the prompt only.\n\nRequest: {prompt}"
)


class BedrockProvider(AIProvider):
    name = "bedrock"
    max_image_side = MAX_IMAGE_SIDE
    max_image_bytes = MAX_IMAGE_BYTES

    def __init__(
        self,
        rekognition: Any,
        runtime: Any,
        embed_model: str = "amazon.titan-embed-image-v1",
        text_model: str = "anthropic.claude-sonnet-4-6",
        image_model: str = "amazon.titan-image-generator-v2:0",
        collection: str | None = None,
        retrier: Retrier | None = None,
        edit_runtime: Any | None = None,
    ) -> None:
        self.rekognition = rekognition
        self.runtime = runtime
        self.embed_model = embed_model
        self.text_model = text_model
        self.image_model = image_model
        self.collection = collection
        self.retry = retrier or Retrier()
        # Edits run inside an HTTP request: their client gives up at the request's deadline.
        self.edit_runtime = edit_runtime or runtime

    @classmethod
    def from_settings(cls, settings: Settings) -> "BedrockProvider":
        import boto3
        from botocore.config import Config

        # One retry policy (ours); botocore's would multiply the attempts.
        config = Config(
            region_name=settings.aws_region,
            retries={"total_max_attempts": 1, "mode": "standard"},
            read_timeout=120,
        )
        return cls(
            boto3.client("rekognition", config=config),
            boto3.client("bedrock-runtime", config=config),
            embed_model=settings.bedrock_embed_model,
            text_model=settings.bedrock_text_model,
            image_model=settings.bedrock_image_model,
            collection=settings.rekognition_collection,
            edit_runtime=boto3.client(
                "bedrock-runtime",
                config=config.merge(Config(read_timeout=settings.edit_timeout_seconds)),
            ),
        )

    @property
    def embedding_model(self) -> str:
        return self.embed_model

    # -- Rekognition ----------------------------------------------------------------------
    def labels(self, jpeg: bytes) -> list[Label]:
        out = self.retry.call(
            self.rekognition.detect_labels, Image={"Bytes": jpeg}, MaxLabels=20, MinConfidence=55
        )
        return [
            Label(name=lb["Name"], confidence=round(lb["Confidence"] / 100, 4))
            for lb in out.get("Labels", [])
        ]

    def faces(self, jpeg: bytes) -> list[Face]:
        if self.collection:
            # IndexFaces detects and stores in one call: the face ids group people later.
            out = self.retry.call(
                self.rekognition.index_faces,
                CollectionId=self.collection,
                Image={"Bytes": jpeg},
                DetectionAttributes=["DEFAULT"],
                QualityFilter="AUTO",
                MaxFaces=50,
            )
            records = [(r["Face"], r["Face"].get("FaceId")) for r in out.get("FaceRecords", [])]
        else:
            out = self.retry.call(
                self.rekognition.detect_faces, Image={"Bytes": jpeg}, Attributes=["DEFAULT"]
            )
            records = [(d, None) for d in out.get("FaceDetails", [])]
        faces = []
        for detail, face_id in records:
            b = detail["BoundingBox"]
            x, y = max(0.0, b["Left"]), max(0.0, b["Top"])
            box = [x, y, min(1.0 - x, b["Width"]), min(1.0 - y, b["Height"])]
            confidence = round(detail["Confidence"] / 100, 4)
            faces.append(
                Face(
                    box=[round(v, 4) for v in box],
                    confidence=confidence,
                    face_id=face_id,
                    matches=self._same_person(face_id) if face_id else None,
                )
            )
        return faces

    def _same_person(self, face_id: str) -> list[str]:
        """Faces of this person already in the collection (SearchFaces): groups people."""
        out = self.retry.call(
            self.rekognition.search_faces,
            CollectionId=self.collection,
            FaceId=face_id,
            FaceMatchThreshold=SAME_PERSON_SIMILARITY,
            MaxFaces=50,
        )
        return [m["Face"]["FaceId"] for m in out.get("FaceMatches", []) if "Face" in m]

    def ocr(self, jpeg: bytes) -> str:
        out = self.retry.call(self.rekognition.detect_text, Image={"Bytes": jpeg})
        lines = [t["DetectedText"] for t in out.get("TextDetections", []) if t["Type"] == "LINE"]
        return " ".join(lines)

    # -- Titan ----------------------------------------------------------------------------
    def _embed(self, body: dict[str, Any]) -> Embedding:
        body["embeddingConfig"] = {"outputEmbeddingLength": EMBED_DIM}
        out = self.retry.call(
            self.runtime.invoke_model,
            modelId=self.embed_model,
            body=json.dumps(body).encode(),
            contentType="application/json",
            accept="application/json",
        )
        payload = json.loads(out["body"].read())
        vector = payload.get("embedding")
        if not vector:
            raise ProviderError(f"{self.embed_model} returned no embedding")
        import numpy as np

        v = np.asarray(vector, dtype=np.float32)
        return Embedding(model=self.embed_model, vector=v / (float(np.linalg.norm(v)) or 1.0))

    def embed_asset(self, description: str, jpeg: bytes | None) -> Embedding:
        # The image itself: text queries land in the same space (Titan multimodal).
        if jpeg is not None:
            return self._embed({"inputImage": base64.b64encode(jpeg).decode()})
        return self._embed({"inputText": description[:MAX_EMBED_TEXT] or " "})

    def embed_query(self, text: str) -> Embedding:
        return self._embed({"inputText": text[:MAX_EMBED_TEXT] or " "})

    # -- Claude (Converse) ----------------------------------------------------------------
    def _converse(self, content: list[dict[str, Any]], max_tokens: int) -> str:
        out = self.retry.call(
            self.runtime.converse,
            modelId=self.text_model,
            messages=[{"role": "user", "content": content}],
            inferenceConfig={"maxTokens": max_tokens, "temperature": 0.2},
        )
        blocks = out.get("output", {}).get("message", {}).get("content", [])
        return "".join(b.get("text", "") for b in blocks).strip()

    def _alt_content(self, facts: ImageFacts, jpeg: bytes | None) -> list[dict[str, Any]]:
        from shared.ai.describe import description

        content: list[dict[str, Any]] = []
        if jpeg is not None:
            content.append({"image": {"format": "jpeg", "source": {"bytes": jpeg}}})
        content.append({"text": ALT_TEXT_PROMPT.format(facts=description(facts, 1500))})
        return content

    def alt_text(self, facts: ImageFacts, jpeg: bytes | None) -> tuple[str, str]:
        return self._converse(self._alt_content(facts, jpeg), 200), f"written by {self.text_model}"

    def stream_alt_text(self, facts: ImageFacts, jpeg: bytes | None) -> Iterator[str] | None:
        out = self.retry.call(
            self.runtime.converse_stream,
            modelId=self.text_model,
            messages=[{"role": "user", "content": self._alt_content(facts, jpeg)}],
            inferenceConfig={"maxTokens": 200, "temperature": 0.2},
        )

        def chunks() -> Iterator[str]:
            for event in out["stream"]:
                text = event.get("contentBlockDelta", {}).get("delta", {}).get("text")
                if text:
                    yield text

        return chunks()

    def summarize(self, text: str) -> str:
        if len(text.strip()) < 200:
            return extractive_summary(text)  # nothing to condense; no model call
        return self._converse([{"text": SUMMARY_PROMPT.format(text=text[:MAX_SUMMARY_INPUT])}], 300)

    # -- Titan Image Generator --------------------------------------------------------------
    def generate_image(self, prompt: str) -> tuple[bytes, str]:
        refined = self._converse([{"text": REFINE_PROMPT.format(prompt=prompt)}], 300)[:512]
        body = {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": refined or prompt[:512]},
            "imageGenerationConfig": {"numberOfImages": 1, "width": 1024, "height": 1024},
        }
        out = self.retry.call(
            self.runtime.invoke_model,
            modelId=self.image_model,
            body=json.dumps(body).encode(),
            contentType="application/json",
            accept="application/json",
        )
        payload = json.loads(out["body"].read())
        if payload.get("error") or not payload.get("images"):
            raise ProviderError(payload.get("error") or "the image model returned no image")
        return base64.b64decode(payload["images"][0]), refined

    # -- Titan Image Generator edits (shared/ai/bedrock/edits.py) ---------------------------
    edit_ops = frozenset({"bg_remove", "inpaint", "outpaint", "replace_bg", "variation"})

    def edit_model(self, op: str) -> str:
        return self.image_model

    def edit_image(self, rgb: Any, request: EditRequest) -> Any:
        import numpy as np
        import pyvips

        from shared.ai.bedrock import edits

        height, width = rgb.shape[:2]
        image = pyvips.Image.new_from_array(rgb, interpretation="srgb")
        scale = edits.scale_into_limits(width, height)
        if scale != 1:
            image = image.resize(scale)
        payload = edits.body(request, image.pngsave_buffer(), image.width, image.height)
        answer = edits.invoke(self.edit_runtime, self.image_model, payload)
        out = pyvips.Image.new_from_buffer(answer, "")
        if out.bands < 3:
            out = out.colourspace("srgb")
        if (out.width, out.height) != (width, height):  # Titan answers at its own sizes
            out = out.resize(width / out.width, vscale=height / out.height)
        return np.asarray(out.cast("uchar").numpy()).reshape(height, width, out.bands)
