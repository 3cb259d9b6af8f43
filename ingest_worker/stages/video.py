"""Video assets: bounds from the probe, then poster.jpg, proxy.mp4 and preview.mp4.

Nothing is decoded before the probe's numbers pass the bounds (pixels, duration). Every
ffmpeg run goes through shared/process.py in its own process group under a wall-clock
bound that grows with the duration; all output lands in `workdir`, and derivatives.py
stores it only once everything is made, so a failure leaves nothing half-written.
"""

import math
from pathlib import Path
from typing import Any

import pyvips

from ingest_worker.errors import StageError
from ingest_worker.stages.media import STAGE, Made, Report, measure_if_doubtful, refuse_too_long
from shared import media, process
from shared.manifest import MediaInfo
from shared.process import ConverterTimeout
from shared.settings import Settings

PROXY_BOX = (1920, 1080)  # long side, short side: "1080p" in either orientation
PREVIEW_SIDE = 480  # long side of the hover preview
MAX_PROXY_FPS = 60
PREVIEW_SECONDS = 3.0
# Proxies above this are re-encoded even when the codec is web-safe: a 100 Mbit/s camera
# original would be a poor thing to stream to a browser.
REMUX_MAX_BIT_RATE = 20_000_000
CANDIDATES = (0.1, 0.3, 0.5, 0.7)  # poster candidates, fractions of the duration
CANDIDATE_SIDE = 256  # candidates are decoded this small: scoring needs no more
# A candidate darker than this mean, or flatter than this deviation (0-255 luma), is a
# fade, a black leader or a title card, not a picture of the video.
MIN_MEAN, MIN_STDDEV = 24.0, 12.0
# The proxy must reach this share of the stated duration; less means the file ends early.
MIN_COVERAGE = 0.9
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
# A keyframe every 2 s in the proxy (x264's default is every 250 frames, 10 s at 25 fps): a
# <video> seek and a `/render?t=` frame decode at most 2 s of it. Measured on a 10 s 1080p
# clip: +5 % bytes, the same encode time, frames at t= 3x faster (bench/render_frame.py).
PROXY_KEYFRAMES = ["-force_key_frames", "expr:gte(t,n_forced*2)"]


def make(
    path: Path, info: MediaInfo, probed: dict[str, Any], workdir: Path, settings: Settings,
    report: Report,
) -> Made:  # fmt: skip
    measure_if_doubtful(path, info, media.picture_stream(probed), settings)
    check_bounds(info, settings)
    assert info.duration is not None and info.width and info.height  # check_bounds
    timeout = settings.media_timeout(info.duration)
    try:
        poster_path, at = poster(path, info.duration, workdir, timeout)
        proxy, preview = workdir / "proxy.mp4", workdir / "preview.mp4"
        preview_start = min(
            max(at - PREVIEW_SECONDS / 2, 0.0), max(info.duration - PREVIEW_SECONDS, 0.0)
        )
        remux = can_remux(info, probed)
        if remux:
            _remux(path, proxy, info.duration, timeout, report)
            _preview_alone(path, preview, preview_start, info, timeout)
        else:
            _transcode(path, proxy, preview, preview_start, info, probed, timeout, report)
    except ConverterTimeout as exc:
        raise StageError(STAGE, "timeout", str(exc)) from None
    except media.MediaError as exc:
        raise StageError(STAGE, "no_frames", f"no frame could be decoded: {exc}") from None
    header = pyvips.Image.new_from_file(str(poster_path))
    return Made(
        kind="video",
        info=info,
        poster=poster_path,
        poster_width=header.width,
        poster_height=header.height,
        files={"proxy_video": proxy, "preview": preview},
        sizes={
            "proxy_video": (info.width, info.height) if remux else proxy_size(info),
            "preview": _fit(*proxy_size(info), PREVIEW_SIDE, PREVIEW_SIDE),
        },
    )


def check_bounds(info: MediaInfo, settings: Settings) -> None:
    """Refuse before decoding: absurd dimensions, absurd or missing duration."""
    if not info.width or not info.height:
        raise StageError(STAGE, "no_frames", "the video stream states no picture size")
    if info.width * info.height > settings.max_source_pixels:
        raise StageError(
            STAGE, "too_many_pixels",
            f"{info.width}x{info.height} exceeds the {settings.max_source_pixels} pixel limit",
        )  # fmt: skip
    if not info.duration or info.duration <= 0:
        raise StageError(STAGE, "no_duration", "the file states no playing time")
    refuse_too_long(info.duration, settings)


