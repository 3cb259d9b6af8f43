"""Signed delivery URLs, in the two forms delivery checks.

`/render/...?sig=`: HMAC-SHA256 over the canonical path + query, URL-safe base64. Canonical
query: parameter names lower-cased, empty values dropped, sorted by name, then
percent-encoded — the same normalisation the CDN's query function applies, so a signature
survives it. `sig` itself is never part of what is signed.

`/thumbor/{signature}/...`: thumbor's own scheme, the signature in the path in place of
`unsafe` — HMAC-SHA1 of the (decoded) rest of the path, URL-safe base64.
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, urlsplit

THUMBOR_PREFIX = "/thumbor/"
# What may stand where a thumbor URL's signature goes: `unsafe` or an earlier signature.
_THUMBOR_SIGNATURE = re.compile(r"unsafe|[A-Za-z0-9_-]{27}=?")


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


def thumbor_signature(key: str, url_part: str) -> str:
    digest = hmac.new(key.encode(), url_part.encode(), hashlib.sha1).digest()
    return base64.urlsafe_b64encode(digest).decode()


def sign_url(key: str, url: str) -> str:
    """Sign a delivery URL (absolute or path-only): a `/thumbor/` one in its path, any
    other by appending `sig`. An earlier signature (or `unsafe/`) is replaced."""
    parts = urlsplit(url)
    if parts.path.startswith(THUMBOR_PREFIX):
        return _sign_thumbor(key, url)
    items = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "sig"]
    sig = signature(key, parts.path, items)
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in items)
    query = f"{query}&sig={sig}" if query else f"sig={sig}"
    prefix = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    return f"{prefix}{parts.path}?{query}"


def _sign_thumbor(key: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.query:
        raise ValueError("thumbor URLs take no query parameters")
    rest = parts.path[len(THUMBOR_PREFIX) :]
    head, _, tail = rest.partition("/")
    if _THUMBOR_SIGNATURE.fullmatch(head):
        rest = tail
    # Delivery checks the path as it arrives decoded; the URL keeps its own spelling.
    signature = thumbor_signature(key, unquote(rest))
    prefix = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    return f"{prefix}{THUMBOR_PREFIX}{signature}/{rest}"
