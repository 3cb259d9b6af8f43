"""Near-duplicates recorded after analysis: a resized, recompressed copy is one; another
photo is not."""

import pyvips

from ingest_worker.stages import analysis, duplicates, index
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Source, load_manifest, save_manifest
from shared.search.embedded import EmbeddedIndex
from tests.helpers_ai import local_provider_once, skimage_jpeg


def _analysed(store, settings, idx, data: bytes, name: str) -> Manifest:
    m = Manifest(
        id=new_id(),
        status="ready",
        kind="image",
        source=Source(filename=name, size=len(data), sha256=new_id(), mime="image/jpeg"),
    )
    store.put_bytes(original_key(m.id), data)
    save_manifest(store, m)
    done = analysis.run(m.id, settings, store, local_provider_once())
    index.index_manifest(done, idx)
    return done


def test_a_resized_copy_is_a_near_duplicate_and_another_photo_is_not(settings, store, tmp_path):
    idx = EmbeddedIndex(tmp_path / "s.sqlite3")
    cat = _analysed(store, settings, idx, skimage_jpeg("chelsea"), "a.jpg")
    smaller = pyvips.Image.new_from_buffer(skimage_jpeg("chelsea"), "").resize(0.6)
    copy = _analysed(store, settings, idx, smaller.jpegsave_buffer(Q=60), "b.jpg")
    cup = _analysed(store, settings, idx, skimage_jpeg("coffee"), "c.jpg")
    recorded = duplicates.record(copy, idx, store)
    found = recorded.analysis.duplicates
    assert [d.id for d in found] == [cat.id]
    assert found[0].hash_distance <= duplicates.HASH_BITS
    assert load_manifest(store, copy.id).analysis.duplicates == found
    assert [d.id for d in duplicates.find(cat, idx, store)] == [copy.id]
    assert duplicates.find(cup, idx, store) == []