def poster(path: Path, duration: float, workdir: Path, timeout: float) -> tuple[Path, float]:
    """A representative frame at full display size, and its time: not a black opening.

    Candidates at fixed shares of the duration are scored by pyvips: near-black and
    near-uniform frames rank below real pictures, which rank by Sobel edge energy. First
    only the keyframe at or before each time is decoded (one frame each, whatever the GOP
    length), at full size, so the winner is the poster as it stands. When none of those is
    a real picture (a 10 s GOP puts every candidate on the same black first frame), the
    exact times are decoded small and the winner once more at full size."""
    times = [p * duration for p in CANDIDATES]
    if duration > 10:  # skip the opening second: fades in, slates
        times = [max(t, 1.0) for t in times]
    best = _best_candidate(path, times, workdir, timeout, keyframes=True)
    if best is not None and best[0][0]:
        return best[2].replace(workdir / "poster.jpg"), best[1]
    best = _best_candidate(path, times, workdir, timeout, keyframes=False)
    at = best[1] if best is not None else 0.0  # frame_at then says if there is any frame
    return media.frame_at(path, at, workdir / "poster.jpg", timeout=timeout), at


def _best_candidate(
    path: Path, times: list[float], workdir: Path, timeout: float, *, keyframes: bool
) -> tuple[tuple[bool, float], float, Path] | None:
    """One ffmpeg run decodes every candidate (each input seeks on its own); the best
    (score, time, file), or None when no candidate time yields a frame."""
    args: list[str] = [*media.FFMPEG]
    # -copyts: a keyframe before the seek point would otherwise count as "before the start"
    seek = ["-skip_frame", "nokey", "-noaccurate_seek", "-copyts"] if keyframes else []
    for t in times:
        args += [*seek, "-ss", f"{t:.3f}", "-i", str(path)]
    box = f"scale={CANDIDATE_SIDE}:{CANDIDATE_SIDE}:force_original_aspect_ratio=decrease"
    square = "scale='trunc(iw*sar/2)*2':ih,setsar=1"  # anamorphic: the display aspect
    each = ["-vf", square, "-q:v", "2"] if keyframes else ["-vf", box, "-pix_fmt", "gray"]
    outs = [workdir / f"candidate{i}.{'jpg' if keyframes else 'pgm'}" for i in range(len(times))]
    for i, out in enumerate(outs):
        args += ["-map", f"{i}:v:0", "-frames:v", "1", *each, str(out)]
    process.run(args, timeout)  # a candidate past the last frame is just missing
    scored = []
    for t, out in zip(times, outs, strict=True):
        if out.exists() and out.stat().st_size:
            small = pyvips.Image.thumbnail(str(out), CANDIDATE_SIDE).colourspace("b-w")
            small = small.copy_memory()  # scored three times: decode once
            scored.append((_score(small), t, out))
    return max(scored, key=lambda c: c[0]) if scored else None


def _score(gray: pyvips.Image) -> tuple[bool, float]:
    """(a real picture, detail): sorts pictures above fades, then by edge energy."""
    mean, stddev = gray.avg(), gray.deviate()
    if mean < MIN_MEAN or stddev < MIN_STDDEV:
        return False, stddev
    return True, gray.sobel().avg()


def can_remux(info: MediaInfo, probed: dict[str, Any]) -> bool:
    """Copy the streams instead of encoding them when every browser can already play them:
    H.264 4:2:0 8-bit within 1080p, AAC or no sound, no rotation to bake in, a sane bit
    rate. Re-encoding such a file would only lose quality and cost ~100x the CPU of a copy
    (which is I/O-bound); the copy still gains +faststart."""
    stream = media.picture_stream(probed) or {}
    sides = sorted((info.width or 0, info.height or 0))
    return (
        info.video_codec == "h264"
        and stream.get("pix_fmt") == "yuv420p"
        and sides[1] <= PROXY_BOX[0]
        and sides[0] <= PROXY_BOX[1]
        and info.rotation == 0
        and info.audio_codec in (None, "aac")
        and (info.bit_rate or 0) <= REMUX_MAX_BIT_RATE
    )


