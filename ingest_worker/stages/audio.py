"""Audio assets: poster.jpg (the embedded cover art, else a waveform) and proxy.m4a.

proxy.m4a is AAC in MP4 with the index up front (`+faststart`): every browser plays it and
can seek before the whole file has arrived. An AAC source is remuxed (no quality loss,
no decode); anything else is transcoded at 160 kb/s, stereo at most.

The waveform is ffmpeg's `showwavespic` (peak, square-root amplitude so quiet passages
still show) drawn in the same ffmpeg run that transcodes: one decode of the source makes
both, where drawing it with pyvips would need the samples decoded and shipped out again.
"""

from pathlib import Path
from typing import Any

import pyvips

from ingest_worker.errors import StageError
from ingest_worker.stages.media import STAGE, Made, Report, measure_if_doubtful, refuse_too_long
from shared import imaging, media, process
from shared.manifest import MediaInfo
from shared.process import ConverterTimeout
from shared.settings import Settings

AUDIO_BITRATE = "160k"
POSTER_SIDE = 1200  # cover art is shrunk to fit this; the waveform is drawn this wide
POSTER_QUALITY = 85
WAVEFORM_SIZE = "1200x300"
WAVEFORM_COLOR = "0x2563eb"
WAVEFORM_BACKGROUND = [248, 250, 252]


def make(
    path: Path, info: MediaInfo, probed: dict[str, Any], workdir: Path, settings: Settings,
    report: Report,
) -> Made:  # fmt: skip
    measure_if_doubtful(path, info, media.sound_stream(probed), settings)
    refuse_too_long(info.duration, settings)
    timeout = settings.media_timeout(info.duration)
    proxy = workdir / "proxy.m4a"
    poster = workdir / "poster.jpg"
    cover = media.cover_art_stream(probed)
    has_cover = cover is not None and _cover_poster(path, cover, workdir, poster, settings)
    wave = None if has_cover else workdir / "waveform.png"
    report("transcode", 0.0)
    try:
        _proxy(path, info, proxy, wave, timeout, report)
        proxied = media.info_from_probe(media.probe_json(proxy))
    except ConverterTimeout as exc:
        raise StageError(STAGE, "timeout", str(exc)) from None
    except media.MediaError as exc:
        raise StageError(STAGE, "unreadable_media", str(exc)) from None
    if not proxied.audio_codec or not proxied.duration:
        raise StageError(STAGE, "empty_audio", "the audio stream holds no sound to play")
    # A length estimated from the first frames' bit rate (no Xing/VBRI header) can be far
    # off: what was decoded is the truth, and bounded too.
    refuse_too_long(proxied.duration, settings)
    if info.duration is None or abs(proxied.duration - info.duration) > 0.05 * info.duration:
        info.duration = proxied.duration  # truncated, or guessed: what there is to play
    if wave is not None:
        _waveform_poster(wave, poster)
    info.poster_source = "cover_art" if has_cover else "waveform"
    width, height = _size(poster)
    return Made(
        kind="audio", info=info, poster=poster, poster_width=width, poster_height=height,
        files={"proxy_audio": proxy},
    )  # fmt: skip


def _proxy(
    path: Path, info: MediaInfo, out: Path, wave: Path | None, timeout: float, report: Report
) -> None:
    """proxy.m4a, and the waveform picture in the same pass when `wave` is given."""
    if info.audio_codec == "aac":
        codec = ["-c:a", "copy"]
    else:
        codec = ["-c:a", "aac", "-b:a", AUDIO_BITRATE]
        if (info.channels or 0) > 2:
            codec += ["-ac", "2"]
    drawing: list[str] = []
    if wave is not None:
        drawing = [
            "-filter_complex",
            f"[0:a:0]aformat=channel_layouts=mono,showwavespic=s={WAVEFORM_SIZE}"
            f":colors={WAVEFORM_COLOR}:scale=sqrt:filter=peak[w]",
            "-map", "[w]", "-frames:v", "1", str(wave),
        ]  # fmt: skip

    def on_line(line: str) -> None:
        seconds = media.progress_seconds(line)
        if seconds is not None and info.duration:
            report("transcode", min(seconds / info.duration, 1.0))

    result = process.stream(
        [*media.FFMPEG, "-i", str(path),
         "-map", "0:a:0", "-vn", *codec, "-movflags", "+faststart", "-f", "mp4", str(out),
         *drawing, *media.PROGRESS_ARGS],
        timeout,
        on_line,
    )  # fmt: skip
    if result.returncode != 0 or not out.exists():
        message = media.failure(result.stderr, path, "ffmpeg could not read it")
        raise StageError(STAGE, "unreadable_media", message)


def _cover_poster(path: Path, stream: int, workdir: Path, out: Path, settings: Settings) -> bool:
    """poster.jpg from the embedded picture, as sRGB; False when it will not decode (the
    waveform stands in: a broken cover should not fail a playable file)."""
    raw = workdir / "cover.bin"
    try:
        result = process.run(
            [*media.FFMPEG, "-i", str(path), "-map", f"0:{stream}",
             "-c", "copy", "-frames:v", "1", "-f", "image2", str(raw)],
            settings.media_timeout_seconds,
        )  # fmt: skip
    except ConverterTimeout as exc:
        raise StageError(STAGE, "timeout", str(exc)) from None
    if result.returncode != 0 or not raw.exists() or raw.stat().st_size == 0:
        return False
    try:
        header = imaging.probe(raw, settings.max_source_pixels)
        image = imaging.thumbnail(raw, POSTER_SIDE, POSTER_SIDE, to_srgb=header.has_icc)
        imaging.save_jpeg(image, out, POSTER_QUALITY)
    except (imaging.ImageDecodeError, imaging.TooManyPixels, pyvips.Error):
        return False
    return True


def _waveform_poster(wave: Path, out: Path) -> None:
    """The transparent waveform on a light background, as JPEG."""
    if not wave.exists():
        raise StageError(STAGE, "empty_audio", "ffmpeg drew no waveform: no sound to draw")
    image = pyvips.Image.new_from_file(str(wave))
    imaging.save_jpeg(image.flatten(background=WAVEFORM_BACKGROUND), out, POSTER_QUALITY)


def _size(path: Path) -> tuple[int, int]:
    image = pyvips.Image.new_from_file(str(path))
    return image.width, image.height
