"""The one home of the ingest side's process-wide objects, each made on first use from the
settings: the object store, the search index (one handle per location), the AI provider
(models load once, not per asset) and the Celery app that tasks are sent with.

Code that is handed these (the HTTP app's state, a test's arguments) uses what it was
given; everything else asks here. `reset()` forgets them all, with the cached settings —
for tests that change the environment.
"""

import threading
from typing import TYPE_CHECKING

from shared.ai import AIProvider, open_provider
from shared.search import SearchIndex, index_path, open_index
from shared.settings import Settings, get_settings
from shared.storage import ObjectStore, open_store

if TYPE_CHECKING:
    from celery import Celery

_lock = threading.Lock()
_stores: dict[str, ObjectStore] = {}
_indexes: dict[str, SearchIndex] = {}
_providers: dict[tuple, AIProvider] = {}


def store() -> ObjectStore:
    with _lock:
        if "store" not in _stores:
            _stores["store"] = open_store(get_settings())
        return _stores["store"]


def index(settings: Settings | None = None) -> SearchIndex:
    """The index at the settings' location (SQLite connection or OpenSearch client)."""
    settings = settings or get_settings()
    key = f"{settings.search}:{settings.opensearch_url or index_path(settings)}"
    with _lock:
        if key not in _indexes:
            _indexes[key] = open_index(settings)
        return _indexes[key]


def provider(settings: Settings | None = None) -> AIProvider:
    """Raises ProviderUnavailable (with the reason) when the provider cannot run here."""
    settings = settings or get_settings()
    key = (settings.ai, settings.aws_region, settings.rekognition_collection)
    with _lock:
        if key not in _providers:
            _providers[key] = open_provider(settings)
        return _providers[key]


def celery() -> "Celery":
    """The worker's Celery app (`ingest_worker.queue.celery_app.app`), for sending tasks."""
    from ingest_worker.queue.celery_app import app

    return app


def reset() -> None:
    with _lock:
        _stores.clear()
        _indexes.clear()
        _providers.clear()
    get_settings.cache_clear()
