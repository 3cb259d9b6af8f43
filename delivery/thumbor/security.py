"""thumbor's URL signing: `unsafe/` or URL-safe base64 of HMAC-SHA1(key, the rest of the path)."""

import base64
import hashlib
import hmac

from shared.errors import PicshaError


def thumbor_signature(key: str, url_part: str) -> str:
    digest = hmac.new(key.encode(), url_part.encode(), hashlib.sha1).digest()
    return base64.urlsafe_b64encode(digest).decode()


def check_security(path: str, signing_key: str | None) -> str:
    """Strip `unsafe/` or a valid HMAC; returns the rest of the URL."""
    head, _, rest = path.partition("/")
    if head == "unsafe":
        if signing_key:
            raise PicshaError(403, "signature_required", "unsafe thumbor URLs are disabled")
        return rest
    if not signing_key:
        raise PicshaError(403, "bad_signature", "thumbor URL signing is not configured")
    expected = thumbor_signature(signing_key, rest)
    if not hmac.compare_digest(expected.rstrip("="), head.rstrip("=")):
        raise PicshaError(403, "bad_signature", "the thumbor URL signature does not match")
    return rest
