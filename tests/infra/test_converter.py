"""The LibreOffice converter service over real HTTP: a stand-in soffice for the protocol and
the failure paths, and the real LibreOffice when it is installed."""

from __future__ import annotations

import json
import shutil
import stat
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.infra.loaders import CONVERT_SERVER, load

converter = load(CONVERT_SERVER, "picsha_convert_server")

# Writes <outdir>/<stem>.pdf like soffice does; fails or hangs when the input says so.
FAKE_SOFFICE = """#!/bin/sh
out=""; src=""
while [ $# -gt 0 ]; do
  case "$1" in --outdir) out="$2"; shift ;; -*) ;; *) src="$1" ;; esac
  shift
done
case "$(cat "$src")" in
  fail*) echo "source file could not be loaded" >&2; exit 1 ;;
  hang*) sleep 30 ;;
esac
mkdir -p "$out"
stem=$(basename "$src"); stem=${stem%.*}
printf '%%PDF-1.4 converted\\n' > "$out/$stem.pdf"
"""


def _serve(settings: object) -> Iterator[str]:
    server = converter.make_server(settings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def fake_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    script = tmp_path_factory.mktemp("bin") / "soffice"
    script.write_text(FAKE_SOFFICE)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    settings = converter.Settings(
        host="127.0.0.1", port=0, timeout=2, max_bytes=1024, concurrency=1, soffice=str(script)
    )
    yield from _serve(settings)


def _post(url: str, body: bytes, filename: str = "report.docx") -> tuple[int, bytes, str]:
    request = urllib.request.Request(
        f"{url}/convert?to=pdf", data=body, headers={"X-Filename": filename}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers["Content-Type"]


def test_health(fake_url: str) -> None:
    with urllib.request.urlopen(f"{fake_url}/healthz", timeout=10) as response:
        assert json.loads(response.read()) == {"status": "ok"}


def test_a_document_comes_back_as_pdf(fake_url: str) -> None:
    status, body, kind = _post(fake_url, b"hello")
    assert (status, kind) == (200, "application/pdf")
    assert body.startswith(b"%PDF-")


def test_a_document_libreoffice_rejects_is_a_422_json_error(fake_url: str) -> None:
    status, body, kind = _post(fake_url, b"fail please")
    assert (status, kind) == (422, "application/json")
    assert json.loads(body)["error"]["code"] == "conversion_failed"


def test_a_hung_conversion_is_killed_and_answered_504(fake_url: str) -> None:
    status, body, _ = _post(fake_url, b"hang please")
    assert status == 504
    assert json.loads(body)["error"]["code"] == "timeout"
    # The slot is free again afterwards.
    assert _post(fake_url, b"hello")[0] == 200


def test_limits_and_bad_requests(fake_url: str) -> None:
    assert _post(fake_url, b"x" * 2048)[0] == 413
    request = urllib.request.Request(f"{fake_url}/convert?to=exe", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 400
    # A hostile file name never reaches the file system as given.
    status, body, _ = _post(fake_url, b"hello", filename="../../etc/passwd")
    assert status == 200 and body.startswith(b"%PDF-")


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed (documents)")
def test_real_libreoffice_converts_rtf(tmp_path: Path) -> None:
    settings = converter.Settings(host="127.0.0.1", port=0, timeout=120, concurrency=1)
    for url in _serve(settings):
        status, body, kind = _post(url, rb"{\rtf1\ansi Picsha converter test.\par}", "t.rtf")
        assert (status, kind) == (200, "application/pdf")
        assert body.startswith(b"%PDF-")
