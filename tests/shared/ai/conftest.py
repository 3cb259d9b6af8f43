"""Local models load once per test session (they take seconds; tests must not pay it twice)."""

import pytest


@pytest.fixture(scope="session")
def local_provider():
    pytest.importorskip("torch", reason='the `ai` extra is not installed (pip install ".[ai]")')
    from shared.ai.local.provider import LocalProvider

    provider = LocalProvider()
    provider.check()
    return provider
