"""Videos through the whole pipeline on a local store: what the manifest and objects hold,
and hostile files that end `failed` with a code, the original kept, no ffmpeg left over."""

import os
import struct
import subprocess
from pathlib import Path

import pytest
import pyvips

from ingest_worker import pipeline
from shared.keys import derivative_key, original_key
from tests.helpers_media import upload
from tests.video_clips import clip, ffmpeg, probe, streams, top_level_atoms

# Real ffmpeg encodes of generated clips: seconds each, so out of the fast set.
pytestmark = pytest.mark.slow


def _upload(store, path: Path) -> str:
    return upload(store, path.read_bytes(), path.name)


def _exiftool(path: Path, *tags: str) -> None:
    subprocess.run(["exiftool", "-q", "-overwrite_original", *tags, str(path)], check=True)


def test_an_iphone_style_clip_ends_ready_with_media_metadata_and_web_files(
    tmp_path, settings, store
):
    source = clip(tmp_path / "IMG_0001.MOV", size="320x240", seconds=2.0)
    _exiftool(
        source, "-Rotation=90", "-Keys:GPSCoordinates=40.7, -74.0, 10",
        "-Keys:CreationDate=2024:05:06 07:08:09-04:00", "-QuickTime:CreateDate=2024:05:06 11:08:09",
    )  # fmt: skip
    asset_id = _upload(store, source)
    m = pipeline.process(asset_id, settings, store)
    assert m.status == "ready", m.error
    assert m.kind == "video" and m.source.mime == "video/quicktime"
    assert m.progress is None
    assert (m.media.width, m.media.height, m.media.rotation) == (240, 320, 90)
    assert m.media.video_codec == "h264" and m.media.audio_codec == "aac"
    assert m.media.duration == pytest.approx(2.0, abs=0.1)
    assert m.metadata.taken_at == "2024-05-06T07:08:09-04:00"
    assert m.metadata.gps == {"lat": 40.7, "lon": -74.0, "alt": 10.0}
    assert {"poster", "proxy_video", "preview", "optimized", "thumb"} <= set(m.derivatives)
    assert (m.image.width, m.image.height) == (240, 320)  # the poster, upright
    proxy = tmp_path / "proxy.mp4"
    proxy.write_bytes(store.get_bytes(derivative_key(asset_id, "proxy_video")))
    assert proxy.read_bytes()[4:8] == b"ftyp"
    atoms = top_level_atoms(proxy)
    assert atoms.index("moov") < atoms.index("mdat")
    (v,) = streams(proxy, "video")
    assert (v["codec_name"], v["width"], v["height"]) == ("h264", 240, 320)
    assert m.derivatives["proxy_video"].bytes == proxy.stat().st_size
    poster = store.get_bytes(derivative_key(asset_id, "poster"))
    assert poster[:3] == b"\xff\xd8\xff"
    image = pyvips.Image.new_from_buffer(poster, "")
    assert (image.width, image.height) == (240, 320)
    assert store.get_bytes(original_key(asset_id)) == source.read_bytes()


# --- hostile files ------------------------------------------------------------------------


def _truncated(tmp: Path) -> Path:
    source = clip(tmp / "full.mp4", seconds=4.0, extra=("-movflags", "+faststart"))
    out = tmp / "truncated.mp4"
    out.write_bytes(source.read_bytes()[: source.stat().st_size // 3])
    return out


def _moov_missing(tmp: Path) -> Path:
    data = clip(tmp / "full.mp4", seconds=2.0).read_bytes()  # moov last
    out = tmp / "no_moov.mp4"
    out.write_bytes(data[: data.rfind(b"moov") - 4])
    return out


def _no_streams(tmp: Path) -> Path:
    out = tmp / "empty.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x64:d=1", "-frames:v", "0", out)
    return out


def _no_decodable_frame(tmp: Path) -> Path:
    """The index promises 2 s of H.264; every sample is zeros."""
    data = bytearray(clip(tmp / "full.mp4", audio=None, extra=("-movflags", "+faststart"))
                     .read_bytes())  # fmt: skip
    start = data.find(b"mdat") + 4
    data[start:] = bytes(len(data) - start)
    out = tmp / "zeroed.mp4"
    out.write_bytes(data)
    return out


def _absurd_dimensions(tmp: Path) -> Path:
    """A 16x16 raw AVI whose headers claim 15000x15000 (225 MP)."""
    data = bytearray(clip(tmp / "raw.avi", size="16x16", seconds=0.4, codec="rawvideo",
                          audio=None).read_bytes())  # fmt: skip
    strf, avih = data.find(b"strf"), data.find(b"avih")
    struct.pack_into("<ii", data, strf + 12, 15000, -15000)  # BITMAPINFOHEADER
    struct.pack_into("<II", data, avih + 8 + 32, 15000, 15000)  # dwWidth, dwHeight
    out = tmp / "huge.avi"
    out.write_bytes(data)
    return out


def _ten_hours(tmp: Path) -> Path:
    """Two frames 36000 s apart: a few kB on disk, ten hours to play."""
    out = tmp / "long.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x64:r=1:d=2", "-vf", "setpts=N*36000/TB",
           "-fps_mode", "passthrough", "-c:v", "libx264", out)  # fmt: skip
    return out


