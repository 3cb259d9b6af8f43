"""Stage 6: keep the search index in step with the manifests (derived data, rebuildable)."""

import logging
from collections.abc import Iterator

from ingest_worker import runtime
from shared import newest
from shared.keys import ASSETS_PREFIX
from shared.manifest import Manifest, load_manifest
from shared.search import SearchIndex
from shared.search.document import doc_from_manifest
from shared.storage import ObjectStore

log = logging.getLogger(__name__)


def index_manifest(manifest: Manifest, index: SearchIndex | None = None) -> None:
    """Ready assets are searchable; anything else is taken out of the index."""
    index = index or runtime.index()
    if manifest.status == "ready":
        index.upsert(doc_from_manifest(manifest))
    else:
        index.delete(manifest.id)


def safe_index(manifest: Manifest, index: SearchIndex | None = None) -> None:
    """Index without failing the caller: the index is derived, `picsha reindex` repairs it."""
    try:
        index_manifest(manifest, index)
    except Exception:
        log.exception("indexing %s failed; run `picsha reindex` to repair", manifest.id)


def iter_manifests(store: ObjectStore, page: int = 500) -> Iterator[Manifest]:
    cursor = None
    while True:
        ids = store.list_children(ASSETS_PREFIX, cursor, page)
        for asset_id in ids:
            manifest = load_manifest(store, asset_id)
            if manifest is not None:
                yield manifest
        if len(ids) < page:
            return
        cursor = ids[-1]


def reindex(store: ObjectStore, index: SearchIndex) -> tuple[int, int]:
    """Rebuild the index from the manifests alone → (assets indexed, assets seen); every
    asset's newest-first entry is written too (assets from before entries existed get one)."""
    index.clear()
    seen = 0

    def ready_docs() -> Iterator:
        nonlocal seen
        for manifest in iter_manifests(store):
            seen += 1
            newest.remember(store, manifest)
            if manifest.status == "ready":
                yield doc_from_manifest(manifest)

    indexed = index.upsert_many(ready_docs())
    return indexed, seen
