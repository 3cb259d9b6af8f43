"""Imaging primitives on libvips: header probe, shrink-on-load thumbnails, encoders.

Both the ingest worker and delivery go through these, so "decode once, shrink on load,
strip metadata, output sRGB" is decided in one place.
"""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyvips

from shared.manifest import ImageInfo

# libvips narrates every colour conversion at INFO; keep worker logs for events.
logging.getLogger("pyvips").setLevel(logging.WARNING)

OutputFormat = Literal["jpeg", "png", "webp", "avif", "gif"]

MIME_BY_FORMAT: dict[str, str] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "gif": "image/gif",
}
DEFAULT_QUALITY: dict[str, int] = {"jpeg": 80, "webp": 80, "avif": 50, "png": 100, "gif": 100}

# libvips >= 8.15 replaced `strip` with `keep`; this machine's Debian 12 has 8.14.
KEEP_NONE = {"keep": 0} if pyvips.at_least_libvips(8, 15) else {"strip": True}
# Fail on real decode errors (truncation, corrupt data) instead of returning grey pixels.
LOAD_OPTIONS = "fail_on=error"


class ImageDecodeError(Exception):
    """libvips could not read the image (truncated, corrupt, or not an image)."""


class TooManyPixels(Exception):
    def __init__(self, width: int, height: int, limit: int) -> None:
        super().__init__(
            f"{width}x{height} = {width * height} pixels exceeds the limit of {limit} pixels"
        )


@dataclass(frozen=True)
class Header:
    width: int  # as displayed, after EXIF orientation
    height: int
    orientation: int
    pages: int
    has_alpha: bool
    has_icc: bool
    interpretation: str
    loader: str

    def image_info(self, icc: str | None = None) -> ImageInfo:
        """What a manifest records of an image from its header; `icc` names the profile."""
        return ImageInfo(
            width=self.width,
            height=self.height,
            orientation=self.orientation,
            has_alpha=self.has_alpha,
            pages=self.pages,
            animated=self.pages > 1 and self.loader.startswith(("gif", "webp")),
            icc=icc or ("embedded" if self.has_icc else None),
        )


def probe(path: Path, max_pixels: int) -> Header:
    """Read the header only (no pixel decode) and refuse decompression bombs up front."""
    try:
        image = pyvips.Image.new_from_file(str(path), access="sequential")
    except pyvips.Error as exc:
        raise ImageDecodeError(_reason(exc)) from exc
    fields = set(image.get_fields())
    width, height = image.width, image.height
    pages = image.get("n-pages") if "n-pages" in fields else 1
    page_height = image.get("page-height") if "page-height" in fields else height
    if width * page_height > max_pixels:
        raise TooManyPixels(width, page_height, max_pixels)
    orientation = image.get("orientation") if "orientation" in fields else 1
    if orientation in (5, 6, 7, 8):
        width, page_height = page_height, width
    return Header(
        width=width,
        height=page_height,
        orientation=orientation,
        pages=pages,
        has_alpha=image.hasalpha(),
        has_icc="icc-profile-data" in fields,
        interpretation=str(image.interpretation),
        loader=image.get("vips-loader") if "vips-loader" in fields else "",
    )


def thumbnail(
    source: Path | bytes,
    width: int,
    height: int | None = None,
    *,
    size: str = "down",
    crop: str | None = None,
    to_srgb: bool = True,
    validate: bool = False,
    jpeg_shrink: int = 1,
) -> pyvips.Image:
    """Shrink-on-load resize with EXIF orientation applied.

    `to_srgb` imports with the embedded ICC profile and exports sRGB (CMYK always is);
    pass it only when the source has a profile, as the transform costs time.
    `validate` makes truncated or corrupt pixel data an error instead of grey fill.
    """
    options = _thumbnail_options(height, size, crop, to_srgb)
    if validate:
        options["option_string"] = LOAD_OPTIONS
    try:
        if not validate and (jpeg_shrink > 1 or _file_format(source) == "tiff"):
            # libvips keeps a 2x margin when it picks the JPEG shrink itself; a caller that
            # knows the exact target may decode straight at 1/2, 1/4 or 1/8 (DCT scaling).
            # Of a pyramid, the caller picks the page (libvips would take the smallest one
            # not smaller than the output).
            image = load_sequential(source, jpeg_shrink)
            if _may_premultiply(crop, to_srgb) and _is_rgba8(image):
                return _thumbnail_premultiplied(image, width, options)
            return image.thumbnail_image(width, **options)
        if isinstance(source, bytes):
            return pyvips.Image.thumbnail_buffer(source, width, **options)
        if validate:
            # Only the source variant passes load options through (libvips 8.14).
            src = pyvips.Source.new_from_file(str(source))
            return pyvips.Image.thumbnail_source(src, width, **options)
        if _may_premultiply(crop, to_srgb) and _file_format(source) == "png":
            image = load_sequential(source)
            if _is_rgba8(image):
                return _thumbnail_premultiplied(image, width, options)
        return pyvips.Image.thumbnail(str(source), width, **options)
    except pyvips.Error as exc:
        raise ImageDecodeError(_reason(exc)) from exc


