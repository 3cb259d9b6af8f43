"""Signed render URLs: HMAC-SHA256 over the canonical path + query, URL-safe base64.

Canonical query: parameter names lower-cased, empty values dropped, sorted by name, then
percent-encoded — the same normalisation the CDN's query function applies, so a signature
survives it. `sig` itself is never part of what is signed.
"""

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, urlsplit


def canonical(path: str, items: Iterable[tuple[str, str]]) -> str:
    pairs = sorted((k.lower(), v) for k, v in items if v != "" and k.lower() != "sig")
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    return f"{path}?{query}" if query else path


def signature(key: str, path: str, items: Iterable[tuple[str, str]]) -> str:
    digest = hmac.new(key.encode(), canonical(path, items).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify(key: str, path: str, items: list[tuple[str, str]], given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(signature(key, path, items), given)


def sign_url(key: str, url: str) -> str:
    """Append `sig` to a render URL (absolute or path-only); an old `sig` is replaced."""
    parts = urlsplit(url)
    items = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "sig"]
    sig = signature(key, parts.path, items)
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in items)
    query = f"{query}&sig={sig}" if query else f"sig={sig}"
    prefix = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    return f"{prefix}{parts.path}?{query}"
