"""Which object a render reads: the original for web-native images, else a derivative;
the pyramid (`pyramid.tif`) instead of either when its largest page holds enough pixels.

Complex images and vectors with transparency have two proxies: `proxy.png` keeps the alpha
and is read whenever the output can show it (or flattens it on a chosen `bg`); `proxy.jpg`,
flattened on white, serves the JPEG outputs that would flatten on white anyway, decoded at
1/2-1/8 scale where the PNG would be decoded whole.
"""

from dataclasses import dataclass

from shared.errors import PicshaError
from shared.keys import derivative_key, original_key
from shared.manifest import Manifest


@dataclass(frozen=True)
class RenderSource:
    key: str
    width: int
    height: int
    has_icc: bool  # the object embeds a colour profile: convert to sRGB on the way
    animated: bool = False
    is_jpeg: bool = False  # the object is a JPEG: delivery may pick the DCT shrink-on-load
    has_alpha: bool = False
    levels: int = 0  # a pyramid's pages, each half the one before (page 0 is width x height)
    full_size: tuple[int, int] | None = None  # a pyramid's: the image it was made from


def check_ready(manifest: Manifest) -> None:
    """409 while ingest works on the asset, 422 when it failed."""
    if manifest.status in ("queued", "processing"):
        raise PicshaError(
            409,
            "asset_not_ready",
            f"asset is {manifest.status}; retry shortly",
            headers={"Retry-After": "1"},
        )
    if manifest.status == "failed":
        reason = manifest.error.message if manifest.error else "processing failed"
        raise PicshaError(422, "asset_failed", f"asset cannot be rendered: {reason}")


def choose(manifest: Manifest, keep_alpha: bool = True) -> RenderSource:
    check_ready(manifest)
    derivatives = manifest.derivatives
    if manifest.kind == "image" and manifest.image:
        image = manifest.image
        return RenderSource(
            original_key(manifest.id),
            image.width,
            image.height,
            bool(image.icc),
            image.animated,
            is_jpeg=manifest.source.mime == "image/jpeg",
            has_alpha=image.has_alpha,
        )
    names = ("proxy_alpha", "proxy", "poster") if keep_alpha else ("proxy", "poster")
    for name in names:  # proxies and posters are written as plain sRGB
        if name in derivatives and derivatives[name].width:
            d = derivatives[name]
            key = derivative_key(manifest.id, name)
            alpha = name == "proxy_alpha"
            return RenderSource(key, d.width, d.height or 0, False, is_jpeg=not alpha,
                                has_alpha=alpha)  # fmt: skip
    raise PicshaError(415, "not_renderable", f"a {manifest.kind} asset has no image to render")


def pyramid(manifest: Manifest, src: RenderSource, scale: float | None) -> RenderSource | None:
    """The pyramid instead of `src` when a render at `scale` (output px per px of `src`; None:
    at the source's own pixels) needs no more than its page 0 holds, else None.

    Only a pyramid made from this very upload counts (its source_sha256), and never for
    animations, which it does not hold.
    """
    info = manifest.derivatives.get("pyramid")
    if scale is None or info is None or src.animated or not (info.width and info.height):
        return None
    if info.source_sha256 != manifest.source.sha256 or not info.levels:
        return None
    if src.width * scale > info.width or src.height * scale > info.height:
        return None
    full = (src.width, src.height)
    return RenderSource(info.key, info.width, info.height, False, levels=info.levels,
                        full_size=full)  # fmt: skip
