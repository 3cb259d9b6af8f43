"""Stage 2: metadata from the persistent ExifTool, normalised into the manifest."""

import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest_worker.converters import exiftool
from shared.manifest import Metadata

log = logging.getLogger(__name__)

STAGE = "metadata"
_KEPT_GROUPS = {"EXIF": "exif", "IPTC": "iptc", "XMP": "xmp"}
_BINARY_MARK = "(Binary data"


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return value


def _first(tags: dict[str, Any], *names: str) -> Any:
    for name in names:
        value = _clean(tags.get(name))
        if value not in (None, ""):
            return value
    return None


_TRAILING_OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def _taken_at(tags: dict[str, Any]) -> str | None:
    """ISO 8601; timezone-aware when the file records an offset: OffsetTime* next to EXIF
    times, or one written into the value itself (XMP, PDF, QuickTime)."""
    raw = _first(
        tags,
        "EXIF:DateTimeOriginal",
        "EXIF:CreateDate",
        "XMP:DateTimeOriginal",
        "XMP:DateCreated",
        "XMP:CreateDate",
        "QuickTime:CreateDate",
        "PDF:CreateDate",
    )
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.strptime(raw[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if moment.year < 1900:  # 0000:00:00 placeholders some cameras write
        return None
    iso = moment.isoformat()
    stated = _TRAILING_OFFSET.search(raw[19:].strip())
    offset = _first(tags, "EXIF:OffsetTimeOriginal", "EXIF:OffsetTime")
    if stated:
        iso += "+00:00" if stated.group(1) == "Z" else stated.group(1)
    elif isinstance(offset, str) and len(offset) == 6 and offset[0] in "+-":
        iso += offset
    return iso


def _pages(tags: dict[str, Any]) -> int | None:
    value = _first(tags, "PDF:PageCount", "XMP:NPages", "FlashPix:Pages", "EXIF:PageCount")
    return int(value) if isinstance(value, int | float) and value > 0 else None


def _duration(tags: dict[str, Any]) -> float | None:
    value = _first(
        tags, "Composite:Duration", "QuickTime:Duration", "GIF:Duration", "RIFF:Duration"
    )
    return round(float(value), 3) if isinstance(value, int | float) and value > 0 else None


def _gps(tags: dict[str, Any]) -> dict[str, float] | None:
    lat = _first(tags, "Composite:GPSLatitude", "EXIF:GPSLatitude")
    lon = _first(tags, "Composite:GPSLongitude", "EXIF:GPSLongitude")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    if lat == 0 and lon == 0:  # an empty GPS IFD reads as 0,0: "Null Island" is not a place
        return None
    gps = {"lat": round(float(lat), 7), "lon": round(float(lon), 7)}
    alt = _first(tags, "Composite:GPSAltitude", "EXIF:GPSAltitude")
    if isinstance(alt, int | float):
        gps["alt"] = float(alt)
    return gps


def normalise(tags: dict[str, Any]) -> Metadata:
    groups: dict[str, dict[str, Any]] = {v: {} for v in _KEPT_GROUPS.values()}
    for key, value in tags.items():
        group, _, name = key.partition(":")
        target = _KEPT_GROUPS.get(group)
        if target and name and not (isinstance(value, str) and value.startswith(_BINARY_MARK)):
            groups[target][name] = _clean(value)
    make = _first(tags, "EXIF:Make")
    model = _first(tags, "EXIF:Model")
    camera = {k: str(v) for k, v in (("make", make), ("model", model)) if v is not None}
    lens = _first(tags, "Composite:LensID", "EXIF:LensModel", "XMP:Lens")
    return Metadata(
        camera=camera or None,
        lens=str(lens) if lens is not None else None,
        taken_at=_taken_at(tags),
        gps=_gps(tags),
        pages=_pages(tags),
        duration=_duration(tags),
        **groups,
    )


def icc_description(tags: dict[str, Any]) -> str | None:
    value = _first(tags, "ICC_Profile:ProfileDescription")
    return str(value) if value is not None else None


def refine_mime(sniffed: str, tags: dict[str, Any]) -> str:
    """A camera RAW that libmagic could only call TIFF/unknown gets ExifTool's exact type."""
    stated = _first(tags, "File:MIMEType")
    if sniffed == "image/x-raw" and isinstance(stated, str) and stated.startswith("image/x-"):
        return stated
    return sniffed


def extract(path: Path) -> tuple[Metadata | None, dict[str, Any], str | None]:
    """(normalised metadata, raw tags, warning). ExifTool trouble never fails the asset."""
    try:
        tags = exiftool.read_tags(str(path))
    except Exception as exc:  # a file that upsets exiftool still gets its renders
        log.warning("exiftool failed on %s: %s", path, exc)
        return None, {}, f"metadata unavailable: {exc}"
    warning = tags.get("ExifTool:Error") or tags.get("ExifTool:Warning")
    return normalise(tags), tags, (f"exiftool: {warning}" if warning else None)
