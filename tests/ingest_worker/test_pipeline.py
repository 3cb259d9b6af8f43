"""The pipeline in-process on real files: outcome, error codes, and nothing lost."""

import pytest
import pyvips

from ingest_worker import pipeline
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import load_manifest, save_manifest
from tests.helpers import corpus_file, make_jpeg
from tests.helpers_media import upload


def test_a_camera_jpeg_ends_ready_with_samples_and_metadata(settings, store):
    data = corpus_file("jpeg/nikon_coolpix_p6000_gps_DSCN0010.jpg").read_bytes()
    asset_id = upload(store, data, "DSCN0010.jpg")
    m = pipeline.process(asset_id, settings, store)
    assert m.status == "ready" and m.error is None
    assert m.source.mime == "image/jpeg" and m.kind == "image"
    assert (m.image.width, m.image.height) == (640, 480)
    assert m.metadata.camera["model"] == "COOLPIX P6000"
    assert set(m.derivatives) == {"optimized", "thumb"}
    assert store.get_bytes(original_key(asset_id)) == data
    assert load_manifest(store, asset_id).status == "ready"


def test_running_twice_converges_on_the_same_result(settings, store):
    asset_id = upload(
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
    asset_id = upload(store, data, relpath.split("/")[-1])
    m = pipeline.process(asset_id, settings, store)
    assert m.status == "failed"
    assert m.error.code == code, m.error
    assert m.error.message
    assert store.get_bytes(original_key(asset_id)) == data


def test_a_deleted_asset_is_skipped(settings, store):
    assert pipeline.process(new_id(), settings, store) is None


@pytest.mark.parametrize(
    ("relpath", "code"),
    [
        ("hostile/bomb_17000x17000.avif", "too_many_pixels"),  # refused before libheif runs
        ("hostile/bomb_svg_10000000px.svg", "too_many_pixels"),
        ("hostile/corrupted_canon_1dx3.hif", "decode_error"),
        ("hostile/fuzzed_iphone_x.heic", "decode_error"),
        ("hostile/svgz_truncated.svgz", "unsupported_type"),
        ("hostile/json_named_webp.webp", "unsupported_type"),
        ("pdf/encrypted_128bit_rc4.pdf", "encrypted_document"),
        ("raw/fujifilm_s5pro.raf", "decode_error"),  # metadata only, no raw data
    ],
)
def test_hostile_complex_files_fail_and_the_next_job_still_works(relpath, code, settings, store):
    data = corpus_file(relpath).read_bytes()
    bad = pipeline.process(upload(store, data, relpath.split("/")[-1]), settings, store)
    assert (bad.status, bad.error.code) == ("failed", code), bad.error
    assert store.get_bytes(original_key(bad.id)) == data
    good = make_jpeg(settings.data_dir.parent / "next.jpg", 64, 48).read_bytes()
    assert pipeline.process(upload(store, good, "next.jpg"), settings, store).status == "ready"


def test_postscript_reading_files_fails_as_forbidden(tmp_path, settings, store):
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n(/etc/passwd) (r) file\n"
    m = pipeline.process(upload(store, eps, "innocent.eps"), settings, store)
    assert (m.status, m.error.code, m.error.stage) == ("failed", "forbidden_operation", "render")


def test_a_heic_gets_a_proxy_samples_and_placeholders(settings, store):
    data = corpus_file("heif/iphone_8plus_orientation6.heic").read_bytes()
    m = pipeline.process(upload(store, data, "IMG_0001.HEIC"), settings, store)
    assert m.status == "ready", m.error
    assert (m.kind, m.source.mime) == ("complex_image", "image/heic")
    assert (m.image.width, m.image.height) == (3024, 4032)
    assert m.image.icc == "Display P3"
    assert set(m.derivatives) == {"proxy", "optimized", "thumb", "pyramid"}
    proxy = m.derivatives["proxy"]
    assert (proxy.width, proxy.height) == (3024, 4032)
    assert store.get_bytes(proxy.key)[:3] == b"\xff\xd8\xff"
    assert (m.derivatives["optimized"].width, m.derivatives["optimized"].height) == (1536, 2048)
    assert m.placeholders["blurhash"] and m.placeholders["dominant_color"].startswith("#")
    assert m.metadata.camera == {
        "make": "Apple",
        "model": "iPhone 8 Plus",
        "name": "Apple iPhone 8 Plus",
    }


def test_a_raw_file_gets_exiftools_exact_type(settings, store):
    data = corpus_file("raw/panasonic_dmc-lx3.rw2").read_bytes()
    m = pipeline.process(upload(store, data, "P1000.RW2"), settings, store)
    assert m.status == "ready", m.error
    assert m.source.mime == "image/x-panasonic-rw2"
    assert m.derivatives["proxy"].width == 3664


@pytest.mark.slow
def test_a_docx_gets_document_pdf_poster_and_samples(settings, store):
    data = corpus_file("docs/word_cyrillic.docx").read_bytes()
    m = pipeline.process(upload(store, data, "report.docx"), settings, store)
    assert m.status == "ready", m.error
    assert m.kind == "document"
    assert set(m.derivatives) == {"document", "poster", "optimized", "thumb", "pyramid"}
    assert store.get_bytes(m.derivatives["document"].key)[:5] == b"%PDF-"
    assert m.derivatives["poster"].width == 1240
    assert m.image.pages >= 2
    paper = bytes.fromhex(m.placeholders["dominant_color"][1:])
    assert min(paper) >= 0xF8  # a page of text is mostly white paper


def test_a_pdf_upload_gets_a_poster_but_no_second_pdf(settings, store):
    data = corpus_file("pdf/text_2_pages.pdf").read_bytes()
    m = pipeline.process(
        upload(store, data, "paper.pdf"),
        settings,
        store,
    )
    assert m.status == "ready", m.error
    assert set(m.derivatives) == {"poster", "optimized", "thumb", "pyramid"}
    assert (m.image.pages, m.metadata.pages) == (2, 2)


def test_storage_errors_are_transient_even_before_the_stages(settings, store):
    from botocore.exceptions import EndpointConnectionError

    from ingest_worker.errors import TransientError

    class Down:
        def get_bytes(self, key):
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    with pytest.raises(TransientError):
        pipeline.process(new_id(), settings, Down())


@pytest.mark.parametrize(
    ("relpath", "derivative"),
    [
        ("heif/iphone_xs_gps_p3.heic", "proxy"),
        ("vector/gnuplot.eps", "proxy_alpha"),  # drawn on a clear canvas
        ("pdf/text_2_pages.pdf", "poster"),
    ],
)
def test_delivery_renders_from_a_proxy_or_the_poster(relpath, derivative, settings, store):
    from delivery import source  # the reader of what ingest writes

    data = corpus_file(relpath).read_bytes()
    m = pipeline.process(upload(store, data, relpath.rsplit("/", 1)[-1]), settings, store)
    chosen = source.choose(m)
    assert chosen.key == m.derivatives[derivative].key
    assert (chosen.width, chosen.height) == (m.image.width, m.image.height)


def test_stage_durations_are_measured(settings, store):
    from shared.metrics import INGEST_STAGE_SECONDS

    def count(stage: str) -> float:
        return INGEST_STAGE_SECONDS.labels(stage, "image")._sum.get()

    before = {s: count(s) for s in ("metadata", "render")}
    asset_id = upload(store, corpus_file("jpeg/canon_eos40d.jpg").read_bytes(), "x.jpg")
    pipeline.process(asset_id, settings, store)
    assert all(count(s) > before[s] for s in ("metadata", "render"))


def test_large_images_get_a_pyramid_of_this_upload_and_animations_none(settings, store, tmp_path):
    data = make_jpeg(tmp_path / "photo.jpg", 2400, 1800).read_bytes()
    m = pipeline.process(upload(store, data, "photo.jpg"), settings, store)
    info = m.derivatives["pyramid"]
    assert (info.width, info.height, info.source_sha256) == (1200, 900, m.source.sha256)
    assert store.get_bytes(info.key)[:4] == b"II*\x00"
    frames = pyvips.Image.black(1200, 2000, bands=3).draw_rect([255, 0, 0], 0, 1000, 1200, 1000)
    frames = frames.copy(interpretation="srgb")
    frames.set_type(pyvips.GValue.gint_type, "page-height", 1000)
    gif = frames.gifsave_buffer()
    m = pipeline.process(upload(store, gif, "two-frames.gif"), settings, store)
    assert m.image.animated and (m.image.width, m.image.height) == (1200, 1000)
    assert "pyramid" not in m.derivatives


def test_reprocess_gives_an_older_asset_its_pyramid(settings, store, tmp_path):
    data = make_jpeg(tmp_path / "photo.jpg", 2400, 1800).read_bytes()
    asset_id = upload(store, data, "photo.jpg", pre_render_sizes=False)
    m = pipeline.process(asset_id, settings, store)
    key = m.derivatives.pop("pyramid").key  # as ingested before pyramids existed
    store.delete_prefix(key)
    save_manifest(store, m)
    m = pipeline.process(asset_id, settings, store)  # what `picsha reprocess` runs
    assert m.derivatives["pyramid"].bytes == len(store.get_bytes(key))