def load_sequential(source: Path | bytes, shrink: int = 1) -> pyvips.Image:
    """Open a file or bytes for one top-to-bottom pass; `shrink` > 1 is a JPEG's DCT
    shrink-on-load, or the page of a pyramid TIFF (shared/pyramid.py) that is `shrink` times
    smaller than page 0."""
    options: dict[str, object] = {"access": "sequential"}
    if shrink > 1 and _file_format(source) == "tiff":
        options["page"] = shrink.bit_length() - 1
    elif shrink > 1:
        options["shrink"] = shrink
    try:
        if isinstance(source, bytes):
            return pyvips.Image.new_from_buffer(source, "", **options)
        return pyvips.Image.new_from_file(str(source), **options)
    except pyvips.Error as exc:
        raise ImageDecodeError(_reason(exc)) from exc


def thumbnail_image(
    image: pyvips.Image,
    width: int,
    height: int | None = None,
    *,
    size: str = "down",
    crop: str | None = None,
    to_srgb: bool = True,
) -> pyvips.Image:
    """`thumbnail` of an already opened (e.g. cut) image, same options."""
    options = _thumbnail_options(height, size, crop, to_srgb)
    try:
        if _may_premultiply(crop, to_srgb) and _is_rgba8(image):
            return _thumbnail_premultiplied(image, width, options)
        return image.thumbnail_image(width, **options)
    except pyvips.Error as exc:
        raise ImageDecodeError(_reason(exc)) from exc


# libvips >= 8.15 premultiplies inside `thumbnail` in 8 bits and truncates twice (after
# premultiply, after unpremultiply): semi-transparent colours come out darker by about
# 0.5 + 128/alpha levels (-1.3 at alpha 200, -3.2 at 40), 45.4 dB after WebP on the bench's
# alpha-gradient crop against 47.3 for thumbor. Premultiplying here with rounding, and
# labelling the bands "multiband" so `thumbnail` does not premultiply again, gives 47.4 dB
# for ~7 % more CPU. 8.14 resizes premultiplied floats: unbiased, and its WebPs of soft
# alpha are a third smaller than any 8-bit path's (4.8 vs 7.2 kB on that crop), so it keeps
# its own. Only for PNG, which is decoded whole anyway, and the page of a render pyramid a
# caller picked (JPEG, WebP and HEIF keep libvips' thumbnail and its shrink-on-load; GIF
# alpha is on/off and animations need thumbnail's page handling).
_ROUNDED_PREMULTIPLY = pyvips.at_least_libvips(8, 15)


def _file_format(path: Path | bytes) -> str | None:
    """By magic number: 16 bytes read, where opening the file would parse its whole header.
    A name with libvips load options (`x.gif[n=-1]`) is no plain file: None here."""
    if isinstance(path, bytes):
        return sniff_format(path[:16])
    try:
        with open(path, "rb") as f:
            return sniff_format(f.read(16))
    except OSError:
        return None


def _may_premultiply(crop: str | None, to_srgb: bool) -> bool:
    """Our premultiply fits plain and centre-cut resizes without colour management."""
    return _ROUNDED_PREMULTIPLY and not to_srgb and crop in (None, "centre")


def _is_rgba8(image: pyvips.Image) -> bool:
    return image.bands == 4 and image.format == "uchar" and image.interpretation == "srgb"


def _thumbnail_premultiplied(image: pyvips.Image, width: int, options: dict) -> pyvips.Image:
    straight = (image.premultiply() + 0.5).cast("uchar").copy(interpretation="multiband")
    out = straight.thumbnail_image(width, **options).copy(interpretation="srgb")
    return (out.unpremultiply() + 0.5).cast("uchar")


