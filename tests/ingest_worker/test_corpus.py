"""Every file of ../shared/corpus/MANIFEST.tsv through the real pipeline, in-process (once
per session: tests/corpus_ingest.py).

Each ends `ready` with the right size and derivatives, or `failed` with the specific code
listed here — never stuck in `processing`, never an `internal_error`, and the worker still
processes the next file. Videos and audio also get a browser-playable proxy that lasts as
long as the manifest says. Skipped cleanly when the corpus is absent.
"""

from pathlib import Path

import pytest
import pyvips

from ingest_worker import pipeline
from shared import imaging, media
from shared.ids import new_id
from shared.keys import DERIVATIVE_FILES, original_key
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
# Video and audio files came to the corpus later; a corpus from before holds none of them.
MEDIA_FAILURES = {
    # Hostile video and audio. The codes are a best guess written before video and audio
    # ingest landed: ffprobe refuses the file, or probes it but no frame decodes.
    "hostile/mp4_truncated_64bit.mp4": "no_frames",  # the video stream probes as 0x0
    "hostile/mp4_moov_missing.mp4": "unreadable_media",
    "hostile/mp4_init_segment_zero_duration.mp4": "no_duration",  # a track, no samples
    "hostile/mp4_clusterfuzz_minimized.mp4": "unreadable_media",
    "hostile/mp4_negative_timescale_fuzzed.mp4": "no_frames",
    "hostile/webm_vp9_invalid_bitstream.webm": "no_frames",
    "hostile/mkv_corrupt_ebml_header.mkv": "unreadable_media",
    "hostile/flac_ooming_header.flac": "unreadable_media",
    "hostile/mp4_moov_no_tracks.mp4": "no_streams",
    "hostile/mp3_named_incrementing_bytes.mp3": "unsupported_type",  # libmagic: image/x-tga
}
EXPECTED_FAILURES |= MEDIA_FAILURES
# Sizes the pipeline chooses itself (vectors are rasterised, RAW is LibRaw's active area).
_OWN_SIZE = ("vector/", "raw/", "pdf/", "docs/")
# The kind the corpus folder promises (an .mp4 holding only sound sits in audio/).
_FOLDER_KINDS = {"video": "video", "audio": "audio"}
# Each media kind's web proxy, and the codec every browser plays.
_MEDIA_PROXIES = {"video": ("proxy_video", "h264"), "audio": ("proxy_audio", "aac")}


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _aspect(width: int | None, height: int | None) -> float:
    return (width or 0) / (height or 1)


def _top_level_boxes(data: bytes) -> list[bytes]:
    """The MP4 boxes at the top of a file, in order (ftyp, moov, mdat, ...)."""
    boxes, at = [], 0
    while at + 8 <= len(data):
        size, kind = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8]
        boxes.append(kind)
        if size == 1:  # 64-bit size follows the type
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        if size < 8:  # 0: the box runs to the end of the file
            break
        at += size
    return boxes


def _check_media(m: Manifest, store, workdir: Path) -> list[str]:
    """A proxy browsers play (right codec, moov first), as long as the manifest says and,
    for video, shaped like the poster (rotation applied once, not twice or never)."""
    info = m.media
    if info is None or not info.duration or info.duration <= 0:
        return [f"media info {info}"]
    if m.kind == "video" and not (info.width and info.height):
        return [f"video size {info.width}x{info.height}"]
    name, codec = _MEDIA_PROXIES[m.kind]
    d = m.derivatives.get(name)
    data = store.get_bytes(d.key) if d else b""
    boxes = _top_level_boxes(data)
    if not boxes or boxes[0] != b"ftyp":
        return [f"no {DERIVATIVE_FILES[name]}"]
    problems = []
    moov_at = boxes.index(b"moov") if b"moov" in boxes else len(boxes)
    if b"mdat" in boxes[:moov_at]:
        problems.append(f"{DERIVATIVE_FILES[name]}: mdat before moov, not faststart")
    path = workdir / DERIVATIVE_FILES[name]
    path.write_bytes(data)
    try:
        proxy = media.probe(path)
    except media.MediaError as exc:
        return [*problems, f"{DERIVATIVE_FILES[name]} unreadable: {exc}"]
    if m.kind == "video":
        if proxy.video_codec != codec:
            problems.append(f"proxy video codec {proxy.video_codec}")
        if info.audio_codec and proxy.audio_codec != "aac":
            problems.append(f"proxy audio codec {proxy.audio_codec}")
        shown = _aspect(info.width, info.height)
        for what, w, h in (
            ("proxy", proxy.width, proxy.height),
            ("poster", m.image.width, m.image.height),
        ):
            if abs(_aspect(w, h) / shown - 1) > 0.02:
                problems.append(f"{what} {w}x{h} is not shaped like {info.width}x{info.height}")
    elif proxy.audio_codec != codec:
        problems.append(f"proxy audio codec {proxy.audio_codec}")
    if abs((proxy.duration or 0) - info.duration) > max(0.5, 0.1 * info.duration):
        problems.append(f"proxy lasts {proxy.duration} s, manifest says {info.duration} s")
    return problems


