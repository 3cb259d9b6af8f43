"""Exact duplicates at upload: `sha256/{hash}` in the object store names the asset that
first arrived with those bytes (S3 in production, the data folder embedded), so every API
instance finds it with one read, without listing manifests.

A re-upload is still accepted (202) and its manifest says `duplicate_of`: the first asset
with the same bytes, as Immich and Cloudinary report a re-upload rather than refuse it.
Written when an upload is committed, removed when the asset it names is deleted; an entry
whose asset is gone is ignored. Presigned uploads are hashed by the worker, after the
answer, so they are not checked.
"""

from shared.ids import is_valid_id
from shared.manifest import load_manifest
from shared.storage import ObjectNotFound, ObjectStore

PREFIX = "sha256"


def _key(sha256: str) -> str:
    return f"{PREFIX}/{sha256}"


def find(store: ObjectStore, sha256: str) -> str | None:
    """The id of a live asset with these bytes, if any."""
    try:
        asset_id = store.get_bytes(_key(sha256)).decode()
    except ObjectNotFound:
        return None
    if not is_valid_id(asset_id) or load_manifest(store, asset_id) is None:
        return None
    return asset_id


def remember(store: ObjectStore, sha256: str, asset_id: str) -> None:
    store.put_bytes(_key(sha256), asset_id.encode(), "text/plain")


def forget(store: ObjectStore, sha256: str, asset_id: str) -> None:
    """Drop the entry if it names this asset (a duplicate's deletion leaves the first's)."""
    try:
        named = store.get_bytes(_key(sha256)).decode()
    except ObjectNotFound:
        return
    if named == asset_id:
        store.delete_prefix(_key(sha256))
