"""Local models load once per test session (they take seconds; tests must not pay it twice)."""

import pytest

from tests.helpers_ai import local_provider_once


@pytest.fixture(scope="session")
def local_provider():
    return local_provider_once()
