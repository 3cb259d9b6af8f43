import pytest

from ingest_worker.errors import StageError
from ingest_worker.stages.sniff import sniff
from tests.helpers import corpus_file, make_jpeg
from tests.helpers_media import ffmpeg, sine

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(
    ("relpath", "mime"),
    [
        ("jpeg/canon_eos40d.jpg", "image/jpeg"),
        ("png/rgba_alpha_transparent.png", "image/png"),
        ("webp/lossy_alpha.webp", "image/webp"),
        ("gif/animated_cogs.gif", "image/gif"),
        ("hostile/webp_looks_like_svg.webp", "image/webp"),
    ],
)
def test_web_native_images_by_magic_bytes(relpath, mime):
    result = sniff(corpus_file(relpath))
    assert (result.mime, result.kind) == (mime, "image")


def test_the_extension_is_never_trusted(tmp_path):
    path = make_jpeg(tmp_path / "photo.png", 20, 20)
    assert sniff(path).mime == "image/jpeg"
    with pytest.raises(StageError) as err:
        sniff(corpus_file("hostile/json_named_webp.webp"))
    assert err.value.code == "unsupported_type"
    assert "application/json" in err.value.message


def test_zero_bytes_is_its_own_error():
    with pytest.raises(StageError) as err:
        sniff(corpus_file("hostile/zero_bytes.heic"))
    assert err.value.code == "empty_file"


@pytest.mark.parametrize(
    ("relpath", "mime", "kind", "family"),
    [
        ("heif/iphone_xs_gps_p3.heic", "image/heic", "complex_image", "vips"),
        ("hostile/heic_named_jpg.jpg", "image/heic", "complex_image", "vips"),
        ("avif/exif_xmp_gps.avif", "image/avif", "complex_image", "vips"),
        ("tiff/multipage_fax_g3.tif", "image/tiff", "complex_image", "vips"),
        ("raw/nikon_d70.nef", "image/x-raw", "complex_image", "raw"),  # libmagic: TIFF
        ("raw/canon_eos350d_exiftool.dng", "image/x-adobe-dng", "complex_image", "raw"),
        ("raw/canon_eos_m50.cr3", "image/x-canon-cr3", "complex_image", "raw"),  # octet-stream
        ("raw/panasonic_dmc-lx3.rw2", "image/x-panasonic-rw2", "complex_image", "raw"),
        ("psd/group_clipping.psd", "image/vnd.adobe.photoshop", "complex_image", "psd"),
        ("vector/gnuplot.eps", "application/postscript", "vector", "postscript"),
        ("vector/illustrator_2020.ai", "application/illustrator", "vector", "vips"),
        ("vector/libvips_logo.svgz", "image/svg+xml", "vector", "svg"),
        ("pdf/text_2_pages.pdf", "application/pdf", "document", "pdf"),
        ("docs/word_core_properties.docx", DOCX, "document", "office"),  # octet-stream
        ("docs/word2000_ieee_paper.doc", "application/msword", "document", "office"),
        ("docs/sample.rtf", "text/rtf", "document", "office"),
        ("docs/markdown_syntax_gruber.md", "text/markdown", "document", "markdown"),
        ("hostile/text_named_pdf.pdf", "text/plain", "document", "text"),  # not a PDF
    ],
)
def test_complex_formats_by_magic_bytes(relpath, mime, kind, family):
    path = corpus_file(relpath)
    result = sniff(path, path.name)
    assert (result.mime, result.kind, result.family) == (mime, kind, family)


def test_tiff_files_that_are_not_raw_stay_tiff():
    assert sniff(corpus_file("tiff/16bit_fujifilm_xt2_photoshop.tiff")).family == "vips"


def test_markdown_needs_its_name_and_html_is_not_a_document(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\ntext\n")
    assert sniff(page, "notes.md").family == "markdown"
    assert sniff(page, "notes.txt").family == "text"
    html = tmp_path / "index.html"
    html.write_text("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")
    with pytest.raises(StageError) as err:
        sniff(html, "index.html")
    assert err.value.code == "unsupported_type"


def test_binary_garbage_is_unsupported(tmp_path):
    path = tmp_path / "x.docx"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(StageError) as err:
        sniff(path, "x.docx")
    assert err.value.code == "unsupported_type"


@pytest.mark.parametrize(
    ("relpath", "mime", "kind"),
    [
        ("video/iphone14pro_hevc_dolby_vision_rotated90.mov", "video/quicktime", "video"),
        ("video/vp8_1080p_gstreamer.webm", "video/webm", "video"),
        ("video/mpeg4_mp3.avi", "video/x-msvideo", "video"),
        ("video/hevc_854x480.ts", "video/mp2t", "video"),  # libmagic: octet-stream
        ("video/panasonic_avchd_1080i.mts", "video/mp2t", "video"),  # libmagic: octet-stream
        ("audio/mp3_id3v23_jpeg_cover.mp3", "audio/mpeg", "audio"),  # zero-padded ID3 tag
        ("audio/flac_png_picture.flac", "audio/flac", "audio"),
        ("audio/ogg_opus.opus", "audio/ogg", "audio"),
    ],
)
def test_video_and_audio_by_magic_bytes(relpath, mime, kind):
    result = sniff(corpus_file(relpath))
    assert (result.mime, result.kind, result.family) == (mime, kind, "media")


@pytest.mark.parametrize("m2ts", [False, True])
def test_transport_streams_with_and_without_timecodes(tmp_path, m2ts):
    """188-byte packets (.ts) and 192-byte Blu-ray/AVCHD packets (.m2ts) both sniff as TS."""
    out = tmp_path / "clip.ts"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:duration=0.5", "-c:v", "libx264",
           "-f", "mpegts", "-mpegts_m2ts_mode", "1" if m2ts else "0", out)  # fmt: skip
    assert (out.read_bytes()[4 if m2ts else 0]) == 0x47
    assert sniff(out).mime == "video/mp2t"


def test_audio_behind_a_padded_id3_tag(tmp_path):
    """A tag with 100 KiB of zero padding (room to edit it in place) hides the MP3 frames
    from libmagic's 64 KiB window."""
    mp3 = tmp_path / "plain.mp3"
    ffmpeg(*sine(1), "-c:a", "libmp3lame", "-id3v2_version", "0", mp3)
    padding = 100 * 1024
    size = 10 + padding
    syncsafe = bytes((size - 10) >> shift & 0x7F for shift in (21, 14, 7, 0))
    tagged = tmp_path / "tagged.mp3"
    tagged.write_bytes(b"ID3\x03\x00\x00" + syncsafe + bytes(padding) + mp3.read_bytes())
    assert sniff(tagged).mime == "audio/mpeg"