@pytest.mark.faults
@pytest.mark.parametrize(
    ("make", "code"),
    [
        (_truncated, "truncated"),
        (_moov_missing, "unreadable_media"),
        (_no_streams, "no_streams"),
        (_no_decodable_frame, "no_frames"),
        (_absurd_dimensions, "too_many_pixels"),
        (_ten_hours, "too_long"),
    ],
)
def test_hostile_videos_fail_with_a_code_and_keep_the_original(
    make, code, tmp_path, settings, store
):
    source = make(tmp_path)
    asset_id = _upload(store, source)
    m = pipeline.process(asset_id, settings, store)
    assert m.status == "failed"
    assert m.error.code == code, m.error
    assert m.error.message
    assert store.get_bytes(original_key(asset_id)) == source.read_bytes()
    assert not store.exists(derivative_key(asset_id, "proxy_video"))


def _overstated(tmp: Path, hours: float) -> Path:
    """A 2 s MP4 whose movie and track headers state `hours` (as a fragmented MP4 may)."""
    data = bytearray(clip(tmp / "two_seconds.mp4", seconds=2.0, audio=None).read_bytes())
    for box in (b"mvhd", b"mdhd"):  # version 0: timescale at +16, duration at +20
        at = data.find(box)
        timescale = struct.unpack_from(">I", data, at + 16)[0]
        struct.pack_into(">I", data, at + 20, int(timescale * hours * 3600))
    out = tmp / "overstated.mp4"
    out.write_bytes(data)
    return out


def test_a_header_that_overstates_the_length_is_measured_not_believed(tmp_path, settings, store):
    source = _overstated(tmp_path, hours=10)
    assert float(probe(source)["format"]["duration"]) == 36000  # what ffprobe states
    asset_id = _upload(store, source)
    m = pipeline.process(asset_id, settings, store)
    assert m.status == "ready", m.error
    assert abs(m.media.duration - 2.0) < 0.1
    proxy = tmp_path / "proxy.mp4"
    proxy.write_bytes(store.get_bytes(m.derivatives["proxy_video"].key))
    assert abs(float(probe(proxy)["format"]["duration"]) - 2.0) < 0.1


def _ffmpeg_processes() -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            cmdline = Path("/proc", pid, "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and Path(cmdline[0].decode(errors="replace")).name == "ffmpeg":
            found.append(b" ".join(cmdline).decode(errors="replace"))
    return found


@pytest.mark.faults
def test_ffmpeg_over_its_time_bound_fails_timeout_and_leaves_no_process(tmp_path, settings, store):
    source = clip(tmp_path / "slow.mkv", size="1280x720", seconds=4.0, codec="libx264")
    settings.media_timeout_seconds, settings.media_timeout_per_second = 0.2, 0.0
    asset_id = _upload(store, source)
    m = pipeline.process(asset_id, settings, store)
    assert m.status == "failed" and m.error.code == "timeout", m.error
    assert store.get_bytes(original_key(asset_id)) == source.read_bytes()
    # The original was downloaded to a temporary file the ffmpeg runs named: none is left.
    assert [c for c in _ffmpeg_processes() if asset_id in c or "picsha-" in c] == []


def test_the_job_limit_covers_the_longest_video_allowed(settings):
    """Celery's soft limit leaves room for a poster run and a proxy run of the longest
    video allowed, each under its own ffmpeg timeout; never under the old 10 minutes."""
    runs = 2 * settings.media_timeout(settings.max_media_seconds)
    assert settings.ingest_time_limit_seconds > runs
    short = settings.model_copy(update={"max_media_seconds": 10.0})
    assert short.ingest_time_limit_seconds == 600


def test_a_job_past_its_celery_limit_fails_timeout_and_keeps_the_original(
    tmp_path, settings, store, monkeypatch
):
    from celery.exceptions import SoftTimeLimitExceeded

    from ingest_worker.stages import video

    def too_slow(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(video, "make", too_slow)
    source = clip(tmp_path / "slow.mp4", size="160x120", seconds=1.0)
    asset_id = _upload(store, source)
    m = pipeline.process(asset_id, settings, store)
    assert (m.status, m.error.code, m.error.stage) == ("failed", "timeout", "pipeline")
    assert store.get_bytes(original_key(asset_id)) == source.read_bytes()
