"""Which object a render reads: the original for web-native images, else a derivative.

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


def choose(manifest: Manifest, keep_alpha: bool = True) -> RenderSource:
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
