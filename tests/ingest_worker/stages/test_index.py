"""The index follows the manifests, and `reindex` rebuilds it from them alone."""

from datetime import timedelta

import numpy as np

from ingest_worker.stages import index as index_stage
from shared import newest
from shared.ids import new_id
from shared.manifest import Manifest, Metadata, Source, save_manifest
from shared.search.base import vector_to_b64
from shared.search.embedded import EmbeddedIndex


def _manifest(status="ready", name="photo.jpg", labels=(), vector=None, **extra) -> Manifest:
    analysis = {"status": "done", "labels": [{"name": n, "confidence": 0.9} for n in labels]}
    if vector is not None:
        analysis["embedding"] = {"model": "m", "dim": len(vector), "vector": vector_to_b64(vector)}
    return Manifest(
        id=new_id(),
        status=status,
        kind="image",
        source=Source(filename=name, size=1, sha256="0" * 64, mime="image/jpeg"),
        analysis=analysis,
        **extra,
    )


def test_ready_assets_are_indexed_and_failed_ones_removed(tmp_path):
    idx = EmbeddedIndex(tmp_path / "i.sqlite3")
    m = _manifest(labels=["lighthouse"])
    index_stage.index_manifest(m, idx)
    assert [h.id for h in idx.search("lighthouse").hits] == [m.id]
    m.status = "failed"
    index_stage.index_manifest(m, idx)
    assert idx.search("lighthouse").hits == []


def test_reindex_rebuilds_from_manifests_alone(tmp_path, store):
    ready = [
        _manifest(
            labels=["lighthouse"],
            vector=np.ones(4, dtype=np.float32),
            metadata=Metadata(
                camera={"make": "NIKON", "model": "D70"}, taken_at="2008-10-22T16:29:49"
            ),
        ),
        _manifest(name="IMG_0001.HEIC"),
    ]
    for m in [*ready, _manifest(status="failed", name="broken.jpg")]:
        save_manifest(store, m)
    idx = EmbeddedIndex(tmp_path / "i.sqlite3")
    idx.upsert(index_stage.doc_from_manifest(_manifest(name="stale.jpg")))  # not in the store
    assert index_stage.reindex(store, idx) == (2, 3)
    assert idx.count() == 2
    assert [h.id for h in idx.search("lighthouse").hits] == [ready[0].id]
    assert [h.id for h in idx.search("img_0001").hits] == [ready[1].id]
    assert idx.search("stale").hits == [] and idx.search("broken").hits == []
    doc = idx.get(ready[0].id)
    assert doc.camera == "NIKON D70" and doc.date.startswith("2008-10-22")
    assert doc.vector is not None and doc.embedding_model == "m"


def test_reindex_gives_older_assets_their_newest_first_entry(tmp_path, store):
    older, newer = _manifest(name="older.jpg"), _manifest(name="newer.jpg")
    older.created_at = newer.created_at - timedelta(days=1)
    for m in (newer, older):  # saved as before newest-first entries existed
        save_manifest(store, m)
    assert newest.page(store, None, 10) == ([], None)
    index_stage.reindex(store, EmbeddedIndex(tmp_path / "i.sqlite3"))
    assert newest.page(store, None, 10)[0] == [newer.id, older.id]


def test_a_broken_index_does_not_fail_the_caller(tmp_path):
    idx = EmbeddedIndex(tmp_path / "i.sqlite3")
    idx.close()
    index_stage.safe_index(_manifest(), idx)  # logs; reindex repairs
