"""Every file of ../shared/corpus/MANIFEST.tsv through the real pipeline, in-process.

Each ends `ready` with the right size and derivatives, or `failed` with the specific code
listed here — never stuck in `processing`, never an `internal_error`, and the worker still
processes the next file. Skipped cleanly when the corpus is absent.
"""

import pytest
import pyvips

from ingest_worker import pipeline
from shared import imaging
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Source, save_manifest
from tests.helpers import CORPUS, corpus_rows, make_jpeg

# Files that must fail, and how. The rest of the corpus must end `ready`.
EXPECTED_FAILURES = {
    # Upstream stripped or truncated the image data: metadata-only samples.
    "heif/quicktime_stripped_exiftool.heic": "decode_error",
    "raw/canon_eos350d.cr2": "decode_error",
    "raw/canon_eos_m50.cr3": "decode_error",
    "raw/canon_eos_r6_pruned.cr3": "decode_error",  # previews kept, none full size
    "raw/canon_eos_digital_rebel.crw": "decode_error",
    "raw/nikon_d70.nef": "decode_error",
    "raw/sony_ilce-7m3_header_only.arw": "decode_error",
    "raw/sony_zv-e10_truncated.arw": "decode_error",
    "raw/leica_m10_truncated.dng": "decode_error",
    "raw/fujifilm_s5pro.raf": "decode_error",
    "raw/olympus_header_only.orf": "decode_error",
    "raw/minolta_dimage_a2.mrw": "decode_error",
    "raw/phaseone_leaf_credo40.iiq": "decode_error",
    "raw/sigma_dp2.x3f": "decode_error",
    "vector/illustrator_2020_truncated.ai": "decode_error",
    # Known gaps of this machine's decoders (docs/formats.md, "Not supported").
    "raw/nikon_z9_adobe_dng_converter.dng": "decode_error",  # JPEG XL-compressed DNG 1.7
    "avif/animated_star.avifs": "decode_error",  # AVIF sequence: libheif 1.15 has no API
    "heif/heif_image_sequence_msf1.heic": "decode_error",  # HEIF sequence, likewise
    "tiff/old_style_jpeg_hp.tif": "decode_error",  # old-style JPEG-in-TIFF (compression 6)
    "psd/lab_8bit_layers.psd": "decode_error",  # Lab PSD: ImageMagick→libvips refuses
    "vector/xmp_metadata_exiftool.svg": "decode_error",  # undeclared XML namespace prefix
    "pdf/encrypted_128bit_rc4.pdf": "encrypted_document",
    # Hostile.
    "hostile/zero_bytes.heic": "empty_file",
    "hostile/one_byte.jpg": "unsupported_type",
    "hostile/json_named_webp.webp": "unsupported_type",
    "hostile/corrupt_no_ihdr.png": "unsupported_type",
    "hostile/svgz_truncated.svgz": "unsupported_type",
    "hostile/truncated_jpeg.jpg": "decode_error",
    "hostile/truncated_at_10000_bytes.jpg": "decode_error",
    "hostile/truncated_bluesquare.jpg": "decode_error",
    "hostile/ultrahdr_pixel6_truncated.jpg": "decode_error",
    "hostile/corrupt_data_stream.png": "decode_error",
    "hostile/corrupt_invalid_chunk_size.png": "decode_error",
    "hostile/truncated.png": "decode_error",
    "hostile/truncated_mdat.heic": "decode_error",
    "hostile/corrupted_canon_1dx3.hif": "decode_error",
    "hostile/fuzzed_iphone_x.heic": "decode_error",
    "hostile/tiff_65535_wide_segfault.tif": "decode_error",
    "hostile/bomb_gif_frame_65535.gif": "decode_error",  # frame outside the 32x32 screen
    "hostile/bomb_65536x65536.png": "too_many_pixels",
    "hostile/bomb_16384x16384.png": "too_many_pixels",
    "hostile/bomb_20000x14000.jpg": "too_many_pixels",
    "hostile/bomb_17000x17000.avif": "too_many_pixels",
    "hostile/bomb_svg_10000000px.svg": "too_many_pixels",
}
# Sizes the pipeline chooses itself (vectors are rasterised, RAW is LibRaw's active area).
_OWN_SIZE = ("vector/", "raw/", "pdf/", "docs/")


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _check_ready(row: dict[str, str], m: Manifest, store) -> list[str]:
    problems = []
    image = m.image
    declared = (_int(row["width"]), _int(row["height"]))
    own_size = None in declared or row["path"].startswith(_OWN_SIZE)
    if not own_size and (image.width, image.height) not in (declared, declared[::-1]):
        problems.append(f"size {image.width}x{image.height}, manifest says {declared}")
    visual = {"complex_image": "proxy", "vector": "proxy", "document": "poster"}.get(m.kind)
    if visual:
        d = m.derivatives.get(visual)
        data = store.get_bytes(d.key) if d else b""
        if imaging.sniff_format(data) != "jpeg":
            problems.append(f"no {visual}.jpg")
        elif (d.width, d.height) != (image.width, image.height):
            problems.append(f"{visual} {d.width}x{d.height} is not the image size")
    if m.kind == "document" and m.source.mime != "application/pdf":
        pdf = m.derivatives.get("document")
        if not pdf or store.get_bytes(pdf.key)[:5] != b"%PDF-":
            problems.append("no document.pdf")
    for name, side in (("optimized", 2048), ("thumb", 150)):
        d = m.derivatives.get(name)
        data = store.get_bytes(d.key) if d else b""
        if imaging.sniff_format(data) != "webp":
            problems.append(f"no {name}.webp")
            continue
        sample = pyvips.Image.new_from_buffer(data, "")
        if max(sample.width, sample.height) > side:
            problems.append(f"{name} is {sample.width}x{sample.height}")
    if not (m.placeholders and m.placeholders.get("blurhash")):
        problems.append("no placeholders")
    return problems


