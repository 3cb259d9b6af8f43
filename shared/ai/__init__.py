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


def open_provider(settings: Settings) -> AIProvider:
    """A new provider for the settings (ingest_worker.runtime keeps one per process).

    Raises ProviderUnavailable (with the reason) when the provider cannot run here.
    """
    if settings.ai == "bedrock":
        from shared.ai.bedrock.provider import BedrockProvider

        return BedrockProvider.from_settings(settings)
    from shared.ai.local.provider import LocalProvider

    return LocalProvider()
