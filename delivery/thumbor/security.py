"""thumbor's URL signing: `unsafe/` or URL-safe base64 of HMAC-SHA1(key, the rest of the path)."""

import hmac

from shared.errors import PicshaError
from shared.signing import thumbor_signature

__all__ = ["check_security", "thumbor_signature"]


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
