"""Known images for the AI tests: scikit-image's bundled samples, and rendered text."""

import numpy as np
import pytest
import pyvips


def skimage_jpeg(name: str) -> bytes:
    """A `skimage.data` image (shipped inside the scikit-image wheel) as JPEG bytes."""
    data = pytest.importorskip("skimage.data")
    array = np.asarray(getattr(data, name)())
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    image = pyvips.Image.new_from_array(np.ascontiguousarray(array[..., :3]))
    return image.copy(interpretation="srgb").jpegsave_buffer(Q=92)


def text_jpeg(text: str, dpi: int = 200) -> bytes:
    """Black text on white, rendered by libvips with a font from the system list."""
    mask = pyvips.Image.text(text, dpi=dpi, font="DejaVu Sans")
    ink = (255 - mask).cast("uchar")
    page = ink.bandjoin([ink, ink]).copy(interpretation="srgb")
    page = page.embed(40, 40, mask.width + 80, mask.height + 80, background=[255, 255, 255])
    return page.jpegsave_buffer(Q=92)


_provider = None


def local_provider_once():
    """The local provider with its models loaded once per test session (skip without `ai`)."""
    global _provider
    pytest.importorskip("torch", reason='the `ai` extra is not installed (pip install ".[ai]")')
    if _provider is None:
        from shared.ai.local.provider import LocalProvider

        provider = LocalProvider()
        provider.check()
        _provider = provider
    return _provider
