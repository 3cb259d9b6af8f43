"""Cross-package tests: assets go through the real ingest pipeline, then delivery renders them.

For what only ingest makes: proxies (PSD, HEIC, SVG, EPS), documents' posters, the pyramid
written at ingest, and the corpus end to end. Delivery's own tests (tests/delivery) build
ready manifests with shared code and never import `ingest_worker`.
"""

import pytest
from fastapi.testclient import TestClient

from delivery.app import create_app
from ingest_worker import pipeline
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Source, save_manifest


@pytest.fixture
def client(settings, store):
    return TestClient(create_app(settings, store))


@pytest.fixture
def ingest(settings, store):
    """Store a file as an asset and run the real pipeline on it; returns the manifest."""

    def _ingest(data: bytes, name: str = "x", process: bool = True) -> Manifest:
        asset_id = new_id()
        store.put_bytes(original_key(asset_id), data)
        manifest = Manifest(
            id=asset_id, source=Source(filename=name, size=len(data), sha256="0" * 64)
        )
        save_manifest(store, manifest)
        return pipeline.process(asset_id, settings, store) if process else manifest

    return _ingest