@pytest.mark.slow
def test_every_corpus_file_ends_ready_or_failed_with_its_code(settings, store):
    rows = corpus_rows()
    if not rows:
        pytest.skip("corpus not present")
    problems: dict[str, str] = {}
    for row in rows:
        relpath = row["path"]
        data = (CORPUS / relpath).read_bytes()
        asset_id = new_id()
        store.put_bytes(original_key(asset_id), data)
        save_manifest(
            store,
            Manifest(
                id=asset_id,
                pre_render_sizes=True,
                source=Source(filename=relpath.rsplit("/", 1)[-1], size=len(data), sha256="0"),
            ),
        )
        m = pipeline.process(asset_id, settings, store)
        expected = EXPECTED_FAILURES.get(relpath)
        if m.status == "failed":
            if m.error.code != expected:
                problems[relpath] = f"failed {m.error.code}: {m.error.message}"
            elif store.get_bytes(original_key(asset_id)) != data:
                problems[relpath] = "original not kept"
        elif m.status != "ready":
            problems[relpath] = f"left {m.status}"
        elif expected:
            problems[relpath] = f"ready, expected {expected}"
        elif found := _check_ready(row, m, store):
            problems[relpath] = "; ".join(found)
    assert problems == {}
    # The worker is still alive and well after all of that.
    good = make_jpeg(settings.data_dir.parent / "after.jpg", 640, 480).read_bytes()
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), good)
    save_manifest(store, Manifest(id=asset_id, source=Source(filename="a.jpg", size=1, sha256="0")))
    assert pipeline.process(asset_id, settings, store).status == "ready"


def test_every_expected_failure_is_a_corpus_file():
    rows = {row["path"] for row in corpus_rows()}
    if not rows:
        pytest.skip("corpus not present")
    assert set(EXPECTED_FAILURES) <= rows
