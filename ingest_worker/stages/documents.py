"""Stage 4: documents → `document.pdf` (LibreOffice) and `poster.jpg` (first page).

DOC/DOCX/RTF/ODT go straight to LibreOffice; Markdown (and plain text) becomes styled
HTML first. A PDF upload is its own document: only the poster is made.
"""

import html
import re
from dataclasses import dataclass
from pathlib import Path

import markdown
import pyvips

from ingest_worker.converters import libreoffice
from ingest_worker.errors import StageError
from ingest_worker.stages.sniff import Sniffed
from shared import imaging, process
from shared.settings import Settings

STAGE = "documents"
POSTER_WIDTH = 1240  # an A4 page at 150 dpi: body text readable in a lightbox
POSTER_QUALITY = 85
MAX_TEXT_BYTES = 16 * 1024 * 1024
_SUFFIX = {
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/rtf": ".rtf",
    "text/rtf": ".rtf",
}
# Markdown may carry raw HTML; nothing in it may make LibreOffice load a resource.
_LOADING_TAGS = re.compile(
    r"<\s*/?\s*(img|image|iframe|frame|frameset|object|embed|link|script|style|meta|base|"
    r"video|audio|source|svg|form|input)\b[^>]*>",
    re.IGNORECASE,
)
_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.DOTALL)

# GitHub-like typography, within what LibreOffice's HTML import honours.
CSS = """
body { font-family: 'DejaVu Sans', sans-serif; font-size: 11pt; line-height: 1.5;
       color: #1f2328; }
h1, h2, h3, h4 { font-family: 'DejaVu Sans', sans-serif; }
h1, h2 { border-bottom: 1px solid #d1d9e0; padding-bottom: 0.3em; }
h1 { font-size: 20pt; } h2 { font-size: 16pt; } h3 { font-size: 13pt; }
code, pre { font-family: 'DejaVu Sans Mono', monospace; font-size: 9.5pt; }
code { background: #eff1f3; }
pre { background: #f6f8fa; border: 1px solid #d1d9e0; padding: 8pt; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d1d9e0; padding: 4pt 8pt; }
th { background: #f6f8fa; font-weight: bold; }
blockquote { color: #59636e; border-left: 3pt solid #d1d9e0; padding-left: 8pt; }
a { color: #0969da; }
"""


@dataclass(frozen=True)
class Rendered:
    pdf: Path | None  # the converted document; None when the upload is already a PDF
    poster: Path
    width: int
    height: int
    pages: int


def render(sniffed: Sniffed, path: Path, workdir: Path, settings: Settings) -> Rendered:
    pdf: Path | None = None
    try:
        if sniffed.family == "office":
            source = workdir / f"document{_SUFFIX[sniffed.mime]}"
            source.symlink_to(path)
            pdf = _to_pdf(source, workdir, settings)
        elif sniffed.family in ("markdown", "text"):
            source = workdir / "document.html"
            source.write_text(to_html(_read_text(path), sniffed.family == "markdown"))
            pdf = _to_pdf(source, workdir, settings)  # Writer's HTML import (infilter_for)
    except process.ConverterTimeout as exc:
        raise StageError(STAGE, "conversion_timeout", str(exc)) from exc
    except libreoffice.ConversionFailed as exc:
        raise StageError(STAGE, "conversion_failed", str(exc)) from exc
    poster, pages = make_poster(pdf or path, workdir / "poster.jpg", settings)
    return Rendered(pdf, workdir / "poster.jpg", poster.width, poster.height, pages)


def _to_pdf(source: Path, workdir: Path, settings: Settings) -> Path:
    return libreoffice.to_pdf(
        source, workdir, settings.convert_timeout_seconds, settings.soffice, settings.converter_url
    )


def to_html(text: str, is_markdown: bool) -> str:
    if is_markdown:
        text = _FRONT_MATTER.sub("", text, count=1)
        body = markdown.markdown(text, extensions=["fenced_code", "tables", "sane_lists", "toc"])
        body = _LOADING_TAGS.sub("", body)
        # LibreOffice draws cell borders from table attributes, not from CSS.
        body = body.replace("<table>", '<table border="1" cellpadding="6" cellspacing="0">')
    else:
        body = f"<pre>{html.escape(text)}</pre>"
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<style>{CSS}</style></head><body>{body}</body></html>"
    )


def make_poster(pdf: Path, out: Path, settings: Settings) -> tuple[pyvips.Image, int]:
    """First page at POSTER_WIDTH px (poppler through libvips), white under transparency."""
    try:
        header = pyvips.Image.pdfload(str(pdf), page=0)
        pages = header.get("n-pages")
        scale = POSTER_WIDTH / max(header.width, 1)
        width, height = POSTER_WIDTH, round(header.height * scale)
        if width * height > settings.max_source_pixels:
            raise StageError(
                STAGE, "too_many_pixels", f"the first page is {width}x{height} at poster size"
            )
        page = pyvips.Image.pdfload(str(pdf), page=0, scale=scale, background=[255, 255, 255, 255])
        if page.width > POSTER_WIDTH:  # poppler rounds the page edge up by a pixel
            page = page.crop(0, 0, POSTER_WIDTH, page.height)
        imaging.save_jpeg(page, out, POSTER_QUALITY)
    except (pyvips.Error, imaging.ImageDecodeError) as exc:
        reason = imaging._reason(exc) if isinstance(exc, pyvips.Error) else str(exc)
        code = "encrypted_document" if "encrypt" in reason.lower() else "decode_error"
        raise StageError(STAGE, code, f"cannot render the PDF: {reason}") from exc
    return pyvips.Image.new_from_file(str(out)), pages


def _read_text(path: Path) -> str:
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise StageError(STAGE, "too_large", "text documents over 16 MiB are not rendered")
    return path.read_bytes().decode("utf-8", errors="replace")
