"""SVG safety check before librsvg sees the file: no DTD, no entities.

Entities are how an SVG reads local files (XXE) or explodes in memory (billion laughs);
no real-world SVG needs them, so such a file is refused rather than "cleaned". External
hrefs need no check here: the proxy loads SVG from a buffer, where librsvg has no base URL
and fetches nothing (tested)."""

import gzip
from pathlib import Path

MAX_SVG_BYTES = 64 * 1024 * 1024  # decompressed; an SVGZ may not unpack past this


class UnsafeSvg(Exception):
    """Refused before decoding; `code` is the asset error code the render stage records."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def read_checked(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as f:
                raw = f.read(MAX_SVG_BYTES + 1)
        except (OSError, EOFError) as exc:
            raise UnsafeSvg("decode_error", f"cannot decompress the SVGZ: {exc}") from exc
    if len(raw) > MAX_SVG_BYTES:
        raise UnsafeSvg("too_many_pixels", "the SVG unpacks to more than 64 MiB")
    if b"<!entity" in raw.lower():
        raise UnsafeSvg("unsafe_svg", "the SVG declares a DTD with entities, which is refused")
    return raw
