"""Documents through the real pipeline (LibreOffice → document.pdf), then analysis: the
summary and the search description come from the document's own text (pdftotext)."""

import shutil

import pytest

from ingest_worker import pipeline
from ingest_worker.stages import analysis
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Source, save_manifest
from tests.helpers import corpus_file
from tests.helpers_ai import local_provider_once

pytestmark = pytest.mark.slow


def _ingest(store, settings, relpath: str) -> Manifest:
    data = corpus_file(relpath).read_bytes()
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), data)
    name = relpath.rsplit("/", 1)[-1]
    source = Source(filename=name, size=len(data), sha256="0" * 64)
    save_manifest(store, Manifest(id=asset_id, source=source))
    done = pipeline.process(asset_id, settings, store)
    if done.status != "ready":
        pytest.skip(f"{relpath} did not ingest here: {done.error}")
    return done


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_a_markdown_document_is_summarised_from_its_text(settings, store):
    provider = local_provider_once()
    m = _ingest(store, settings, "docs/markdown_syntax_gruber.md")
    a = analysis.run(m.id, settings, store, provider).analysis
    assert a.status == "done"
    assert m.kind == "document"
    assert a.summary and len(a.summary) <= 600
    assert "markdown" in a.description.lower()


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_an_office_document_is_read_through_its_pdf(settings, store):
    provider = local_provider_once()
    m = _ingest(store, settings, "docs/word_paragraphs_and_tables.docx")
    assert "document" in m.derivatives
    a = analysis.run(m.id, settings, store, provider).analysis
    assert a.status == "done" and a.summary
    assert "paragraph before the table" in a.description  # the text, not just the poster
