"""The AI provider contract (`PICSHA_AI=local|bedrock`).

Every image method takes JPEG bytes already scaled by `shared.ai.prepare` to the
provider's limits, so no provider sees a 50 MP image or a format it cannot read.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

from shared.ai.types import CapabilityMissing, EditRequest, Embedding, Face, ImageFacts, Label


class AIProvider(ABC):
    name: str
    max_image_side: int = 1568
    max_image_bytes: int = 5 * 1024 * 1024

    @abstractmethod
    def labels(self, jpeg: bytes) -> list[Label]: ...

    @abstractmethod
    def faces(self, jpeg: bytes) -> list[Face]: ...

    @abstractmethod
    def ocr(self, jpeg: bytes) -> str: ...

    @abstractmethod
    def embed_asset(self, description: str, jpeg: bytes | None) -> Embedding:
        """The asset's search vector: from the image where the model can see, else the text."""

    @abstractmethod
    def embed_query(self, text: str) -> Embedding:
        """A search query in the same vector space as `embed_asset`."""

    @abstractmethod
    def alt_text(self, facts: ImageFacts, jpeg: bytes | None) -> tuple[str, str]:
        """(alt text, how it was made) — e.g. 'generated from detected labels'."""

    @abstractmethod
    def summarize(self, text: str) -> str: ...

    def stream_alt_text(self, facts: ImageFacts, jpeg: bytes | None) -> Iterator[str] | None:
        """Chunks of alt text as the model writes them, or None when the provider can't."""
        return None

    def generate_image(self, prompt: str) -> tuple[bytes, str]:
        """(PNG bytes, the refined prompt used)."""
        raise CapabilityMissing("text-to-image", self.name)

    # Image edits (`/render?edit=`): the ops this provider runs, and the model each uses.
    edit_ops: frozenset[str] = frozenset()

    def edit_model(self, op: str) -> str:
        raise CapabilityMissing(f"the {op} edit", self.name)

    def edit_image(self, rgb: Any, request: EditRequest) -> Any:
        """HxWx3 uint8 array → the edited HxWx3 or HxWx4 (alpha) uint8 array."""
        raise CapabilityMissing(f"the {request.op} edit", self.name)

    @property
    def embedding_model(self) -> str:
        raise NotImplementedError
