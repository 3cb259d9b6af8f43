"""thumbor-compatible URLs (`/thumbor/{unsafe|HMAC}/...`), mapped onto Picsha's renders.

security  `unsafe/` or thumbor's HMAC          url       the path grammar → ThumborUrl
filters   the lenient `filters:` list          geometry  thumbor's crop/resize arithmetic
request   a URL → /render params or pipeline   pipeline  thumbor's order, for the rest
tone, convolve, compose, pixels                the filters' pixel work on libvips
"""

from delivery.thumbor.request import ThumborRequest
from delivery.thumbor.security import check_security, thumbor_signature
from delivery.thumbor.url import parse


def parse_url(rest: str) -> ThumborRequest:
    """The path after `unsafe/` or the HMAC, as a request; a 400 when it is no thumbor URL."""
    return ThumborRequest(parse(rest))


__all__ = ["ThumborRequest", "check_security", "parse_url", "thumbor_signature"]
