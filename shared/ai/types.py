"""What an AI provider returns, and how it says it cannot."""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Label:
    name: str
    confidence: float  # 0..1


@dataclass
class Face:
    box: list[float]  # [x, y, width, height] as fractions of the image, so any rendition fits
    confidence: float
    embedding: list[float] | None = None  # for grouping people, when the provider has one
    face_id: str | None = None  # Rekognition collection face id (IndexFaces)
    matches: list[str] | None = None  # face ids of the same person already in the collection


@dataclass
class Embedding:
    model: str  # vectors of different models never share a ranking
    vector: np.ndarray  # float32, L2-normalised


@dataclass
class ImageFacts:
    """Everything the describe/alt-text step composes from (provider results + manifest)."""

    labels: list[Label] = field(default_factory=list)
    faces: list[Face] = field(default_factory=list)
    ocr_text: str = ""
    colors: list[str] = field(default_factory=list)
    camera: str | None = None
    taken_at: str | None = None
    place: str | None = None
    filename: str = ""
    kind: str | None = None
    document_text: str = ""
    duration: float | None = None  # seconds: videos and audio
    media_tags: dict[str, str] = field(default_factory=dict)  # title, artist, album


class ProviderUnavailable(Exception):
    """The provider cannot run here (e.g. the `ai` extra is not installed): analysis is skipped."""


class CapabilityMissing(Exception):
    """This provider does not offer the capability at all (e.g. text-to-image locally)."""

    def __init__(self, capability: str, provider: str) -> None:
        super().__init__(f"the {provider!r} AI provider has no {capability} capability")
        self.capability = capability
        self.provider = provider


class ProviderError(Exception):
    """A model or service call failed for this input; recorded on the asset's analysis."""


class TransientProviderError(ProviderError):
    """Throttling or a network hiccup that outlived the retries: worth retrying the task."""


class ProviderThrottled(TransientProviderError):
    """The service refused for rate or quota: the caller may retry later."""


class ProviderRejected(ProviderError):
    """The service refused this input (validation, content filter): retrying cannot help."""


class ProviderTimeout(TransientProviderError):
    """The model did not answer in time."""


@dataclass(frozen=True)
class EditRequest:
    """One image edit, as the provider seam takes it (delivery/edits.py builds it).

    `mask` is None, "subject", or a box (left, top, width, height) as fractions of the image.
    """

    op: str  # bg_remove | inpaint | outpaint | replace_bg | variation
    prompt: str | None = None
    mask: str | tuple[float, float, float, float] | None = None
    seed: int = 0  # the same URL asks for the same pixels: a CDN miss regenerates alike
