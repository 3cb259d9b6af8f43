"""`/render/{id}?t=`: one frame of a video, decoded by ffmpeg (shared/media.py), then
rendered like any image.

Which file: `proxy.mp4` when it holds the pixels the output needs — H.264 with its index
up front (faststart), so a seek reads the index and the GOP before `t`, and decoding
1080p costs far less than a 4K original — else the original. In S3 mode ffmpeg reads a
presigned URL by Range requests instead of delivery downloading the file first.
"""

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path

import pyvips

from delivery import source, transform
from delivery.params import RenderParams
from delivery.source import RenderSource
from shared import media
from shared.errors import PicshaError
from shared.keys import original_key
from shared.manifest import Manifest
from shared.process import ConverterTimeout
from shared.settings import Settings
from shared.storage import ObjectNotFound, ObjectStore

# Seeking and decoding one frame: well under a second for a proxy, local or over S3; a
# slow store or a pathological original gets a 504, not a stuck render slot.
FRAME_TIMEOUT = 20.0


def plan(manifest: Manifest, params: RenderParams, settings: Settings) -> RenderSource:
    """The video file the frame at `params.t` is read from, with its displayed size (no
    poster needed); a 400 for an asset that is not a video or a `t` not before its end."""
    source.check_ready(manifest)
    seconds = params.t or 0.0
    info = manifest.media
    if manifest.kind != "video" or info is None or not (info.width and info.height):
        raise PicshaError(400, "invalid_parameter", f"t: only video assets have frames, "
                          f"this asset is {manifest.kind or 'unknown'}")  # fmt: skip
    if info.duration is not None and seconds >= info.duration:
        raise PicshaError(400, "invalid_parameter", f"t: {seconds:g} s is not before the end "
                          f"of this video (its duration is {info.duration:g} s)")  # fmt: skip
    full = RenderSource(original_key(manifest.id), info.width, info.height, False, is_jpeg=True)
    scale = transform.source_scale(params, transform.target_geometry(params, full, settings), full)
    proxy = manifest.derivatives.get("proxy_video")
    if scale is None or proxy is None or not (proxy.width and proxy.height):
        return full
    if full.width * scale <= proxy.width and full.height * scale <= proxy.height:
        return RenderSource(proxy.key, proxy.width, proxy.height, False, is_jpeg=True)
    return full


@contextmanager
def extract(store: ObjectStore, video: RenderSource, seconds: float) -> Iterator[
    tuple[Path, RenderSource]
]:  # fmt: skip
    """The frame at `seconds` of `video` as a JPEG file (removed on exit) and what it is."""
    with tempfile.TemporaryDirectory(prefix="picsha-frame-") as folder, ExitStack() as stack:
        location: str | Path | None = store.local_path(video.key) or store.presigned_url(video.key)
        try:
            if location is None:
                location = stack.enter_context(store.local_copy(video.key))
            out = media.frame_at(location, seconds, Path(folder) / "frame.jpg",
                                 timeout=FRAME_TIMEOUT)  # fmt: skip
        except FileNotFoundError as exc:  # no ffmpeg on this host (`picsha doctor` says so)
            message = "this server cannot decode video frames (ffmpeg is not installed)"
            raise PicshaError(503, "frames_unavailable", message) from exc
        except ObjectNotFound as exc:
            raise PicshaError(404, "not_found", "the video is missing from the store") from exc
        except ConverterTimeout as exc:
            message = f"no frame at {seconds:g} s within {FRAME_TIMEOUT:g} s; retry later"
            raise PicshaError(504, "frame_timeout", message, {"Retry-After": "5"}) from exc
        except media.MediaError as exc:
            # ffmpeg names its input: never answer with a presigned URL
            reason = str(exc).replace(str(location), video.key)
            raise PicshaError(422, "no_frame", f"no frame at {seconds:g} s: {reason}") from exc
        header = pyvips.Image.new_from_file(str(out))  # the header only
        yield out, replace(video, key=str(out), width=header.width, height=header.height)
