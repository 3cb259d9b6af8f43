"""Stage 1: the true type from magic bytes (libmagic), never from the name or client."""

from dataclasses import dataclass
from pathlib import Path

import magic

from ingest_worker.errors import StageError

STAGE = "sniff"

# Formats browsers show natively, rendered straight from the original.
WEB_NATIVE = {
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/avif",
    "image/tiff",
}


@dataclass(frozen=True)
class Sniffed:
    mime: str
    kind: str


def sniff(path: Path) -> Sniffed:
    if path.stat().st_size == 0:
        raise StageError(STAGE, "empty_file", "the file is empty (0 bytes)")
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
    mime = magic.from_buffer(head, mime=True)
    if mime in WEB_NATIVE:
        return Sniffed(mime, "image")
    raise StageError(STAGE, "unsupported_type", f"unsupported file type {mime}")
