"""Response caching: strong ETags from asset version + canonical request, 304 on match."""

import hashlib

from fastapi import Request


def etag_for(asset_version: str, canonical: str, fmt: str) -> str:
    digest = hashlib.sha256(f"{asset_version}|{canonical}|{fmt}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def not_modified(request: Request, etag: str) -> bool:
    given = request.headers.get("if-none-match")
    if not given:
        return False
    return given.strip() == "*" or etag in [t.strip() for t in given.split(",")]
