"""Newest-first listing: one empty object `newest/{entry}` per asset, named so that the
store's own sorted listing is newest first — the inverted `created_at` in microseconds,
then the id — so a page costs one LIST, as id order does, and no manifest is read to sort.

An entry is also the cursor: it holds (created_at, id), so paging goes on after the last
entry seen; an upload that arrives meanwhile sorts before it and never shifts a page.
Written when an asset is created, removed when it is deleted; `picsha reindex` writes the
entries of assets from before they existed. An entry whose asset is gone is skipped.
"""

import re
from datetime import UTC, datetime, timedelta

from shared.ids import is_valid_id
from shared.manifest import Manifest
from shared.storage import ObjectStore

PREFIX = "newest"
_DIGITS = 17  # microseconds since 1970 stay below 10**17 until the year 5138
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ENTRY_RE = re.compile(rf"^\d{{{_DIGITS}}}\.[0-9A-Za-z_-]{{21}}$")


def entry(manifest: Manifest) -> str:
    micros = (manifest.created_at - _EPOCH) // timedelta(microseconds=1)
    return f"{10**_DIGITS - 1 - micros:0{_DIGITS}d}.{manifest.id}"


def is_valid_cursor(value: str) -> bool:
    return bool(_ENTRY_RE.match(value))


def asset_id(entry_name: str) -> str | None:
    """The id an entry names, None for a foreign object under the prefix."""
    asset = entry_name.partition(".")[2]
    return asset if is_valid_id(asset) else None


def remember(store: ObjectStore, manifest: Manifest) -> None:
    store.put_bytes(f"{PREFIX}/{entry(manifest)}", b"", "text/plain")


def forget(store: ObjectStore, manifest: Manifest) -> None:
    store.delete_prefix(f"{PREFIX}/{entry(manifest)}")


def page(store: ObjectStore, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
    """Up to `limit` ids newest first after `cursor`, and the cursor of the next page."""
    entries = store.list_names(PREFIX, cursor, limit)
    ids = [i for i in map(asset_id, entries) if i is not None]
    return ids, entries[-1] if len(entries) == limit else None
