"""The render pyramid (`assets/{id}/pyramid.tif`): one tiled, multi-resolution image made at
ingest, so that delivery decodes a few small tiles instead of the whole original.

Page 0 is half the source's size, each next page half the previous (sides rounded up), down
to the first page that fits in one tile. The full size is not stored: it would cost about as
many bytes as the original again, and an output that needs more than half the source's
pixels reads the original (or proxy) as before. Opaque pages are JPEG tiles at Q90, which
libvips writes without chroma subsampling; pages with alpha are deflate tiles (lossless:
libtiff's JPEG has no alpha, and WebP's 4:2:0 chroma cost 0.4-1.6 dB). Measurements in
docs/decisions.md.

The pages are made here (lanczos3 in float, alpha premultiplied, rounded). libvips' own
`tiffsave(pyramid=True)` builds each level as a 2x2 mean that truncates: every level came out
~0.45 grey levels darker than the one above on the bench photo. The JPEG pages are written
by libvips one by one and tifffile copies their compressed tiles, untouched, into one
multi-page file; tifffile deflates the alpha pages itself.
"""

import io
import math
from dataclasses import dataclass

import pyvips
import tifffile

from shared.imaging import KEEP_NONE

TILE = 256
JPEG_QUALITY = 90  # libvips turns chroma subsampling off from Q90: colour stays sharp
DEFLATE_LEVEL = 1  # 24 MP RGBA: 1.2 s, 8.7 MB; level 6: 2.6 s, 6.9 MB (37 MB PNG)
# Below this long side the original decodes fast enough whole: no pyramid.
MIN_SOURCE_SIDE = 1024
MEDIA_TYPE = "image/tiff"
# TIFF tag numbers
_COMPRESSION, _PHOTOMETRIC, _JPEG_TABLES, _REFERENCE_BLACK_WHITE = 259, 262, 347, 532


@dataclass(frozen=True)
class Pyramid:
    data: bytes
    width: int  # page 0
    height: int
    levels: int  # pages: page k is page 0 shrunk 2**k times


def wanted(width: int, height: int) -> bool:
    return max(width, height) >= MIN_SOURCE_SIDE


def base_size(width: int, height: int) -> tuple[int, int]:
    """Page 0's size for a source of `width` x `height`."""
    return _half(width), _half(height)


def decode_side(width: int, height: int, has_alpha: bool) -> int:
    """The box the source must be decoded into for `make`: page 0's, or the full size with
    alpha (libvips 8.14, which ingest runs, truncates after resizing an image with alpha:
    colours 0.5 levels too dark, -0.5 to -1.6 dB in the renders)."""
    return max(width, height) if has_alpha else max(base_size(width, height))


def make(image: pyvips.Image, source_width: int, source_height: int) -> Pyramid:
    """The pyramid of a source of `source_width` x `source_height`, from its upright 8-bit
    sRGB pixels (RGB or RGBA) decoded into the `decode_side` box."""
    width, height = base_size(source_width, source_height)
    page = _resize(image, width, height)
    pages = [page]
    while max(page.width, page.height) > TILE:
        page = _resize(page, _half(page.width), _half(page.height))
        pages.append(page)
    out = io.BytesIO()
    codings: list[tuple[int, int] | None] = []
    with tifffile.TiffWriter(out) as writer:
        for index, page in enumerate(pages):
            if page.hasalpha():
                _write_deflate(page, writer, reduced=index > 0)
                codings.append(None)
            else:
                codings.append(_copy_jpeg_tiles(_jpeg_tiff(page), writer, reduced=index > 0))
    out.seek(0)
    with tifffile.TiffFile(out, mode="r+b") as tif:
        for page, coding in zip(tif.pages, codings, strict=True):
            if coding:
                page.tags[_COMPRESSION].overwrite(coding[0])
                page.tags[_PHOTOMETRIC].overwrite(coding[1])
    return Pyramid(out.getvalue(), width, height, len(pages))


def _half(side: int) -> int:
    return max(1, math.ceil(side / 2))


def _resize(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """Lanczos3 to exactly `width` x `height`, alpha premultiplied, rounded to 8 bits."""
    if (image.width, image.height) == (width, height):
        return image
    alpha = image.hasalpha()
    work = image.premultiply() if alpha else image.cast("float")
    work = work.resize(width / image.width, vscale=height / image.height, kernel="lanczos3")
    if alpha:
        work = work.unpremultiply()
    out = (work + 0.5).cast("uchar").copy(interpretation="srgb")
    return out.crop(0, 0, width, height).copy_memory()


def _jpeg_tiff(page: pyvips.Image) -> bytes:
    return page.tiffsave_buffer(tile=True, tile_width=TILE, tile_height=TILE, compression="jpeg",
                                Q=JPEG_QUALITY, **KEEP_NONE)  # fmt: skip


def _write_deflate(page: pyvips.Image, writer: tifffile.TiffWriter, reduced: bool) -> None:
    """Lossless tiles for pages with alpha."""
    writer.write(
        page.numpy(),
        photometric="rgb",
        extrasamples=("unassalpha",),
        tile=(TILE, TILE),
        compression="zlib",
        compressionargs={"level": DEFLATE_LEVEL},
        predictor=True,
        subfiletype=1 if reduced else 0,
        metadata=None,
        software=False,
    )


def _copy_jpeg_tiles(data: bytes, writer: tifffile.TiffWriter, reduced: bool) -> tuple[int, int]:
    """Append the one page of a tiled TIFF to `writer`, its compressed tiles as they are.

    tifffile encodes JPEG only through imagecodecs, so the page is declared with a codec it
    has (zlib; tiles given as bytes are written as they are) and an RGB photometric, with the
    JPEG tables beside them; returns the Compression and Photometric values the caller then
    sets on it.
    """
    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        page = tif.pages.first
        tags = {tag.code: tag for tag in page.tags}
        extratags = [
            (code, tags[code].dtype, tags[code].count, tags[code].value, True)
            for code in (_JPEG_TABLES, _REFERENCE_BLACK_WHITE)
            if code in tags
        ]
        tiles = (
            data[offset : offset + count]
            for offset, count in zip(page.dataoffsets, page.databytecounts, strict=True)
        )
        writer.write(
            tiles,
            shape=page.shape,
            dtype=page.dtype,
            photometric="rgb",
            planarconfig=page.planarconfig,
            extrasamples=page.extrasamples,
            tile=(page.tilelength, page.tilewidth),
            compression="zlib",
            subfiletype=1 if reduced else 0,  # TIFF's "reduced-resolution version"
            extratags=extratags,
            metadata=None,
            software=False,
        )
        return int(page.compression), int(page.photometric)
