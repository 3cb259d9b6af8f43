"""AI providers: `local` (offline models from installed packages) or `bedrock` (AWS)."""

from shared.ai.base import AIProvider
from shared.ai.types import (
    CapabilityMissing,
    Embedding,
    Face,
    ImageFacts,
    Label,
    ProviderError,
    ProviderUnavailable,
    TransientProviderError,
)
from shared.settings import Settings

__all__ = [
    "AIProvider",
    "CapabilityMissing",
    "Embedding",
    "Face",
    "ImageFacts",
    "Label",
    "ProviderError",
    "ProviderUnavailable",
    "TransientProviderError",
    "open_provider",
]

_cache: dict[tuple, AIProvider] = {}


def open_provider(settings: Settings) -> AIProvider:
    """One provider per process and configuration: models load once, not per asset.

    Raises ProviderUnavailable (with the reason) when the provider cannot run here.
    """
    key = (settings.ai, settings.aws_region, settings.rekognition_collection)
    if key not in _cache:
        if settings.ai == "bedrock":
            from shared.ai.bedrock.provider import BedrockProvider

            _cache[key] = BedrockProvider.from_settings(settings)
        else:
            from shared.ai.local.provider import LocalProvider

            _cache[key] = LocalProvider()
    return _cache[key]
