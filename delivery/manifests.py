"""Manifests for delivery, cached in-process (LRU + short TTL): a hot asset costs one read
of the store per TTL, not one per request. Only `ready` manifests are cached, so an asset
that becomes ready is served at once."""

import threading
import time
from collections.abc import Callable

from cachetools import TTLCache

from shared.errors import PicshaError
from shared.ids import is_valid_id
from shared.manifest import Manifest, load_manifest
from shared.storage import ObjectStore


class ManifestCache:
    def __init__(
        self,
        store: ObjectStore,
        ttl: float,
        size: int = 4096,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._cache: TTLCache[str, Manifest] = TTLCache(maxsize=size, ttl=ttl, timer=timer)
        self._lock = threading.Lock()

    def get(self, asset_id: str) -> Manifest:
        if not is_valid_id(asset_id):
            raise PicshaError(404, "asset_not_found", f"no asset {asset_id!r}")
        with self._lock:
            hit = self._cache.get(asset_id)
        if hit is not None:
            return hit
        manifest = load_manifest(self.store, asset_id)
        if manifest is None:
            raise PicshaError(404, "asset_not_found", f"no asset {asset_id!r}")
        if manifest.status == "ready" and self._cache.ttl > 0:
            with self._lock:
                self._cache[asset_id] = manifest
        return manifest
