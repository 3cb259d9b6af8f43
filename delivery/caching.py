"""Response caching: strong ETags from asset version + canonical request, 304 on match."""

import hashlib

from fastapi import Request


def etag_for(asset_version: str, canonical: str, fmt: str) -> str:
    digest = hashlib.sha256(f"{asset_version}|{canonical}|{fmt}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def not_modified(request: Request, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): `W/"x"` matches `"x"`, as a
    CDN that compresses a response weakens its tag and the client sends that one back."""
    given = request.headers.get("if-none-match")
    if not given:
        return False
    tags = [t.strip().removeprefix("W/") for t in given.split(",")]
    return given.strip() == "*" or etag.removeprefix("W/") in tags