def proxy_size(info: MediaInfo) -> tuple[int, int]:
    """Display size (shared/media.py applies rotation and pixel aspect) within 1080p, even."""
    return _fit(info.width or 2, info.height or 2, *PROXY_BOX)


def _fit(width: float, height: float, long_max: int, short_max: int) -> tuple[int, int]:
    scale = min(1.0, long_max / max(width, height), short_max / min(width, height))
    return _even(width * scale), _even(height * scale)


def _even(value: float) -> int:
    return max(2, 2 * math.floor(value / 2 + 0.5))


def _transcode(
    path: Path, proxy: Path, preview: Path, preview_start: float, info: MediaInfo,
    probed: dict[str, Any], timeout: float, report: Report,
) -> None:  # fmt: skip
    """One decode feeds both outputs: the preview branch trims before it scales, so it
    costs a few seconds of small frames on top of the proxy (ffmpeg autorotates)."""
    width, height = proxy_size(info)
    pw, ph = _fit(width, height, PREVIEW_SIDE, PREVIEW_SIDE)
    # Slow-motion phone clips (120-240 fps) play at normal speed in 60 fps: no browser or
    # screen shows more, and the proxy stays a fraction of the size.
    fps = f",fps={MAX_PROXY_FPS}" if (info.fps or 0) > MAX_PROXY_FPS else ""
    graph = (
        f"[0:v:0]scale={width}:{height},setsar=1{fps},format=yuv420p,split=2[proxy][rest];"
        f"[rest]trim=start={preview_start:.3f}:duration={PREVIEW_SECONDS},"
        f"setpts=PTS-STARTPTS,scale={pw}:{ph}[preview]"
    )
    args = [
        *media.FFMPEG, "-i", str(path), "-filter_complex", graph,
        "-map", "[proxy]", "-map", "0:a:0?", *X264, *PROXY_KEYFRAMES, "-crf", "23",
        "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(proxy),
        "-map", "[preview]", "-an", *X264, "-crf", "28", "-movflags", "+faststart",
        str(preview),
        *media.PROGRESS_ARGS,
    ]  # fmt: skip
    _run_with_progress(args, proxy, info.duration or 0, timeout, report)


def _remux(path: Path, proxy: Path, duration: float, timeout: float, report: Report) -> None:
    args = [
        *media.FFMPEG, "-i", str(path),
        "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-movflags", "+faststart",
        str(proxy), *media.PROGRESS_ARGS,
    ]  # fmt: skip
    _run_with_progress(args, proxy, duration, timeout, report)


def _preview_alone(
    path: Path, preview: Path, start: float, info: MediaInfo, timeout: float
) -> None:
    """The preview when the proxy was a copy: seek, decode three seconds, encode small."""
    pw, ph = _fit(*proxy_size(info), PREVIEW_SIDE, PREVIEW_SIDE)
    args = [
        *media.FFMPEG, "-ss", f"{start:.3f}", "-i", str(path),
        "-t", f"{PREVIEW_SECONDS}", "-map", "0:v:0", "-an", "-vf", f"scale={pw}:{ph},setsar=1",
        *X264, "-crf", "28", "-movflags", "+faststart", str(preview),
    ]  # fmt: skip
    result = process.run(args, timeout)
    _check(result, preview, args)


def _run_with_progress(
    args: list[str], out: Path, duration: float, timeout: float, report: Report
) -> None:
    """Run ffmpeg with `-progress pipe:1`, reporting the share done; fail a file that
    stops decoding well before its stated end (truncated, damaged)."""
    reached = 0.0

    def on_line(line: str) -> None:
        nonlocal reached
        seconds = media.progress_seconds(line)
        if seconds is not None:
            reached = max(reached, seconds)
            report("transcode", min(reached / duration, 1.0) if duration else 0.0)

    result = process.stream(args, timeout, on_line)
    _check(result, out, args)
    if reached < duration * MIN_COVERAGE - 0.5:
        raise StageError(
            STAGE, "truncated",
            f"the video ends after {reached:.1f} s of the {duration:.1f} s it states",
        )  # fmt: skip


def _check(result: process.Result, out: Path, args: list[str]) -> None:
    if result.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        source = args[args.index("-i") + 1]
        message = media.failure(result.stderr, source, f"ffmpeg exited {result.returncode}")
        raise StageError(STAGE, "decode_error", message)
