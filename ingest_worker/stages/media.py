"""Video and audio: which of the two a file is (from its streams), and what each gets.

video: poster.jpg from a representative frame, proxy.mp4 (H.264/AAC, faststart) and a
short silent preview.mp4 (stages/video.py) · audio: poster.jpg from the cover art or a
waveform, proxy.m4a (stages/audio.py). The poster is then the image every sample,
placeholder and analysis comes from, as for documents.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest_worker.errors import StageError
from ingest_worker.stages.sniff import Sniffed
from shared import media
from shared.manifest import MediaInfo
from shared.process import ConverterTimeout
from shared.settings import Settings

STAGE = "media"

Report = Callable[[str, float], None]  # (stage, fraction done): progress in the manifest


@dataclass
class Made:
    kind: str  # "video" | "audio"
    info: MediaInfo
    poster: Path
    poster_width: int
    poster_height: int
    files: dict[str, Path] = field(default_factory=dict)  # derivative name → local file
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # their frames' sizes


def make(sniffed: Sniffed, path: Path, workdir: Path, settings: Settings, report: Report) -> Made:
    """Probe the streams, then hand over to the video or the audio maker."""
    from ingest_worker.stages import audio, video  # they import Made from here

    try:
        data = media.probe_json(path)
    except media.MediaError as exc:
        raise StageError(STAGE, "unreadable_media", str(exc)) from None
    except ConverterTimeout as exc:
        raise StageError(STAGE, "timeout", str(exc)) from None
    info = media.info_from_probe(data)
    if info.video_codec:
        return video.make(path, info, data, workdir, settings, report)
    if info.audio_codec:
        return audio.make(path, info, data, workdir, settings, report)
    raise StageError(STAGE, "no_streams", f"{sniffed.mime} holds no video or audio stream")


def measure_if_doubtful(
    path: Path, info: MediaInfo, stream: dict[str, Any] | None, settings: Settings
) -> None:
    """A stated length past the limit, or none at all, is measured from the packets: a
    fragmented MP4 may state hours for a second of video, a live capture nothing. Reading
    the packets is a read of the file, not a decode, bounded by the probe's timeout; what
    cannot be measured keeps the header's word (then `too_long` or `no_duration`)."""
    stated = info.duration
    if stream is None or (stated and stated <= settings.max_media_seconds):
        return
    index = stream.get("index")
    if not isinstance(index, int):
        return
    try:
        measured = media.packet_span(path, index, settings.media_timeout_seconds)
    except (media.MediaError, ConverterTimeout):
        return
    if measured and measured > 0:
        info.duration = measured


def refuse_too_long(seconds: float | None, settings: Settings) -> None:
    """`too_long` past PICSHA_MAX_MEDIA_SECONDS: the header's length before any decode,
    and audio's decoded length again (a header may understate it)."""
    if seconds is not None and seconds > settings.max_media_seconds:
        raise StageError(
            STAGE, "too_long",
            f"{seconds:.0f} s exceeds the {settings.max_media_seconds:.0f} s limit",
        )  # fmt: skip
