"""Stage 3: check the pixels decode, then make the web samples (one decode for both).

For complex formats the samples are made from the proxy (proxy.py), not the original.
"""

from pathlib import Path

import pyvips

from ingest_worker.errors import StageError
from shared import imaging, pyramid
from shared.keys import derivative_key
from shared.manifest import DerivativeInfo, ImageInfo
from shared.settings import Settings
from shared.storage import ObjectStore

STAGE = "render"
# Without samples we still decode once, small (shrink-on-load makes it cheap), so a
# truncated or corrupt file fails here rather than at the first /render.
CHECK_SIDE = 256


def inspect(path: Path, settings: Settings, icc: str | None) -> tuple[ImageInfo, imaging.Header]:
    try:
        header = imaging.probe(path, settings.max_source_pixels)
    except imaging.TooManyPixels as exc:
        raise StageError(STAGE, "too_many_pixels", str(exc)) from exc
    except imaging.ImageDecodeError as exc:
        raise StageError(STAGE, "decode_error", f"cannot read the image: {exc}") from exc
    return header.image_info(icc), header


def make_samples(
    asset_id: str,
    path: Path,
    header: imaging.Header,
    settings: Settings,
    store: ObjectStore,
    pre_render_sizes: bool,
    pyramid_of: str | None = None,
) -> tuple[dict[str, DerivativeInfo], pyvips.Image]:
    """Decode once at the largest size needed, then derive the smaller samples from memory.

    `pyramid_of` (the upload's sha256) asks for `pyramid.tif` too, from the same decode.
    Also returns the samples' decoded image (sRGB, in memory) for placeholders.
    """
    side = settings.optimized_side if pre_render_sizes else CHECK_SIDE
    with_pyramid = (
        pyramid_of is not None
        and settings.render_pyramid
        and pyramid.wanted(header.width, header.height)
    )
    decode_side = side
    if with_pyramid:  # one decode for both: large enough for the pyramid's page 0
        decode_side = max(side, pyramid.decode_side(header.width, header.height, header.has_alpha))
    to_srgb = header.has_icc or header.interpretation == "cmyk"
    try:
        full = imaging.thumbnail(path, decode_side, decode_side, to_srgb=to_srgb, validate=True)
        full = imaging.in_memory(imaging.web_ready(full))
    except imaging.ImageDecodeError as exc:
        raise StageError(STAGE, "decode_error", f"cannot decode the image: {exc}") from exc
    out: dict[str, DerivativeInfo] = {}
    if with_pyramid and full.bands in (3, 4):  # grey images keep rendering from the original
        out["pyramid"] = _put_pyramid(asset_id, full, header, pyramid_of, store)
    base = full
    if decode_side > side:
        base = imaging.in_memory(full.thumbnail_image(side, height=side, size="down"))
    if not pre_render_sizes:
        return out, base
    side = settings.thumb_side
    samples = {
        "optimized": (base, settings.optimized_quality),
        "thumb": (base.thumbnail_image(side, height=side, size="down"), 75),
    }
    for name, (image, quality) in samples.items():
        data = imaging.encode(image, "webp", quality)
        key = derivative_key(asset_id, name)
        store.put_bytes(key, data, "image/webp")
        out[name] = DerivativeInfo(key=key, width=image.width, height=image.height, bytes=len(data))
    return out, base


def _put_pyramid(
    asset_id: str, image: pyvips.Image, header: imaging.Header, sha256: str, store: ObjectStore
) -> DerivativeInfo:
    made = pyramid.make(image, header.width, header.height)
    key = derivative_key(asset_id, "pyramid")
    store.put_bytes(key, made.data, pyramid.MEDIA_TYPE)
    return DerivativeInfo(
        key=key,
        width=made.width,
        height=made.height,
        bytes=len(made.data),
        levels=made.levels,
        source_sha256=sha256,
    )
