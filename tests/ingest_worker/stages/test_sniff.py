import pytest

from ingest_worker.errors import StageError
from ingest_worker.stages.sniff import sniff
from tests.helpers import corpus_file, make_jpeg

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