def _check_ready(row: dict[str, str], m: Manifest, store, workdir: Path) -> list[str]:
    folder_kind = _FOLDER_KINDS.get(row["path"].split("/", 1)[0])
    if folder_kind and m.kind != folder_kind:
        return [f"kind {m.kind}, expected {folder_kind}"]
    problems = []
    image = m.image
    declared = (_int(row["width"]), _int(row["height"]))
    own_size = None in declared or row["path"].startswith(_OWN_SIZE)
    # A video's size is its frames' as shown (MediaInfo); the poster may be smaller.
    size = (
        (m.media.width, m.media.height)
        if m.kind == "video" and m.media
        else (image.width, image.height)
    )
    if not own_size and size not in (declared, declared[::-1]):
        problems.append(f"size {size[0]}x{size[1]}, manifest says {declared}")
    visual = {
        "complex_image": "proxy",
        "vector": "proxy",
        "document": "poster",
        "video": "poster",
        "audio": "poster",
    }.get(m.kind)
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
    if m.kind in _MEDIA_PROXIES:
        problems += _check_media(m, store, workdir)
    return problems


@pytest.mark.slow
def test_every_corpus_file_ends_ready_or_failed_with_its_code(corpus_ingest, tmp_path):
    settings, store = corpus_ingest.settings, corpus_ingest.store
    problems: dict[str, str] = {}
    for row in corpus_ingest.rows:
        relpath = row["path"]
        m = corpus_ingest.asset(relpath)
        expected = EXPECTED_FAILURES.get(relpath)
        if m.status == "failed":
            if m.error.code != expected:
                problems[relpath] = f"failed {m.error.code}: {m.error.message}"
            elif store.get_bytes(original_key(m.id)) != (CORPUS / relpath).read_bytes():
                problems[relpath] = "original not kept"
        elif m.status != "ready":
            problems[relpath] = f"left {m.status}"
        elif expected:
            problems[relpath] = f"ready, expected {expected}"
        elif found := _check_ready(row, m, store, tmp_path):
            problems[relpath] = "; ".join(found)
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    # The worker is still alive and well after all of that.
    good = make_jpeg(tmp_path / "after.jpg", 640, 480).read_bytes()
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), good)
    save_manifest(store, Manifest(id=asset_id, source=Source(filename="a.jpg", size=1, sha256="0")))
    assert pipeline.process(asset_id, settings, store).status == "ready"


def test_every_expected_failure_is_a_corpus_file():
    rows = {row["path"] for row in corpus_rows()}
    if not rows:
        pytest.skip("corpus not present")
    expected = set(EXPECTED_FAILURES)
    if not any(path.startswith(("video/", "audio/")) for path in rows):
        expected -= set(MEDIA_FAILURES)  # a corpus from before video and audio
    assert expected <= rows


def test_every_corpus_row_names_a_file_and_every_video_a_size():
    rows = corpus_rows()
    if not rows:
        pytest.skip("corpus not present")
    assert [row["path"] for row in rows if not (CORPUS / row["path"]).is_file()] == []
    # Without a declared size the size check above silently skips the clip.
    videos = [row for row in rows if row["path"].startswith("video/")]
    assert [
        row["path"] for row in videos if None in (_int(row["width"]), _int(row["height"]))
    ] == []
