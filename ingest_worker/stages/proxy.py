"""Stage 3a: `proxy.jpg`, a full-size sRGB JPEG for formats browsers cannot show, and
`proxy.png` beside it when the image has transparency.

HEIC/HEIF/AVIF/TIFF/JPEG 2000/JPEG XL/PDF-based Illustrator through libvips, PSD/PSB
through libvips' ImageMagick loader (the flattened composite), camera RAW through LibRaw
(rawpy), EPS/PS through Ghostscript in a bounded subprocess, SVG through librsvg with
nothing fetched. Every path: pixel limit checked from the header first, EXIF orientation
applied, colour-managed to 8-bit sRGB, alpha flattened on white, JPEG at PROXY_QUALITY.
An image whose alpha is not opaque everywhere (vectors, drawn on a clear canvas — SVG,
EPS, Illustrator —, PSD and HEIC/TIFF cut-outs) also keeps it in `proxy.png`: DESIGN.md's
proxy is a JPEG, but a logo rendered to PNG/WebP or used as a watermark must stay
transparent, as imgproxy and thumbor keep it.
The web samples and delivery then read a proxy, never the original again.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import pyvips

from ingest_worker.converters import ghostscript, svg_safety
from ingest_worker.errors import StageError
from ingest_worker.stages.sniff import Sniffed
from shared import imaging, process
from shared.settings import Settings

STAGE = "render"
PROXY_QUALITY = 92
# zlib level for proxy.png: 3 writes a 12 MP RGBA photo in 1.7 s against 4.0 s at 6, within
# 1 % of its bytes; decoding costs the same at every level.
PROXY_PNG_COMPRESSION = 3
# Vectors have no pixel size: rasterise so the long side is at least this (never above the
# pixel limit), enough for a sharp 2048 px optimized sample.
VECTOR_LONG_SIDE = 2048
_BBOX = re.compile(rb"%%BoundingBox:\s*(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)")


@dataclass(frozen=True)
class Proxy:
    path: Path
    alpha_path: Path | None  # proxy.png, when the image has transparency
    width: int  # upright, as displayed
    height: int
    orientation: int  # the tag the original carried (already applied to the proxy)
    pages: int
    animated: bool
    has_alpha: bool
    has_icc: bool


def make(sniffed: Sniffed, path: Path, workdir: Path, settings: Settings) -> Proxy:
    """Decode the original once at full size and write `workdir/proxy.jpg` (and
    `workdir/proxy.png` when it has transparency)."""
    out = workdir / "proxy.jpg"
    decode = _DECODERS[sniffed.family]
    try:
        image, facts = decode(path, workdir, settings)
        image, alpha_path = _keep_transparency(imaging.to_srgb(image), workdir)
        imaging.save_jpeg(image, out, PROXY_QUALITY)
    except imaging.TooManyPixels as exc:
        raise StageError(STAGE, "too_many_pixels", str(exc)) from exc
    except (imaging.ImageDecodeError, pyvips.Error) as exc:
        reason = imaging._reason(exc) if isinstance(exc, pyvips.Error) else str(exc)
        raise StageError(STAGE, "decode_error", f"cannot decode the image: {reason}") from exc
    written = pyvips.Image.new_from_file(str(out))
    facts["has_alpha"] = alpha_path is not None  # what renders can show, not the band count
    return Proxy(out, alpha_path, written.width, written.height, **facts)


def _keep_transparency(image: pyvips.Image, workdir: Path) -> tuple[pyvips.Image, Path | None]:
    """Write `proxy.png` when `image` has an alpha band that is not opaque everywhere.

    Returns the image to make the JPEG from: the PNG just written (the source is decoded
    once, the PNG twice more, cheaply), else `image` itself. An alpha band that is opaque
    everywhere (an SVG with a full background) leaves its PNG in the work folder unused.
    """
    if not image.hasalpha():
        return image, None
    out = workdir / "proxy.png"
    imaging.save_png(image, out, PROXY_PNG_COMPRESSION)
    alpha = _open(out, access="sequential")
    transparent = alpha[alpha.bands - 1].min() < 255
    return _open(out, access="sequential"), out if transparent else None


def _check_pixels(width: int, height: int, settings: Settings) -> None:
    if width * height > settings.max_source_pixels:
        raise imaging.TooManyPixels(width, height, settings.max_source_pixels)


def _facts(image: pyvips.Image, orientation: int = 1, pages: int | None = None) -> dict:
    fields = set(image.get_fields())
    n_pages = pages or (image.get("n-pages") if "n-pages" in fields else 1)
    return {
        "orientation": orientation,
        "pages": n_pages,
        "animated": False,
        "has_alpha": image.hasalpha(),
        "has_icc": "icc-profile-data" in fields,
    }


def _open(path: Path, **options) -> pyvips.Image:
    try:
        return pyvips.Image.new_from_file(str(path), **options)
    except pyvips.Error as exc:
        raise imaging.ImageDecodeError(imaging._reason(exc)) from exc


def _vips(path: Path, _workdir: Path, settings: Settings) -> tuple[pyvips.Image, dict]:
    """HEIF (primary image), AVIF, TIFF (first page), JP2, JXL, PDF-based AI (first page)."""
    image = _open(path)  # header only: libvips decodes lazily
    if image.get("vips-loader").startswith("pdfload"):
        return _pdf_page(path, image, settings)
    page_height = image.get("page-height") if "page-height" in image.get_fields() else None
    _check_pixels(image.width, page_height or image.height, settings)
    if page_height and page_height != image.height:
        image = _open(path, page=0, n=1)
    orientation = image.get("orientation") if "orientation" in image.get_fields() else 1
    facts = _facts(image, orientation)
    return image.autorot(), facts


def _pdf_page(path: Path, header: pyvips.Image, settings: Settings) -> tuple[pyvips.Image, dict]:
    scale = max(1.0, min(8.0, VECTOR_LONG_SIDE / max(header.width, header.height, 1)))
    _check_pixels(round(header.width * scale), round(header.height * scale), settings)
    # A clear page, as Illustrator shows its artboard and exports for screens: a logo keeps
    # its transparency (documents, in documents.py, are drawn on white).
    image = _open(path, page=0, scale=scale, background=[255, 255, 255, 0])
    return image, _facts(image, pages=header.get("n-pages"))


def _psd(path: Path, _workdir: Path, settings: Settings) -> tuple[pyvips.Image, dict]:
    """Photoshop's merged composite: ImageMagick lists it first in a PSD/PSB."""
    image = _open(path, page=0, n=1)
    _check_pixels(image.width, image.height, settings)
    return image, _facts(image, pages=1)


