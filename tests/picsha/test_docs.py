"""OpenAPI docs: served offline from local assets, every route with examples."""

import re

import pytest
from fastapi.testclient import TestClient

from picsha.app import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    from shared.settings import Settings

    data = tmp_path_factory.mktemp("docs") / "data"
    return TestClient(create_app(Settings(data_dir=data, api_keys=["k"])))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_nothing_from_the_internet(client, page):
    html = client.get(page).text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert urls, html
    assert not [u for u in urls if "//" in u], "docs assets must be served by the app itself"
    assert "fonts.googleapis" not in html
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200 and len(r.content) > 1000, url


def test_every_operation_has_examples(client):
    schema = client.get("/openapi.json").json()
    missing = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            examples = [
                media
                for response in op.get("responses", {}).values()
                for media in response.get("content", {}).values()
                if "example" in media or "examples" in media
            ]
            if not examples:
                missing.append(f"{method.upper()} {path}")
    assert not missing, f"add examples in picsha/openapi_examples.py for: {missing}"


def test_examples_are_real_shapes(client):
    schema = client.get("/openapi.json").json()
    upload = schema["paths"]["/v1/assets"]["post"]["responses"]["202"]["content"]
    assert upload["application/json"]["example"]["status"] == "queued"
    render = schema["paths"]["/render/{asset_id}"]["get"]
    params = {p["name"]: p for p in render["parameters"]}
    assert params["wd"]["example"] == 500 and params["q"]["example"] == 80
    assert schema["components"]["securitySchemes"]["apiKey"]["name"] == "x-api-key"
