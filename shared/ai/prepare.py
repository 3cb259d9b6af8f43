"""Any source image → a model-ready JPEG within a provider's side and byte limits.

Rekognition takes at most 5 MB of image bytes, Titan image embeddings and Claude want a
long side near 1568 px; a 50 MP original is never sent as is. Shrink-on-load keeps this cheap.
"""

from pathlib import Path

import pyvips

from shared import imaging


def model_jpeg(source: Path | bytes, max_side: int, max_bytes: int, quality: int = 88) -> bytes:
    """sRGB JPEG, EXIF orientation applied, alpha flattened on white, within both limits."""
    side = max_side
    while True:
        image = imaging.in_memory(imaging.thumbnail(source, side, side, to_srgb=True))
        data = imaging.encode(image, "jpeg", quality)
        if len(data) <= max_bytes or side <= 64:
            return data
        side = int(side * 0.75)  # rarely needed: a noisy image at the side limit


def rgb_array(jpeg: bytes, max_side: int | None = None):
    """Decoded HxWx3 uint8 numpy array (what the local models take)."""
    image = pyvips.Image.new_from_buffer(jpeg, "")
    if max_side and max(image.width, image.height) > max_side:
        image = image.thumbnail_image(max_side, height=max_side)
    return image_rgb_array(image)


def image_rgb_array(image: pyvips.Image):
    """Any libvips image → contiguous HxWx3 uint8 array (alpha flattened on white)."""
    import numpy as np

    image = imaging.web_ready(image)
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    if image.bands == 1:
        image = image.bandjoin([image, image])
    array = np.ndarray(
        buffer=image.write_to_memory(),
        dtype=np.uint8,
        shape=(image.height, image.width, image.bands),
    )
    return np.ascontiguousarray(array[..., :3])