def _svg(path: Path, _workdir: Path, settings: Settings) -> tuple[pyvips.Image, dict]:
    try:
        data = svg_safety.read_checked(path)  # refuses entities and DTDs
    except svg_safety.UnsafeSvg as exc:
        raise StageError(STAGE, exc.code, str(exc)) from exc
    # From a buffer librsvg has no base URL, so it resolves no external href (file or net).
    try:
        header = pyvips.Image.svgload_buffer(data)
    except pyvips.Error as exc:
        raise imaging.ImageDecodeError(imaging._reason(exc)) from exc
    _check_pixels(header.width, header.height, settings)
    # Up to VECTOR_LONG_SIDE, never past the pixel limit, never below the declared size.
    room = (settings.max_source_pixels / max(header.width * header.height, 1)) ** 0.5
    scale = max(1.0, min(VECTOR_LONG_SIDE / max(header.width, header.height, 1), room))
    image = pyvips.Image.svgload_buffer(data, scale=scale)
    return image, _facts(image, pages=1)


def _postscript(path: Path, workdir: Path, settings: Settings) -> tuple[pyvips.Image, dict]:
    """EPS/PS through Ghostscript with -dSAFER: no file, device or pipe operators."""
    with open(path, "rb") as f:
        head = f.read(256 * 1024)
    box = _BBOX.search(head)
    width_pt, height_pt = 612.0, 792.0  # US Letter when the file states no bounding box
    if box:
        x0, y0, x1, y1 = (float(v) for v in box.groups())
        width_pt, height_pt = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    dpi = max(72.0, min(600.0, 72.0 * VECTOR_LONG_SIDE / max(width_pt, height_pt)))
    _check_pixels(round(width_pt * dpi / 72), round(height_pt * dpi / 72), settings)
    try:
        out = ghostscript.to_png(
            path, workdir / "ghostscript.png", dpi, workdir, settings.convert_timeout_seconds
        )
    except process.ConverterTimeout as exc:
        raise StageError(STAGE, "conversion_timeout", str(exc)) from exc
    except ghostscript.ForbiddenOperation as exc:
        raise StageError(STAGE, "forbidden_operation", str(exc)) from exc
    except ghostscript.ConversionFailed as exc:
        raise imaging.ImageDecodeError(str(exc)) from exc
    image = _open(out)  # RGBA, clear where nothing was painted
    return image, _facts(image, pages=1)


def _raw(path: Path, _workdir: Path, settings: Settings) -> tuple[pyvips.Image, dict]:
    from ingest_worker.converters import raw  # rawpy + numpy only for RAW files

    return raw.decode(path, settings.max_source_pixels)


_DECODERS = {
    "vips": _vips,
    "psd": _psd,
    "svg": _svg,
    "postscript": _postscript,
    "raw": _raw,
}
