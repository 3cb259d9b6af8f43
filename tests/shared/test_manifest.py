import json

from shared.keys import manifest_key
from shared.manifest import SCHEMA_VERSION, Manifest, Source, load_manifest, save_manifest


def _manifest() -> Manifest:
    return Manifest(id="a" * 21, source=Source(filename="x.jpg", size=3, sha256="0" * 64))


def test_round_trip_through_the_store_with_schema_field(store):
    m = _manifest()
    save_manifest(store, m)
    raw = json.loads(store.get_bytes(manifest_key(m.id)))
    assert raw["schema"] == SCHEMA_VERSION
    assert raw["status"] == "queued"
    loaded = load_manifest(store, m.id)
    assert loaded is not None and loaded.id == m.id and loaded.source.sha256 == "0" * 64


def test_unknown_fields_survive_read_modify_write(store):
    m = _manifest()
    save_manifest(store, m)
    raw = json.loads(store.get_bytes(manifest_key(m.id)))
    raw["from_the_future"] = {"x": 1}
    store.put_bytes(manifest_key(m.id), json.dumps(raw).encode())
    loaded = load_manifest(store, m.id)
    save_manifest(store, loaded)
    assert json.loads(store.get_bytes(manifest_key(m.id)))["from_the_future"] == {"x": 1}


def test_version_changes_when_saved_again(store):
    m = _manifest()
    save_manifest(store, m)
    before = m.version
    import time

    time.sleep(0.002)
    save_manifest(store, m)
    assert m.version != before


def test_missing_manifest_is_none(store):
    assert load_manifest(store, "b" * 21) is None
