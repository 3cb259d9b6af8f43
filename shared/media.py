"""Video and audio through Debian's ffprobe/ffmpeg: what a file holds, and one frame of it.

Both ingest (metadata, poster candidates) and delivery (`/render/{id}?t=`) use these, so
they live here. Every call is a subprocess in its own process group under a wall-clock
bound (shared/process.py): a file that makes ffmpeg hang costs a timeout, not a worker.
"""

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from shared import process
from shared.manifest import MediaInfo, MediaTags

FFMPEG = ("ffmpeg", "-nostdin", "-v", "error", "-y")  # no prompts, errors only, overwrite
PROBE_TIMEOUT = 30.0
FRAME_TIMEOUT = 30.0


class MediaError(Exception):
    """ffprobe/ffmpeg could not read the file (corrupt, truncated, not media)."""


def probe(source: str | Path, timeout: float = PROBE_TIMEOUT) -> MediaInfo:
    """The streams of a file or URL, as the manifest records them. Raises MediaError."""
    return info_from_probe(probe_json(source, timeout))


def probe_json(source: str | Path, timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    """ffprobe's JSON of a file or URL (format + streams). Raises MediaError."""
    result = process.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         str(source)],
        timeout,
    )  # fmt: skip
    if result.returncode != 0:
        raise MediaError(_last_line(result.stderr, source) or "ffprobe could not read the file")
    try:
        return json.loads(result.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise MediaError(f"ffprobe printed no JSON: {exc}") from None


def info_from_probe(data: dict[str, Any]) -> MediaInfo:
    """MediaInfo from ffprobe's JSON (`-show_format -show_streams`)."""
    fmt = data.get("format") or {}
    video = picture_stream(data)
    audio = sound_stream(data)
    info = MediaInfo(
        duration=_float(fmt.get("duration")),
        bit_rate=_int(fmt.get("bit_rate")),
        container=fmt.get("format_name"),
        # Ogg (Vorbis, Opus) keeps its comments on the stream, not the container.
        tags=_tags({**((audio or {}).get("tags") or {}), **(fmt.get("tags") or {})}),
    )
    if video is not None:
        rotation = rotation_of(video)
        width, height = _int(video.get("width")), _int(video.get("height"))
        sar = _fraction(str(video.get("sample_aspect_ratio") or "").replace(":", "/"))
        if width and sar and sar != 1:  # anamorphic (DV, H.263 CIF): pixels shown wider
            width = int(width * sar)  # as ffmpeg's scale=iw*sar truncates
        if rotation in (90, 270):
            width, height = height, width
        info.width, info.height, info.rotation = width, height, rotation
        info.video_codec = video.get("codec_name")
        info.fps = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
        if info.duration is None:
            info.duration = _float(video.get("duration"))
    if audio is not None:
        info.audio_codec = audio.get("codec_name")
        info.sample_rate = _int(audio.get("sample_rate"))
        info.channels = _int(audio.get("channels"))
        if info.duration is None:
            info.duration = _float(audio.get("duration"))
    return info


def cover_art_stream(data: dict[str, Any]) -> int | None:
    """The index of an embedded cover picture (MP3 APIC, M4A covr, FLAC PICTURE), if any."""
    for stream in data.get("streams") or []:
        if (stream.get("disposition") or {}).get("attached_pic"):
            return _int(stream.get("index"))
    return None


def rotation_of(stream: dict[str, Any]) -> int:
    """Degrees clockwise a player turns the frames: the display matrix (phones), or the
    older `rotate` tag. ffprobe reports the matrix counter-clockwise (-90 = turn right)."""
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return round(-float(side["rotation"])) % 360
    rotate = (stream.get("tags") or {}).get("rotate")
    return int(rotate) % 360 if rotate and str(rotate).lstrip("-").isdigit() else 0


def frame_at(
    source: str | Path, seconds: float, out: Path, *, max_side: int | None = None,
    timeout: float = FRAME_TIMEOUT,
) -> Path:  # fmt: skip
    """Decode the frame at `seconds` (input seeking: jumps to the keyframe before, then
    decodes forward) to a JPEG at `out`, rotated as displayed. Raises MediaError when there
    is no frame there (past the end, no video stream)."""
    scale = []
    if max_side:
        scale = ["-vf", f"scale='min({max_side},iw)':'min({max_side},ih)'"
                        ":force_original_aspect_ratio=decrease"]  # fmt: skip
    result = process.run(
        [*FFMPEG, "-ss", f"{max(seconds, 0):.3f}",
         "-i", str(source), *scale, "-frames:v", "1", "-q:v", "2", "-update", "1", str(out)],
        timeout,
    )  # fmt: skip
    if result.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        message = _last_line(result.stderr, source) or f"no frame at {seconds:g} s"
        raise MediaError(message)
    return out


def packet_span(source: str | Path, stream_index: int, timeout: float) -> float | None:
    """Seconds from the stream's first packet to the end of its last, read from the
    packets' timestamps (demuxed, not decoded: a read of the file), or None when it has
    no timed packets. Raises MediaError, ConverterTimeout."""
    first: float | None = None
    end: float | None = None

    def take(line: str) -> None:
        nonlocal first, end
        parts = line.strip().split(",")
        pts = _float(parts[0]) if parts else None
        if pts is None:
            return
        first = pts if first is None else min(first, pts)
        duration = _float(parts[1]) if len(parts) > 1 else None
        stop = pts + (duration or 0.0)
        end = stop if end is None else max(end, stop)

    result = process.stream(
        ["ffprobe", "-v", "error", "-select_streams", str(stream_index),
         "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", str(source)],
        timeout, take,
    )  # fmt: skip
    if result.returncode != 0 and first is None:
        raise MediaError(_last_line(result.stderr, source) or "ffprobe could not read packets")
    return None if first is None or end is None else end - first


def sound_stream(data: dict[str, Any]) -> dict[str, Any] | None:
    """ffprobe's first audio stream."""
    streams = data.get("streams") or []
    return next((s for s in streams if s.get("codec_type") == "audio"), None)


def picture_stream(data: dict[str, Any]) -> dict[str, Any] | None:
    """ffprobe's first video stream that moves: not an MP3's cover art (attached picture)."""
    for stream in data.get("streams") or []:
        attached = (stream.get("disposition") or {}).get("attached_pic")
        if stream.get("codec_type") == "video" and not attached:
            return stream
    return None


def _tags(raw: dict[str, str]) -> MediaTags | None:
    lower = {k.lower(): v for k, v in raw.items()}
    tags = MediaTags(title=lower.get("title"), artist=lower.get("artist") or
                     lower.get("album_artist"), album=lower.get("album"))  # fmt: skip
    return tags if any((tags.title, tags.artist, tags.album)) else None


def _rate(text: str | None) -> float | None:
    rate = _fraction(text)
    return round(float(rate), 3) if rate else None


def _fraction(text: str | None) -> Fraction | None:
    """A positive ffprobe ratio ("30000/1001"), else None ("0/0", "", "N/A")."""
    try:
        value = Fraction(text or "")
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


PROGRESS_ARGS = ("-progress", "pipe:1", "-nostats")  # machine-readable progress on stdout


def progress_seconds(line: str) -> float | None:
    """Seconds of output written, from one line of ffmpeg's `-progress` output."""
    key, _, value = line.partition("=")
    value = value.strip()
    if key == "out_time_us" and value.lstrip("-").isdigit():
        return max(int(value) / 1e6, 0.0)
    return None


def failure(stderr: str, source: str | Path, fallback: str) -> str:
    """What to tell a user when ffmpeg failed on `source`: its last complaint, scrubbed."""
    return _last_line(stderr, source) or fallback


def _last_line(text: str, source: str | Path) -> str:
    """ffmpeg's last complaint, without the input's name: a worker's temp path or a
    presigned URL (credentials) must not reach a manifest or an error body."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1].replace(str(source), "the file")[:300] if lines else ""
