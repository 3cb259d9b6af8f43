"""The pipeline in-process on real files: outcome, error codes, and nothing lost."""

import pytest

from ingest_worker import pipeline
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Source, load_manifest, save_manifest
from tests.helpers import corpus_file, make_jpeg


def _upload(store, data: bytes, name: str, pre_render_sizes: bool = True) -> str:
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), data)
    save_manifest(
        store,
        Manifest(
            id=asset_id,
            pre_render_sizes=pre_render_sizes,
            source=Source(filename=name, size=len(data), sha256="0" * 64),
        ),
    )
    return asset_id


def test_a_camera_jpeg_ends_ready_with_samples_and_metadata(settings, store):
    data = corpus_file("jpeg/nikon_coolpix_p6000_gps_DSCN0010.jpg").read_bytes()
    asset_id = _upload(store, data, "DSCN0010.jpg")
    m = pipeline.process(asset_id, settings, store)
    assert m.status == "ready" and m.error is None
    assert m.source.mime == "image/jpeg" and m.kind == "image"
    assert (m.image.width, m.image.height) == (640, 480)
    assert m.metadata.camera["model"] == "COOLPIX P6000"
    assert set(m.derivatives) == {"optimized", "thumb"}
    assert store.get_bytes(original_key(asset_id)) == data
    assert load_manifest(store, asset_id).status == "ready"


def test_running_twice_converges_on_the_same_result(settings, store):
    asset_id = _upload(
        store, make_jpeg(settings.data_dir.parent / "a.jpg", 800, 600).read_bytes(), "a"
    )
    first = pipeline.process(asset_id, settings, store)
    second = pipeline.process(asset_id, settings, store)
    assert first.status == second.status == "ready"
    assert first.derivatives == second.derivatives
    assert second.attempts == 2


@pytest.mark.parametrize(
    ("relpath", "code"),
    [
        ("hostile/zero_bytes.heic", "empty_file"),
        ("hostile/one_byte.jpg", "unsupported_type"),
        ("hostile/json_named_webp.webp", "unsupported_type"),
        ("hostile/truncated_jpeg.jpg", "decode_error"),
        ("hostile/truncated_at_10000_bytes.jpg", "decode_error"),
        ("hostile/corrupt_invalid_chunk_size.png", "decode_error"),
        ("hostile/bomb_20000x14000.jpg", "too_many_pixels"),
        ("hostile/bomb_65536x65536.png", "too_many_pixels"),
    ],
)
def test_bad_files_fail_with_a_code_and_keep_the_original(relpath, code, settings, store):
    data = corpus_file(relpath).read_bytes()
    asset_id = _upload(store, data, relpath.split("/")[-1])
    m = pipeline.process(asset_id, settings, store)
    assert m.status == "failed"
    assert m.error.code == code, m.error
    assert m.error.message
    assert store.get_bytes(original_key(asset_id)) == data


def test_a_deleted_asset_is_skipped(settings, store):
    assert pipeline.process(new_id(), settings, store) is None
