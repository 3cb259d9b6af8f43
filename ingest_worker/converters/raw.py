"""Camera RAW through LibRaw (rawpy): the camera's full-size JPEG preview when it has one,
else a demosaic (AHD, camera white balance, sRGB, 8-bit) with the camera's flip applied."""

from pathlib import Path

import pyvips
import rawpy

from shared import imaging

# LibRaw's flip codes → the rotation that makes the preview upright.
_ROTATE = {3: "d180", 5: "d270", 6: "d90"}


def decode(path: Path, max_pixels: int) -> tuple[pyvips.Image, dict]:
    try:
        with rawpy.imread(str(path)) as raw:
            sizes = raw.sizes
            width, height = sizes.width, sizes.height
            if sizes.flip in (5, 6):
                width, height = height, width
            if width * height > max_pixels:
                raise imaging.TooManyPixels(width, height, max_pixels)
            facts = {
                "orientation": _EXIF_ORIENTATION.get(sizes.flip, 1),
                "pages": 1,
                "animated": False,
                "has_alpha": False,
                "has_icc": False,
            }
            preview = _full_size_preview(raw, sizes.width, sizes.height)
            if preview is not None:
                image = preview.rot(_ROTATE[sizes.flip]) if sizes.flip in _ROTATE else preview
                return image, facts
            rgb = raw.postprocess(use_camera_wb=True, output_bps=8)
    except rawpy.LibRawError as exc:
        raise imaging.ImageDecodeError(f"LibRaw: {_describe(exc)}") from exc
    height, width, bands = rgb.shape
    # Shares the numpy buffer, no copy: pyvips keeps a reference to it for the image's life.
    image = pyvips.Image.new_from_memory(rgb.data, width, height, bands, "uchar")
    return image.copy(interpretation="srgb"), facts


def _full_size_preview(raw: rawpy.RawPy, width: int, height: int) -> pyvips.Image | None:
    """The embedded JPEG when it is (nearly) the sensor's size: a camera-rendered proxy."""
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawError, ValueError):
        return None
    if thumb.format != rawpy.ThumbFormat.JPEG:
        return None
    try:
        image = pyvips.Image.new_from_buffer(bytes(thumb.data), "")
    except pyvips.Error:
        return None
    if max(image.width, image.height) < 0.95 * max(width, height):
        return None
    return image  # lazy: pyvips copied the JPEG bytes, the decode streams into the proxy


def _describe(exc: rawpy.LibRawError) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if text.startswith("b'"):
        text = text[2:-1]
    return f"{type(exc).__name__.removeprefix('LibRaw')}: {text}"


_EXIF_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
