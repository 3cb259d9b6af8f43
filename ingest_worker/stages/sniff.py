"""Stage 1: the true type from magic bytes (libmagic), never from the name or client.

libmagic alone is not enough for three families, each settled from the bytes as well:
camera RAW (most are TIFF containers, some are unknown to libmagic; LibRaw's header parser
decides), OOXML documents libmagic calls a plain zip/octet-stream, and Markdown (text).
"""

import gzip
import zipfile
from dataclasses import dataclass
from pathlib import Path

import magic

from ingest_worker.errors import StageError

STAGE = "sniff"

# Families say which decoder makes the asset viewable; kinds are what the manifest shows.
# web: browsers show it, rendered from the original · vips: libvips decodes it to a proxy
# raw: LibRaw · psd: libvips through ImageMagick · postscript: Ghostscript
# svg: libvips (librsvg) after a safety check · office: LibreOffice → PDF
# markdown/text: HTML → PDF · pdf: poster straight from the PDF
# media: ffmpeg (video or audio; the streams ffprobe finds settle which, stages/media.py)
WEB_NATIVE = {"image/jpeg", "image/png", "image/webp", "image/gif"}
VIPS_IMAGES = {
    "image/heic",
    "image/heif",
    "image/heic-sequence",
    "image/heif-sequence",
    "image/avif",
    "image/tiff",
    "image/jp2",
    "image/jxl",
}
RAW_MIMES = {
    "image/x-canon-cr2",
    "image/x-canon-crw",
    "image/x-fuji-raf",
    "image/x-olympus-orf",
    "image/x-x3f",
    "image/x-panasonic-rw2",
    "image/x-minolta-mrw",
}
PSD_MIMES = {"image/vnd.adobe.photoshop"}
POSTSCRIPT_MIMES = {"application/postscript", "image/x-eps"}
SVG_MIMES = {"image/svg+xml"}
OFFICE_MIMES = {
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
    "application/rtf",
    "text/rtf",
}
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MARKDOWN_MIME = "text/markdown"
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")
# libmagic's names for containers of moving pictures or sound; "video/..." may still hold
# only sound (an .mp4 of a podcast), which the media stage finds out from the streams.
_OGG_MIMES = {"application/ogg", "audio/ogg", "video/ogg"}
_RAW_CANDIDATES = {"image/tiff", "application/octet-stream"} | RAW_MIMES
# An Illustrator file since CS is a PDF with Illustrator's private data: a vector, not a document.
# Marks long enough not to turn up by chance in compressed streams.
_ILLUSTRATOR_MARKS = (
    b"<xmp:CreatorTool>Adobe Illustrator",  # CS and later: XMP packet
    b"/Creator (Adobe Illustrator",  # PDF Info dictionary
    b"%%AI",  # %%AI8_CreatorVersion & co: Illustrator's private PostScript comments
)


@dataclass(frozen=True)
class Sniffed:
    mime: str
    kind: str  # image | complex_image | vector | document | video | audio
    family: str = "web"


