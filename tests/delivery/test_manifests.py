"""Delivery's manifest cache: a ready manifest is read from the store once per TTL; anything
else (queued, processing, failed) is read every time so it is served the moment it is ready."""

import pytest

from delivery.manifests import ManifestCache
from shared.errors import PicshaError
from shared.manifest import save_manifest
from tests.helpers import make_jpeg


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def photo(ingest, tmp_path):
    return ingest(make_jpeg(tmp_path / "p.jpg", 40, 30).read_bytes(), "p.jpg")


def _reprocess(store, manifest, width: int) -> None:
    manifest.image.width = width
    save_manifest(store, manifest)


def test_a_ready_manifest_is_served_from_memory_until_it_expires(store, photo, clock):
    cache = ManifestCache(store, ttl=10, timer=clock)
    assert cache.get(photo.id).image.width == 40
    _reprocess(store, photo.model_copy(deep=True), 80)
    clock.now = 9.9
    assert cache.get(photo.id).image.width == 40  # still the cached one
    clock.now = 10.1
    refreshed = cache.get(photo.id)
    assert refreshed.image.width == 80 and refreshed.version != photo.version


def test_a_zero_ttl_reads_the_store_every_time(store, photo, clock):
    cache = ManifestCache(store, ttl=0, timer=clock)
    cache.get(photo.id)
    _reprocess(store, photo.model_copy(deep=True), 80)
    assert cache.get(photo.id).image.width == 80


def test_an_asset_that_becomes_ready_is_served_at_once(store, ingest, tmp_path, clock):
    data = make_jpeg(tmp_path / "q.jpg", 40, 30).read_bytes()
    queued = ingest(data, "q.jpg", process=False)
    cache = ManifestCache(store, ttl=10, timer=clock)
    assert cache.get(queued.id).status == "queued"
    ready = ingest(data, "q.jpg")
    save_manifest(store, ready.model_copy(update={"id": queued.id}))  # the worker finishes
    assert cache.get(queued.id).status == "ready"  # not a cached "queued"


@pytest.mark.parametrize("asset_id", ["a" * 21, "../../etc/passwd", "", "A" * 200])
def test_unknown_and_malformed_ids_are_404(store, asset_id):
    with pytest.raises(PicshaError) as info:
        ManifestCache(store, ttl=10).get(asset_id)
    assert (info.value.status, info.value.code) == (404, "asset_not_found")
