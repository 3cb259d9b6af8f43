"""The console's server side, in-process: sign-in, the session cookie, the API proxy."""

import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from picsha.app import create_app
from picsha.console.router import STATIC
from shared.ids import new_id
from shared.keys import derivative_key, original_key
from shared.manifest import DerivativeInfo, Manifest, Source, save_manifest
from shared.settings import Settings

KEY = "console-test-key"
HEADER = {"x-picsha-console": "1"}


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path / "data", api_keys=[KEY])))


def sign_in(client: TestClient, key: str = KEY):
    return client.post("/console/login", data={"api_key": key}, follow_redirects=False)


def test_page_is_served_with_a_strict_csp(client):
    r = client.get("/console")
    assert r.status_code == 200 and "Picsha console" in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert client.get("/console/static/console.js").status_code == 200


def test_static_files_load_nothing_from_elsewhere():
    for path in STATIC.iterdir():
        text = path.read_text()
        urls = re.findall(r"https?://[^\s\"'`)]+", text)
        # The only absolute URL: the outbound map link for GPS positions (a link, not a load).
        assert all(u.startswith("https://www.openstreetmap.org/") for u in urls), (path, urls)
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, path


def test_sign_in_keeps_the_key_server_side(client):
    r = sign_in(client)
    assert r.status_code == 303 and r.headers["location"] == "/console"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert KEY not in cookie and KEY not in r.headers["location"]
    listing = client.get("/console/api/v1/assets", headers=HEADER)
    assert listing.status_code == 200 and listing.json()["items"] == []
    assert client.get("/console/api/session", headers=HEADER).json()["signed_in"] is True


def test_wrong_key_sets_no_session(client):
    r = sign_in(client, "wrong")
    assert r.status_code == 303 and "signin-failed" in r.headers["location"]
    assert "set-cookie" not in r.headers
    assert client.get("/console/api/v1/assets", headers=HEADER).status_code == 401


def test_proxy_needs_the_console_header_and_a_session(client):
    assert client.get("/console/api/v1/assets", headers=HEADER).status_code == 401
    sign_in(client)
    forged = client.get("/console/api/v1/assets")  # what a cross-site page could send
    assert forged.status_code == 403
    assert client.get("/console/api/elsewhere", headers=HEADER).status_code == 404
    client.post("/console/logout")
    assert client.get("/console/api/v1/assets", headers=HEADER).status_code == 401


def test_sign_endpoint_signs_render_paths_only(tmp_path):
    settings = Settings(data_dir=tmp_path / "d", api_keys=[KEY], signing_key="s3cret")
    client = TestClient(create_app(settings))
    sign_in(client)
    r = client.get("/console/api/sign", params={"url": "/render/abc?wd=5"}, headers=HEADER)
    assert "sig=" in r.json()["url"]
    bad = client.get("/console/api/sign", params={"url": "https://evil/"}, headers=HEADER)
    assert bad.status_code == 400


def test_the_root_leads_a_person_to_the_console(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/console"
    assert "Picsha console" in client.get("/").text


def _asset_with_a_proxy(store, filename: str) -> str:
    """An asset whose manifest lists a proxy (bytes written straight to the store)."""
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), b"the original bytes")
    store.put_bytes(derivative_key(asset_id, "proxy"), b"\xff\xd8\xff proxy")
    proxy = DerivativeInfo(key=derivative_key(asset_id, "proxy"), width=2, height=1, bytes=10)
    manifest = Manifest(
        id=asset_id,
        status="ready",
        source=Source(filename=filename, size=18, sha256="0" * 64, mime="image/x-canon-cr2"),
        derivatives={"proxy": proxy},
    )
    save_manifest(store, manifest)
    return asset_id


def test_downloads_the_original_and_listed_derivatives_as_files(client):
    asset_id = _asset_with_a_proxy(client.app.state.store, 'IMG "1" été.cr2')
    url = f"/console/download/{asset_id}"
    assert client.get(f"{url}/original").status_code == 401  # a session, not just the id
    sign_in(client)

    original = client.get(f"{url}/original")
    assert original.status_code == 200 and original.content == b"the original bytes"
    assert original.headers["content-type"] == "image/x-canon-cr2"
    disposition = original.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="IMG _1_ _t_.cr2"')
    assert "filename*=UTF-8''IMG%20%221%22%20%C3%A9t%C3%A9.cr2" in disposition

    proxy = client.get(f"{url}/proxy")
    assert proxy.status_code == 200 and proxy.content.startswith(b"\xff\xd8\xff")
    assert proxy.headers["content-type"] == "image/jpeg"
    saved_as = "filename*=UTF-8''IMG%20%221%22%20%C3%A9t%C3%A9-proxy.jpg"
    assert saved_as in proxy.headers["content-disposition"]
    for missing in (f"{url}/thumb", f"{url}/manifest", f"/console/download/{new_id()}/original"):
        r = client.get(missing)
        assert r.status_code == 404 and r.json()["error"]["code"], missing


def test_s3_downloads_redirect_to_a_presigned_attachment(tmp_path, s3_endpoint, s3_bucket):
    settings = Settings(
        data_dir=tmp_path / "data",
        api_keys=[KEY],
        storage="s3",
        s3_bucket=s3_bucket,
        s3_endpoint_url=s3_endpoint,
    )
    client = TestClient(create_app(settings))
    asset_id = _asset_with_a_proxy(client.app.state.store, "raw photo.cr2")
    sign_in(client)
    r = client.get(f"/console/download/{asset_id}/proxy", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"].startswith(s3_endpoint)
    fetched = httpx.get(r.headers["location"])
    assert fetched.content.startswith(b"\xff\xd8\xff")
    assert fetched.headers["content-disposition"].startswith(
        'attachment; filename="raw photo-proxy.jpg"'
    )
