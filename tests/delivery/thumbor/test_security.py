"""thumbor's URL signing: `unsafe/` only without a key, else HMAC-SHA1 of the rest."""

import pytest
from fastapi.testclient import TestClient

from delivery.app import create_app
from delivery.thumbor import check_security, thumbor_signature
from shared.errors import PicshaError
from tests.helpers import load, make_jpeg


def test_signed_urls(settings, store, ingest, tmp_path):
    asset = ingest(make_jpeg(tmp_path / "p.jpg", 400, 300).read_bytes())
    settings.signing_key = "s3cret"
    client = TestClient(create_app(settings, store))
    rest = f"fit-in/100x100/{asset.id}"
    good = client.get(f"/thumbor/{thumbor_signature('s3cret', rest)}/{rest}")
    assert good.status_code == 200 and load(good.content).width == 100
    assert client.get(f"/thumbor/{'A' * 28}/{rest}").status_code == 403
    assert client.get(f"/thumbor/unsafe/{rest}").status_code == 403
    with pytest.raises(PicshaError):
        check_security(f"unsafe/{rest}", "s3cret")


def test_the_signature_covers_the_whole_rest_of_the_path():
    """thumbor's own regression: a signature copied into the path signs nothing else."""
    signature = thumbor_signature("k", "smart/image")
    assert check_security(f"{signature}/smart/image", "k") == "smart/image"
    with pytest.raises(PicshaError):
        check_security(f"{signature}/sma/{signature}/rt/image", "k")


def test_without_a_key_only_unsafe_urls(settings):
    with pytest.raises(PicshaError) as exc:
        check_security("abc/300x200/x", None)
    assert exc.value.status == 403
