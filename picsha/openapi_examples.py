"""Examples for every route in the OpenAPI schema, in one table (merged by picsha/docs.py).

Keyed by (METHOD, path template) → {status: example}. An example is a JSON value, a
string (text/plain), a (media type, example) pair, or None for a response without a body.
tests/picsha/test_docs.py fails for a route that has none, naming it.
"""

from typing import Any

ASSET_ID = "V1StGXR8_Z5jdHi6B-myT"


def ERROR_EXAMPLE(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


LINKS = {
    "self": f"/v1/assets/{ASSET_ID}",
    "render": f"/render/{ASSET_ID}",
    "original": f"/original/{ASSET_ID}",
}

MANIFEST = {
    "id": ASSET_ID,
    "schema": 1,
    "status": "ready",
    "error": None,
    "created_at": "2026-11-24T10:00:00.000Z",
    "updated_at": "2026-11-24T10:00:01.250Z",
    "pre_render_sizes": True,
    "attempts": 1,
    "source": {
        "filename": "IMG_0042.jpg",
        "size": 2481913,
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "mime": "image/jpeg",
        "declared_mime": "image/jpeg",
    },
    "kind": "image",
    "image": {"width": 5472, "height": 3648, "orientation": 1, "has_alpha": False,
              "pages": 1, "animated": False, "icc": "sRGB IEC61966-2.1"},
    "metadata": {
        "camera": {"make": "Canon", "model": "Canon EOS 6D", "name": "Canon EOS 6D"},
        "lens": "Canon EF 24-105mm f/4L IS USM",
        "exposure": {"program": "Aperture-priority AE", "flash": "Off, Did not fire",
                     "iso": 100, "f_number": 8.0, "exposure_time": "1/200",
                     "focal_length": "35.0 mm"},
        "taken_at": "2026-06-01T18:22:10",
        "gps": {"lat": 48.8584, "lon": 2.2945},
        "exif": {"ExposureProgram": 3, "ExposureTime": 0.005, "FNumber": 8.0, "ISO": 100},
        "iptc": {},
        "xmp": {},
    },
    "derivatives": {
        "optimized": {"key": f"assets/{ASSET_ID}/optimized.webp", "width": 2048,
                      "height": 1365, "bytes": 412334},
        "thumb": {"key": f"assets/{ASSET_ID}/thumb.webp", "width": 150, "height": 100,
                  "bytes": 5120},
    },
    "analysis": None,
    "placeholders": {"dominant_color": "#6b7f99"},
}  # fmt: skip

HIT = {
    "id": ASSET_ID,
    "score": 0.82,
    "matched": ["labels", "embedding"],
    "kind": "image",
    "filename": "IMG_0042.jpg",
    "labels": ["bicycle", "wall"],
    "alt_text": "A red bicycle leaning on a blue wall",
    "duration": None,
    "links": {"self": f"/v1/assets/{ASSET_ID}", "render": f"/render/{ASSET_ID}"},
}

NOT_FOUND = ERROR_EXAMPLE("asset_not_found", f"no asset '{ASSET_ID}'")
RANGE_NOT_SATISFIABLE = ERROR_EXAMPLE(
    "range_not_satisfiable", "the range 'bytes=9000000-' lies outside the object's 4211817 bytes"
)
QUEUE_DOWN = ERROR_EXAMPLE(
    "queue_unavailable", "the job queue cannot be reached; nothing was changed, retry later"
)
BAD_PARAM = ERROR_EXAMPLE("invalid_parameter", "wd: Input should be greater than or equal to 1")

EXAMPLES: dict[tuple[str, str], dict[int, Any]] = {
    ("POST", "/v1/assets"): {
        202: {"id": ASSET_ID, "status": "queued", "links": LINKS},
        400: ERROR_EXAMPLE("missing_file", "multipart field 'file' is required"),
        409: ERROR_EXAMPLE(
            "idempotency_key_in_use", "a request with this Idempotency-Key is in progress; retry"
        ),
        413: ERROR_EXAMPLE("upload_too_large", "upload exceeds 2147483648 bytes"),
        422: ERROR_EXAMPLE(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request (another file or fields)",
        ),
        503: QUEUE_DOWN,
    },
    ("POST", "/v1/assets/presigned"): {
        201: {
            "id": ASSET_ID,
            "status": "queued",
            "upload": {
                "url": "https://picsha-assets.s3.amazonaws.com/",
                "fields": {
                    "key": f"assets/{ASSET_ID}/original",
                    "policy": "eyJ…",
                    "x-amz-signature": "…",
                },
            },
            "links": LINKS,
        },
        501: ERROR_EXAMPLE("presigned_uploads_need_s3", "presigned uploads need PICSHA_STORAGE=s3"),
    },
    ("GET", "/v1/assets"): {
        200: {"items": [MANIFEST], "next_cursor": ASSET_ID},
        400: ERROR_EXAMPLE("invalid_cursor", "cursor must be an asset id from next_cursor"),
    },
    ("GET", "/v1/assets/{asset_id}"): {200: MANIFEST, 404: NOT_FOUND},
    ("DELETE", "/v1/assets/{asset_id}"): {204: None, 404: NOT_FOUND},
    ("POST", "/v1/assets/{asset_id}/reprocess"): {
        202: {"id": ASSET_ID, "status": "queued", "links": LINKS},
        404: NOT_FOUND,
        503: QUEUE_DOWN,
    },
    ("GET", "/v1/search"): {
        200: {
            "items": [HIT],
            "next_cursor": "eyJvIjogMjB9",
            "total": 1,
            "mode": "hybrid",
        },
        400: ERROR_EXAMPLE("invalid_cursor", "cursor is not from this search"),
    },
    ("GET", "/v1/assets/{asset_id}/similar"): {200: {"items": [HIT]}, 404: NOT_FOUND},
    ("GET", "/v1/assets/{asset_id}/duplicates"): {
        200: {"items": [{**HIT, "hash_distance": 2, "cosine": 0.99}]},
        404: NOT_FOUND,
    },
    ("GET", "/v1/assets/{asset_id}/alt-text"): {
        200: {
            "id": ASSET_ID,
            "alt_text": "A red bicycle leaning on a blue wall",
            "source": "generated from detected labels",
            "provider": "local",
        },
        409: ERROR_EXAMPLE("analysis_not_done", "analysis is pending; alt text comes with it"),
    },
    ("GET", "/render/{asset_id}"): {
        200: ("image/webp", "(binary WebP bytes)"),
        302: None,
        304: None,
        400: BAD_PARAM,
        404: NOT_FOUND,
        409: ERROR_EXAMPLE("asset_not_ready", "the asset is still processing"),
    },
    ("GET", "/thumbor/{path}"): {
        200: ("image/jpeg", "(binary JPEG bytes)"),
        400: ERROR_EXAMPLE("invalid_thumbor_url", "not a thumbor URL"),
        404: NOT_FOUND,
    },
    ("GET", "/original/{asset_id}"): {
        200: ("application/octet-stream", "(the uploaded bytes)"),
        206: ("application/octet-stream", "(the bytes of the range asked)"),
        302: None,
        404: NOT_FOUND,
        416: RANGE_NOT_SATISFIABLE,
    },
    ("GET", "/media/{asset_id}/{name}"): {
        200: ("video/mp4", "(the proxy's bytes)"),
        206: ("video/mp4", "(the bytes of the range asked)"),
        302: None,
        404: ERROR_EXAMPLE("not_found", f"asset {ASSET_ID} has no 'proxy.m4a'"),
        416: RANGE_NOT_SATISFIABLE,
    },
    ("GET", "/healthz"): {
        200: {
            "status": "ok",
            "storage": "local",
            "upload": {"presigned": False, "max_body_bytes": None},
        }
    },
    ("GET", "/metrics"): {},  # its route carries a text/plain example itself
}

# By name; a (path, name) key overrides where one name means two things (`q`).
PARAMETER_EXAMPLES: dict[str | tuple[str, str], Any] = {
    ("/render/{asset_id}", "q"): 80,
    "asset_id": ASSET_ID,
    "path": f"unsafe/fit-in/500x500/{ASSET_ID}",
    "cursor": ASSET_ID,
    "Idempotency-Key": "5b0c2f4e-8d2a-4f7e-9a51-0c3d7e2b9f10",
    "limit": 50,
    "q": "red bicycle",
    "wd": 500,
    "ht": 500,
    "crop": True,
    "fit": "cover",
    "g": "center",
    "fm": "webp",
    "dpr": 2,
    "bg": "ffffff",
    "t": 2.5,
    "name": "proxy.mp4",
}
