"""`fm=auto`: the best output format the client's Accept header allows."""

from shared.imaging import OutputFormat


def _accepts(accept: str, mime: str) -> bool:
    """`mime` is listed by name with q > 0 (`q=0`, `q=0.0`, ... mean "not acceptable")."""
    for part in accept.lower().split(","):
        media, *params = part.split(";")
        if media.strip() == mime:
            return _quality(params) > 0
    return False


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0  # unreadable: do not bet a format on it
    return 1.0


def pick_format(accept: str | None, has_alpha: bool) -> OutputFormat:
    """AVIF, then WebP, then JPEG — PNG instead of JPEG when alpha must survive."""
    accept = accept or ""
    if _accepts(accept, "image/avif"):
        return "avif"
    if _accepts(accept, "image/webp"):
        return "webp"
    return "png" if has_alpha else "jpeg"
