"""Delivery's tests build ready assets with shared code only: `ingest_worker` is never imported
here (tests/delivery/test_isolation.py checks). What only the real pipeline makes (proxies,
posters, the pyramid) is tested in tests/end_to_end."""

import hashlib

import pytest
from fastapi.testclient import TestClient

from delivery.app import create_app
from shared import imaging
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import AssetError, Manifest, Source, save_manifest


@pytest.fixture
def client(settings, store):
    return TestClient(create_app(settings, store))


@pytest.fixture
def ingest(settings, store, tmp_path):
    """Store a web-native image (JPEG, PNG, WebP, GIF, AVIF) as a ready asset whose manifest
    holds what ingest records from its header; `process=False` leaves it queued. Returns the
    manifest."""

    def _ingest(data: bytes, name: str = "x", process: bool = True) -> Manifest:
        asset_id = new_id()
        store.put_bytes(original_key(asset_id), data)
        sha256 = hashlib.sha256(data).hexdigest()
        manifest = Manifest(
            id=asset_id, source=Source(filename=name, size=len(data), sha256=sha256)
        )
        if process:
            fmt = imaging.sniff_format(data)
            assert fmt in imaging.MIME_BY_FORMAT, f"{name}: not a web-native image (end_to_end)"
            path = tmp_path / f"{asset_id}.{fmt}"
            path.write_bytes(data)
            header = imaging.probe(path, settings.max_source_pixels)
            manifest.source.mime = imaging.MIME_BY_FORMAT[fmt]
            manifest.kind = "image"
            manifest.status = "ready"
            manifest.image = header.image_info()
        save_manifest(store, manifest)
        return manifest

    return _ingest


@pytest.fixture
def failed_asset(ingest, store) -> Manifest:
    """An asset ingest gave up on (an empty upload)."""
    manifest = ingest(b"", "empty", process=False)
    manifest.status = "failed"
    manifest.error = AssetError(stage="sniff", code="empty_file", message="the upload is empty")
    save_manifest(store, manifest)
    return manifest