def sniff(path: Path, filename: str | None = None) -> Sniffed:
    if path.stat().st_size == 0:
        raise StageError(STAGE, "empty_file", "the file is empty (0 bytes)")
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
    mime = magic.from_buffer(head, mime=True)
    if mime == "application/octet-stream" and head.startswith(b"ID3"):
        mime = _after_id3(path, head) or mime
    if mime == "application/octet-stream" and _is_mpeg_ts(head):
        mime = "video/mp2t"
    if mime in WEB_NATIVE:
        return Sniffed(mime, "image", "web")
    if mime in RAW_MIMES or (mime in _RAW_CANDIDATES and _is_camera_raw(path)):
        return Sniffed(mime if mime in RAW_MIMES else _raw_mime(head), "complex_image", "raw")
    if mime in VIPS_IMAGES:
        return Sniffed(mime, "complex_image", "vips")
    if mime in PSD_MIMES:
        return Sniffed(mime, "complex_image", "psd")
    if mime in POSTSCRIPT_MIMES:
        return Sniffed(mime, "vector", "postscript")
    if mime in SVG_MIMES or (mime == "application/gzip" and _is_svgz(path)):
        return Sniffed("image/svg+xml", "vector", "svg")
    if mime == "application/pdf":
        if any(mark in head for mark in _ILLUSTRATOR_MARKS):
            return Sniffed("application/illustrator", "vector", "vips")
        return Sniffed(mime, "document", "pdf")
    if mime in OFFICE_MIMES:
        return Sniffed(mime, "document", "office")
    if mime == "application/x-ole-storage" and _is_word97(path):
        return Sniffed("application/msword", "document", "office")
    if mime in ("application/zip", "application/octet-stream") and _is_docx(path):
        return Sniffed(DOCX_MIME, "document", "office")
    if mime.startswith("video/") or mime in _OGG_MIMES - {"audio/ogg"}:
        return Sniffed(mime, "video", "media")
    if mime.startswith("audio/"):
        return Sniffed(mime, "audio", "media")
    if mime.startswith("text/") and _is_utf8_text(head):
        # Markdown has no magic bytes: the name picks the presentation (Markdown or plain
        # text), never the decoder's trust; both are rendered as text to HTML to PDF.
        if filename and filename.lower().endswith(MARKDOWN_SUFFIXES):
            return Sniffed(MARKDOWN_MIME, "document", "markdown")
        if mime == "text/plain":
            return Sniffed(mime, "document", "text")
    raise StageError(STAGE, "unsupported_type", f"unsupported file type {mime}")


def _is_camera_raw(path: Path) -> bool:
    """LibRaw identifies RAW from its header parser alone (no pixel decode, ~1 ms)."""
    import rawpy  # imported here: only RAW candidates pay for numpy + LibRaw

    try:
        with rawpy.imread(str(path)):
            return True
    except (rawpy.LibRawError, OSError, ValueError):
        return False


def _raw_mime(head: bytes) -> str:
    """A specific type for RAW files libmagic calls TIFF or octet-stream."""
    if head[4:12] == b"ftypcrx ":
        return "image/x-canon-cr3"
    if head[:4] == b"IIU\x00":
        return "image/x-panasonic-rw2"
    if head[:4] == b"\x00MRM":
        return "image/x-minolta-mrw"
    if b"\x12\xc6" in head[:4096] or b"\xc6\x12" in head[:4096]:  # DNGVersion tag id
        return "image/x-adobe-dng"
    return "image/x-raw"


def _after_id3(path: Path, head: bytes) -> str | None:
    """The type of the audio behind an ID3v2 tag: a tag with cover art easily outgrows the
    64 KiB libmagic sees, which then finds nothing it knows."""
    if len(head) < 10:
        return None
    size = 10 + sum((b & 0x7F) << 7 * (3 - i) for i, b in enumerate(head[6:10]))  # syncsafe
    size += 10 if head[5] & 0x10 else 0  # a footer
    with open(path, "rb") as f:
        f.seek(size)
        after = f.read(64 * 1024)
    after = after.lstrip(b"\x00")  # taggers pad the tag with zeros to rewrite it in place
    mime = magic.from_buffer(after, mime=True) if after else ""
    return mime if mime.startswith("audio/") else None


def _is_mpeg_ts(head: bytes) -> bool:
    """MPEG transport stream (.ts, AVCHD .mts/.m2ts): a 0x47 sync byte starting every 188-byte
    packet, or every 192 bytes behind a 4-byte timecode (Blu-ray/AVCHD M2TS). libmagic knows
    neither without a long run of packets."""
    for size, offset in ((188, 0), (192, 4)):
        starts = range(offset, offset + size * 8, size)
        if len(head) > starts[-1] and all(head[i] == 0x47 for i in starts):
            return True
    return False


def _is_svgz(path: Path) -> bool:
    try:
        with gzip.open(path, "rb") as f:
            start = f.read(4096)
    except (OSError, EOFError, gzip.BadGzipFile):
        return False
    return b"<svg" in start


def _is_word97(path: Path) -> bool:
    """An OLE container holding a WordDocument stream (not Excel, PowerPoint, MSI...)."""
    name = "WordDocument".encode("utf-16-le")
    with open(path, "rb") as f:
        data = f.read(16 * 1024 * 1024)  # the directory sector is rarely far in
    return name in data


def _is_docx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return "word/document.xml" in z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _is_utf8_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 4  # a multi-byte character cut by the 64 KiB read
    return b"\x00" not in head
