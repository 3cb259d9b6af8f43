"""`fm=auto`: the best output format the client's Accept header allows."""

from shared.imaging import OutputFormat


def _accepts(accept: str, mime: str) -> bool:
    for part in accept.lower().split(","):
        media, _, params = part.strip().partition(";")
        if media.strip() == mime:
            return "q=0" not in params.replace(" ", "") or "q=0." in params.replace(" ", "")
    return False


def pick_format(accept: str | None, has_alpha: bool) -> OutputFormat:
    """AVIF, then WebP, then JPEG — PNG instead of JPEG when alpha must survive."""
    accept = accept or ""
    if _accepts(accept, "image/avif"):
        return "avif"
    if _accepts(accept, "image/webp"):
        return "webp"
    return "png" if has_alpha else "jpeg"


def normalised_accept(accept: str | None) -> str:
    """The part of Accept that changes the answer: what a CDN should key on."""
    accept = accept or ""
    return ",".join(m for m in ("image/avif", "image/webp") if _accepts(accept, m)) or "other"
