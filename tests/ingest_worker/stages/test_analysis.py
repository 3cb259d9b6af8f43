"""The analysis stage records an outcome on the asset and never fails the asset itself."""

import sys

import pytest

from ingest_worker import pipeline
from ingest_worker.stages import analysis
from shared.ai import ProviderError, TransientProviderError
from shared.ai.local.provider import LocalProvider
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Source, load_manifest, save_manifest
from tests.helpers_ai import local_provider_once, skimage_jpeg, text_jpeg


@pytest.fixture(scope="module")
def provider():
    return local_provider_once()


def _ingest(store, settings, data: bytes, name: str) -> Manifest:
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), data)
    manifest = Manifest(id=asset_id, source=Source(filename=name, size=len(data), sha256="0" * 64))
    save_manifest(store, manifest)
    done = pipeline.process(asset_id, settings, store)
    assert done.status == "ready", done.error
    return done


def test_a_cat_photo_is_labelled_described_and_embedded(settings, store, provider):
    m = _ingest(store, settings, skimage_jpeg("chelsea"), "chelsea.jpg")
    after = analysis.run(m.id, settings, store, provider)
    a = after.analysis
    assert a.status == "done" and a.provider == "local"
    assert "cat" in " ".join(lb.name for lb in a.labels[:3]).lower()
    assert a.faces == [] and a.ocr_text == ""
    assert a.embedding.dim == 384 and a.embedding.vector
    assert "cat" in a.alt_text.lower() and a.alt_text_source
    assert "chelsea" in a.description
    assert len(a.dhash) == 16
    assert after.status == "ready" and after.derivatives == m.derivatives
    assert load_manifest(store, m.id).analysis.status == "done"


def test_faces_and_text_are_recorded(settings, store, provider):
    portrait = _ingest(store, settings, skimage_jpeg("astronaut"), "astronaut.jpg")
    assert len(analysis.run(portrait.id, settings, store, provider).analysis.faces) == 1
    sign = _ingest(store, settings, text_jpeg("OPEN 24 HOURS\nFresh bread"), "sign.jpg")
    a = analysis.run(sign.id, settings, store, provider).analysis
    assert "open 24 hours" in a.ocr_text.lower()
    assert "OPEN 24 HOURS" in a.alt_text.upper()


def test_a_one_pixel_image_ends_with_a_result(settings, store, provider):
    import pyvips

    one = pyvips.Image.black(1, 1, bands=3).copy(interpretation="srgb").pngsave_buffer()
    m = _ingest(store, settings, one, "dot.png")
    assert analysis.run(m.id, settings, store, provider).analysis.status == "done"


def test_a_text_document_gets_an_extractive_summary(settings, store, provider):
    text = (
        b"# Release notes\n\nPicsha now searches every asset by description. "
        b"The search index combines keyword ranking and embedding similarity for every asset. "
        b"Lunch is at noon.\n\nEvery asset is described by labels, faces and text."
    )
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), text)
    m = Manifest(
        id=asset_id,
        status="ready",
        kind="document",
        source=Source(filename="notes.md", size=len(text), sha256="1" * 64, mime="text/markdown"),
    )
    save_manifest(store, m)
    a = analysis.run(asset_id, settings, store, provider).analysis
    assert a.status == "done"
    assert "search" in a.summary.lower() and "Lunch" not in a.summary
    assert "Release notes" in a.description


def test_an_empty_document_ends_with_a_result(settings, store, provider):
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), b"")
    save_manifest(
        store,
        Manifest(
            id=asset_id,
            status="ready",
            kind="document",
            source=Source(filename="empty.txt", size=0, sha256="2" * 64, mime="text/plain"),
        ),
    )
    a = analysis.run(asset_id, settings, store, provider).analysis
    assert a.status == "done" and a.summary is None


def test_an_unreadable_image_fails_the_analysis_not_the_asset(settings, store, provider):
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), b"\xff\xd8\xff garbage")
    save_manifest(
        store,
        Manifest(
            id=asset_id,
            status="ready",
            kind="image",
            source=Source(filename="x.jpg", size=14, sha256="3" * 64, mime="image/jpeg"),
        ),
    )
    after = analysis.run(asset_id, settings, store, provider)
    assert after.status == "ready"
    assert after.analysis.status == "failed"
    assert after.analysis.error.code == "provider_error"


class _Broken(LocalProvider):
    def __init__(self, exc: Exception) -> None:
        super().__init__()
        self.exc = exc

    def labels(self, jpeg: bytes):
        raise self.exc


def test_a_provider_error_is_recorded(settings, store):
    m = _ingest(store, settings, skimage_jpeg("coffee"), "coffee.jpg")
    after = analysis.run(m.id, settings, store, _Broken(ProviderError("model exploded")))
    assert after.status == "ready"
    assert after.analysis.status == "failed"
    assert after.analysis.error.model_dump() == {
        "code": "provider_error",
        "message": "model exploded",
    }


def test_a_transient_provider_error_is_raised_for_a_retry(settings, store):
    m = _ingest(store, settings, skimage_jpeg("coffee"), "coffee.jpg")
    with pytest.raises(TransientProviderError):
        analysis.run(m.id, settings, store, _Broken(TransientProviderError("throttled")))
    assert load_manifest(store, m.id).analysis is None


def test_without_the_ai_extra_analysis_is_skipped_with_the_reason(settings, store, monkeypatch):
    m = _ingest(store, settings, skimage_jpeg("coffee"), "coffee.jpg")
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import now raises ImportError
    after = analysis.run(m.id, settings, store, LocalProvider())
    assert after.status == "ready"
    assert after.analysis.status == "skipped"
    assert "mediapipe" in after.analysis.reason and ".[ai]" in after.analysis.reason


def test_assets_not_ready_are_left_alone(settings, store, provider):
    asset_id = new_id()
    save_manifest(store, Manifest(id=asset_id, source=Source(filename="a", size=1, sha256="4")))
    assert analysis.run(asset_id, settings, store, provider).analysis is None
    assert analysis.run(new_id(), settings, store, provider) is None
