"""Documents through real headless LibreOffice and poppler: PDF by magic bytes, a poster
of the first page at a readable size, page counts, and a hung conversion cleaned up."""

import os
from pathlib import Path

import pytest
import pyvips

from ingest_worker.errors import StageError
from ingest_worker.stages import documents, sniff
from shared import imaging
from tests.faults import processes_mentioning
from tests.helpers import corpus_file


def _render(path: Path, tmp_path: Path, settings, name: str | None = None):
    return documents.render(sniff.sniff(path, name or path.name), path, tmp_path, settings)


def _assert_poster(result, has_text: bool = True) -> pyvips.Image:
    data = result.poster.read_bytes()
    assert imaging.sniff_format(data) == "jpeg"
    poster = pyvips.Image.new_from_buffer(data, "")
    assert poster.width == documents.POSTER_WIDTH
    assert poster.height > poster.width  # a portrait page
    if has_text:
        assert poster.min() < 100  # there is dark text on it, not a blank page
    return poster


@pytest.mark.slow
@pytest.mark.parametrize(
    ("relpath", "min_pages"),
    [
        ("docs/word_paragraphs_and_tables.docx", 1),
        ("docs/word2000_ieee_paper.doc", 5),  # libmagic: bare OLE storage; 6-7 by fonts
        ("docs/word_cyrillic.docx", 2),
        ("docs/sample.rtf", 1),
        ("docs/writer_odt.odt", 1),
    ],
)
def test_office_documents_become_pdf_and_poster(relpath, min_pages, tmp_path, settings):
    result = _render(corpus_file(relpath), tmp_path, settings)
    assert result.pdf is not None and result.pdf.read_bytes()[:5] == b"%PDF-"
    assert result.pages >= min_pages
    _assert_poster(result)


@pytest.mark.slow
def test_a_docx_libmagic_cannot_name_is_still_converted(tmp_path, settings):
    # Only document properties, no body text: the poster is a blank page, as in Word.
    result = _render(corpus_file("docs/word_core_properties.docx"), tmp_path, settings)
    assert result.pdf.read_bytes()[:5] == b"%PDF-"
    _assert_poster(result, has_text=False)


@pytest.mark.slow
def test_markdown_becomes_a_styled_pdf(tmp_path, settings):
    source = tmp_path / "notes.md"
    source.write_text(
        "---\ntitle: front matter is not printed\n---\n# Notes\n\nSome *text*.\n\n"
        "```python\ndef f(x):\n    return x * 2\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    (tmp_path / "work").mkdir()
    result = _render(source, tmp_path / "work", settings)
    assert result.pdf.read_bytes()[:5] == b"%PDF-"
    poster = _assert_poster(result)
    # The fenced block sits on GitHub's #f6f8fa code background.
    shaded = ((poster - [0xF6, 0xF8, 0xFA]).abs() < 4).bandand()
    assert shaded.avg() > 0.5  # > 0.2 % of the page (255 = every pixel)


def test_markdown_html_is_github_like_and_loads_nothing():
    html = documents.to_html(
        "# T\n\n```js\nlet a = 1;\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        '![x](http://169.254.169.254/latest/meta-data)\n\n<iframe src="http://x/"></iframe>\n'
        '<link rel="stylesheet" href="http://x/s.css">\n',
        is_markdown=True,
    )
    assert '<pre><code class="language-js">' in html
    assert '<table border="1"' in html and "<td>1</td>" in html
    assert "<img" not in html and "<iframe" not in html and "<link" not in html
    assert "monospace" in html


def test_plain_text_is_shown_as_preformatted_text():
    html = documents.to_html("a <b> & c\n  indented", is_markdown=False)
    assert "<pre>a &lt;b&gt; &amp; c\n  indented</pre>" in html


def test_pdf_uploads_get_a_poster_and_a_page_count(tmp_path, settings):
    result = _render(corpus_file("pdf/openoffice_3_pages_mixed_sizes.pdf"), tmp_path, settings)
    assert result.pdf is None  # the original is the document
    assert result.pages == 3
    _assert_poster(result)


def test_an_encrypted_pdf_fails_with_its_own_code(tmp_path, settings):
    with pytest.raises(StageError) as err:
        _render(corpus_file("pdf/encrypted_128bit_rc4.pdf"), tmp_path, settings)
    assert err.value.code == "encrypted_document"


@pytest.mark.slow
def test_a_conversion_over_the_time_limit_fails_and_leaves_no_process(tmp_path, settings):
    """LibreOffice cannot even start within 0.3 s: the same path as a document that hangs."""
    quick = settings.model_copy(update={"convert_timeout_seconds": 0.3})
    with pytest.raises(StageError) as err:
        _render(corpus_file("docs/word_text.docx"), tmp_path, quick)
    assert err.value.code == "conversion_timeout"
    assert processes_mentioning(str(tmp_path)) == []  # soffice, oosplash, soffice.bin gone
    # ...and reaped: no zombie children of this process.
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        assert "State:\tZ" not in status