def _thumbnail_options(height: int | None, size: str, crop: str | None, to_srgb: bool) -> dict:
    options: dict = {"height": height or 10_000_000, "size": size}
    if crop:
        options["crop"] = crop
    if to_srgb:
        options["export_profile"] = "srgb"
    return options


def in_memory(image: pyvips.Image) -> pyvips.Image:
    """Run the (lazy) pipeline now; decode failures surface here as ImageDecodeError."""
    try:
        return image.copy_memory()
    except pyvips.Error as exc:
        raise ImageDecodeError(_reason(exc)) from exc


def web_ready(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB (or grey) pixels whatever came in: 16-bit, CMYK, Lab, ..."""
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        target = "b-w" if image.bands - int(image.hasalpha()) == 1 else "srgb"
        image = image.colourspace(target)
        if image.format != "uchar":
            image = image.cast("uchar")
    return image


def to_srgb(image: pyvips.Image) -> pyvips.Image:
    """Full-size colour management: embedded ICC (or libvips' CMYK default) to 8-bit sRGB.

    For proxies, where the whole frame is converted once; 16-bit, Lab and grey sources end
    as 8-bit sRGB or grey, alpha kept.
    """
    fields = set(image.get_fields())
    if "icc-profile-data" in fields or image.interpretation == "cmyk":
        try:
            image = image.icc_transform("srgb", embedded=True, input_profile="cmyk")
        except pyvips.Error:
            # A broken or unusual profile: fall back to libvips' own colour conversion.
            image = image.copy()
            image.remove("icc-profile-data")
    return web_ready(image)


def save_jpeg(image: pyvips.Image, path: Path, quality: int) -> None:
    """Write a baseline sRGB JPEG (alpha flattened on white), metadata stripped."""
    image = web_ready(image)
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    try:
        image.jpegsave(str(path), Q=quality, optimize_coding=True, **KEEP_NONE)
    except pyvips.Error as exc:
        raise ImageDecodeError(_reason(exc)) from exc


def save_png(image: pyvips.Image, path: Path, compression: int) -> None:
    """Write an 8-bit sRGB (or grey) PNG with its alpha, metadata stripped."""
    try:
        web_ready(image).pngsave(str(path), compression=compression, **KEEP_NONE)
    except pyvips.Error as exc:
        raise ImageDecodeError(_reason(exc)) from exc


# Header fields that carry the source's metadata. libvips 8.14's webpsave (and heifsave)
# ignore `strip`, so they are removed from the image itself before any save.
_METADATA_PREFIXES = ("exif-", "xmp-", "iptc-", "icc-", "jpeg-thumbnail", "orientation")


def strip_metadata(image: pyvips.Image) -> pyvips.Image:
    names = [n for n in image.get_fields() if n.startswith(_METADATA_PREFIXES)]
    if not names:
        return image
    image = image.copy()  # a new header: the source image is shared and must not change
    for name in names:
        image.remove(name)
    return image


def encode(
    image: pyvips.Image,
    fmt: OutputFormat,
    quality: int | None = None,
    background: list[float] | None = None,
) -> bytes:
    """Encode with metadata stripped; flattens alpha onto `background` for JPEG."""
    q = quality or DEFAULT_QUALITY[fmt]
    image = strip_metadata(web_ready(image))
    try:
        if fmt == "jpeg":
            if image.hasalpha():
                image = image.flatten(background=background or [255, 255, 255])
            return image.jpegsave_buffer(Q=q, optimize_coding=True, **KEEP_NONE)
        if fmt == "webp":
            return image.webpsave_buffer(Q=q, **KEEP_NONE)
        if fmt == "png":
            return image.pngsave_buffer(compression=6, **KEEP_NONE)
        if fmt == "avif":
            return image.heifsave_buffer(Q=q, compression="av1", effort=2, **KEEP_NONE)
        if fmt == "gif":
            return image.gifsave_buffer(**KEEP_NONE)
    except pyvips.Error as exc:
        raise ImageDecodeError(_reason(exc)) from exc
    raise ValueError(f"unknown output format {fmt!r}")


def sniff_format(data: bytes) -> str | None:
    """Output format of encoded bytes by magic number (used by tests and safety checks)."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        return "avif"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"  # not an output format: the render pyramid
    return None


def _reason(exc: pyvips.Error) -> str:
    """The most specific line of a libvips error (the last one names the decoder's complaint)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1] if lines else "unreadable image"
