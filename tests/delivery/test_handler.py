"""The Lambda entry point: an API Gateway event in, a base64 binary body out."""

import base64
import importlib

from shared import imaging
from tests.helpers import load, make_jpeg


def _event(path: str, query: dict[str, str]) -> dict:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": {"accept": "image/webp", "host": "cdn.example.test"},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": "GET",
            "path": path,
            "stage": "prod",
            "requestId": "req-1",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def test_api_gateway_event_gets_base64_webp(monkeypatch, settings, store, ingest, tmp_path):
    asset = ingest(make_jpeg(tmp_path / "p.jpg", 800, 600).read_bytes())
    monkeypatch.setenv("PICSHA_DATA_DIR", str(settings.data_dir))
    from shared.settings import get_settings

    get_settings.cache_clear()
    import delivery.handler

    handler = importlib.reload(delivery.handler).handler
    out = handler(_event(f"/render/{asset.id}", {"wd": "200", "fm": "webp"}), None)
    get_settings.cache_clear()
    assert out["statusCode"] == 200
    assert out["isBase64Encoded"] is True
    body = base64.b64decode(out["body"])
    assert imaging.sniff_format(body) == "webp"
    assert load(body).width == 200
    headers = {k.lower(): v for k, v in out["headers"].items()}
    assert headers["content-type"] == "image/webp"
    assert headers["cache-control"] == "public, max-age=86400, immutable"
    assert headers["etag"]

    missing = handler(_event("/render/" + "a" * 21, {"wd": "10"}), None)
    assert missing["statusCode"] == 404 and missing["isBase64Encoded"] is False
    assert '"asset_not_found"' in missing["body"]
