"""LibreOffice through the deploy's converter container protocol (docker/libreoffice), with
real soffice behind it: what the worker does when PICSHA_CONVERTER_URL is set. The service
runs the worker's own converter code (ingest_worker/converters/libreoffice.py)."""

import importlib.util
import sys
import threading
from collections.abc import Iterator

import pytest

from ingest_worker.converters import libreoffice
from ingest_worker.errors import StageError
from ingest_worker.stages import documents, sniff
from shared.settings import Settings
from tests.helpers import REPO, corpus_file, free_port


def _load_server():
    name = "picsha_convert_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, REPO / "docker" / "libreoffice" / "convert_server.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _serve(timeout: float) -> Iterator[str]:
    server_module = _load_server()
    settings = server_module.Settings(host="127.0.0.1", port=0, timeout=timeout, concurrency=1)
    server = server_module.make_server(settings)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def service(settings) -> Iterator[Settings]:
    for url in _serve(timeout=120):
        yield settings.model_copy(update={"converter_url": url})


@pytest.mark.slow
def test_documents_convert_through_the_service(service, tmp_path):
    settings = service
    path = corpus_file("docs/word_paragraphs_and_tables.docx")
    result = documents.render(sniff.sniff(path), path, tmp_path, settings)
    assert result.pdf.read_bytes()[:5] == b"%PDF-"
    assert result.width == documents.POSTER_WIDTH


@pytest.mark.slow
def test_markdown_through_the_service_is_styled_not_blank(service, tmp_path):
    settings = service
    source = tmp_path / "readme.md"
    source.write_text("# Title\n\n```\ncode block\n```\n")
    (tmp_path / "w").mkdir()
    result = documents.render(sniff.sniff(source, "readme.md"), source, tmp_path / "w", settings)
    import pyvips

    poster = pyvips.Image.new_from_file(str(result.poster))
    assert poster.min() < 100  # text was printed
    assert ((poster - [0xF6, 0xF8, 0xFA]).abs() < 4).bandand().avg() > 0.5  # code shading


@pytest.mark.slow
def test_a_service_timeout_is_a_conversion_timeout(tmp_path, settings):
    for url in _serve(timeout=0.3):
        path = corpus_file("docs/word_text.docx")
        with_service = settings.model_copy(update={"converter_url": url})
        with pytest.raises(StageError) as err:
            documents.render(sniff.sniff(path), path, tmp_path, with_service)
    assert err.value.code == "conversion_timeout"


def test_an_unreachable_service_is_transient_not_the_files_fault(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    source = tmp_path / "a.docx"
    source.write_bytes(b"PK")
    with pytest.raises(ConnectionError):  # the pipeline turns this into a Celery retry
        libreoffice.to_pdf(source, tmp_path, timeout=5, service_url=url)


def test_the_service_writes_the_workers_hardened_profile(tmp_path):
    server = _load_server()
    settings = server.Settings(host="127.0.0.1", port=0, concurrency=2)
    server.Converter(settings, root=tmp_path)
    for slot in ("profile-0", "profile-1"):
        xcu = (tmp_path / slot / "user" / "registrymodifications.xcu").read_text()
        assert xcu == libreoffice.HARDENING
        assert xcu.count("<item ") == 5  # macros off, no linked fetches, no OpenCL, no wizard
