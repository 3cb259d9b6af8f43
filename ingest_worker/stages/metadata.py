"""Stage 2: metadata from the persistent ExifTool, normalised into the manifest."""

import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest_worker.converters import exiftool
from shared.manifest import Exposure, Metadata

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
        "QuickTime:CreationDate",  # phones' Keys tag: local time with its offset
        "QuickTime:CreateDate",  # the movie header's, UTC by the spec (many cameras: local)
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


def _camera(make: Any, model: Any) -> dict[str, str] | None:
    """make, model and a display name that does not repeat the maker: "Canon EOS 6D" for
    Canon + "Canon EOS 6D", "NIKON D70" for "NIKON CORPORATION" + "NIKON D70"."""
    camera = {k: str(v) for k, v in (("make", make), ("model", model)) if v is not None}
    if not camera:
        return None
    make_s, model_s = camera.get("make", ""), camera.get("model", "")
    repeats = make_s and model_s and model_s.split()[0].lower() == make_s.split()[0].lower()
    camera["name"] = model_s if repeats else " ".join(v for v in (make_s, model_s) if v)
    return camera


def _exposure(tags: dict[str, Any], printed: dict[str, Any]) -> Exposure | None:
    def text(name: str) -> str | None:
        value = _first(printed, name) or _first(tags, name)
        return str(value) if value is not None else None

    def number(name: str) -> float | None:
        value = _first(tags, name)
        return float(value) if isinstance(value, int | float) and value > 0 else None

    iso = number("EXIF:ISO") or number("Composite:ISO")
    exposure = Exposure(
        program=text("EXIF:ExposureProgram"),
        flash=text("EXIF:Flash"),
        iso=int(iso) if iso else None,
        f_number=number("EXIF:FNumber"),
        exposure_time=text("EXIF:ExposureTime"),
        focal_length=text("EXIF:FocalLength"),
    )
    return exposure if exposure.model_dump(exclude_none=True) else None


def normalise(tags: dict[str, Any], printed: dict[str, Any] | None = None) -> Metadata:
    """Raw groups and GPS keep ExifTool's numbers; the fields people read (lens, exposure)
    take its printed values when `printed` has them."""
    printed = printed or {}
    groups: dict[str, dict[str, Any]] = {v: {} for v in _KEPT_GROUPS.values()}
    for key, value in tags.items():
        group, _, name = key.partition(":")
        target = _KEPT_GROUPS.get(group)
        if target and name and not (isinstance(value, str) and value.startswith(_BINARY_MARK)):
            groups[target][name] = _clean(value)
    lens_keys = ("Composite:LensID", "EXIF:LensModel", "XMP:Lens")
    lens = _first(printed, *lens_keys) or _first(tags, *lens_keys)
    return Metadata(
        camera=_camera(_first(tags, "EXIF:Make"), _first(tags, "EXIF:Model")),
        lens=str(lens) if lens is not None else None,
        exposure=_exposure(tags, printed),
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
        tags, printed = exiftool.read_tags(str(path))
    except Exception as exc:  # a file that upsets exiftool still gets its renders
        log.warning("exiftool failed on %s: %s", path, exc)
        return None, {}, f"metadata unavailable: {exc}"
    warning = tags.get("ExifTool:Error") or tags.get("ExifTool:Warning")
    return normalise(tags, printed), tags, (f"exiftool: {warning}" if warning else None)
