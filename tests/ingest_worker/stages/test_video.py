"""Video through real ffmpeg: poster, proxy.mp4 and preview.mp4 as a browser user sees them."""

import subprocess
from pathlib import Path

import pytest
import pyvips

from ingest_worker.errors import StageError
from ingest_worker.stages import media, video
from ingest_worker.stages.sniff import Sniffed
from shared.manifest import MediaInfo
from shared.media import frame_at
from shared.settings import Settings
from tests.video_clips import clip, ffmpeg, is_jpeg, is_mp4, probe, streams, top_level_atoms

# Real ffmpeg encodes of generated clips: seconds each, so out of the fast set.
pytestmark = pytest.mark.slow


def _make(path: Path, tmp_path: Path, settings: Settings, reports: list | None = None):
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    sink = reports if reports is not None else []
    return media.make(
        Sniffed("video/mp4", "video", "media"), path, workdir, settings,
        lambda stage, fraction: sink.append((stage, fraction)),
    )  # fmt: skip


def _assert_web_proxy(made, width: int, height: int, audio: bool) -> None:
    proxy, preview = made.files["proxy_video"], made.files["preview"]
    assert is_mp4(proxy) and is_mp4(preview) and is_jpeg(made.poster)
    for path in (proxy, preview):  # faststart: a browser can start playing at once
        atoms = top_level_atoms(path)
        assert atoms.index("moov") < atoms.index("mdat"), atoms
    (v,) = streams(proxy, "video")
    assert (v["codec_name"], v["pix_fmt"], v["width"], v["height"]) == (
        "h264", "yuv420p", width, height,
    )  # fmt: skip
    assert [a["codec_name"] for a in streams(proxy, "audio")] == (["aac"] if audio else [])
    (p,) = streams(preview, "video")
    assert p["codec_name"] == "h264" and max(p["width"], p["height"]) <= 480
    assert (p["width"] > p["height"]) == (width > height)
    assert streams(preview, "audio") == []
    assert float(probe(preview)["format"]["duration"]) <= 3.2
    poster = pyvips.Image.new_from_file(str(made.poster))
    assert (poster.width, poster.height) == (made.poster_width, made.poster_height)
    assert (made.poster_width, made.poster_height) == (made.info.width, made.info.height)


@pytest.mark.parametrize(
    ("name", "codec", "audio", "extra", "video_codec"),
    [
        ("hevc.mov", "libx265", "aac", ("-tag:v", "hvc1", "-x265-params", "log-level=none"),
         "hevc"),
        ("vp9.webm", "libvpx-vp9", "libopus", ("-deadline", "realtime"), "vp9"),
        ("h264.mkv", "libx264", "aac", (), "h264"),
        ("mpeg4.avi", "mpeg4", "pcm_s16le", (), "mpeg4"),
        ("h264.ts", "libx264", "aac", (), "h264"),
        ("mpeg2.ts", "mpeg2video", "mp2", (), "mpeg2video"),
    ],
)  # fmt: skip
def test_containers_and_codecs_become_h264_aac_mp4(
    name, codec, audio, extra, video_codec, tmp_path, settings
):
    source = clip(tmp_path / name, size="320x240", codec=codec, audio=audio, extra=extra)
    made = _make(source, tmp_path, settings)
    assert made.kind == "video"
    assert made.info.video_codec == video_codec
    assert (made.info.width, made.info.height, made.info.rotation) == (320, 240, 0)
    assert made.info.duration == pytest.approx(2.0, abs=0.15)
    assert made.info.fps == pytest.approx(25.0)
    _assert_web_proxy(made, 320, 240, audio=True)


def test_a_rotated_phone_clip_gets_portrait_poster_and_proxy(tmp_path, settings):
    source = clip(tmp_path / "phone.mov", size="320x240")
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", "-Rotation=90", str(source)], check=True
    )
    made = _make(source, tmp_path, settings)
    assert made.info.rotation == 90 and (made.info.width, made.info.height) == (240, 320)
    _assert_web_proxy(made, 240, 320, audio=True)
    (v,) = streams(made.files["proxy_video"], "video")
    assert not v.get("side_data_list")  # baked in: no player turns it a second time


@pytest.mark.parametrize("gop", [25, 250])  # keyframes each second; one for the whole clip
def test_a_clip_that_opens_black_gets_a_poster_from_the_picture(gop, tmp_path, settings):
    source = tmp_path / "fade.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "color=c=black:s=320x240:r=25:d=2",
        "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=3",
        "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]",
        "-c:v", "libx264", "-g", str(gop), "-pix_fmt", "yuv420p", source,
    )  # fmt: skip
    made = _make(source, tmp_path, settings)
    first = tmp_path / "first.jpg"
    frame_at(source, 0.0, first)
    assert pyvips.Image.new_from_file(str(first)).avg() < 20  # the clip does open black
    assert pyvips.Image.new_from_file(str(made.poster)).avg() > 60
    _assert_web_proxy(made, 320, 240, audio=False)


def test_a_variable_frame_rate_clip(tmp_path, settings):
    source = tmp_path / "vfr.mkv"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=3",
        "-vf", "setpts='if(lt(N,30),N/30,1+(N-30)/10)/TB'", "-fps_mode", "vfr",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", source,
    )  # fmt: skip
    made = _make(source, tmp_path, settings)
    assert made.info.duration == pytest.approx(7.0, abs=0.2)  # 1 s at 30 fps + 6 s at 10
    _assert_web_proxy(made, 320, 240, audio=False)
    assert float(probe(made.files["proxy_video"])["format"]["duration"]) == pytest.approx(
        7.0, abs=0.2
    )


def test_a_large_source_is_scaled_into_1080p_and_reports_progress(tmp_path, settings):
    source = clip(tmp_path / "big.mkv", size="2560x1440", seconds=1.0, codec="libx264",
                  extra=("-preset", "ultrafast"))  # fmt: skip
    reports: list = []
    made = _make(source, tmp_path, settings, reports)
    _assert_web_proxy(made, 1920, 1080, audio=True)
    assert (made.poster_width, made.poster_height) == (2560, 1440)  # the poster: full size
    fractions = [f for stage, f in reports if stage == "transcode"]
    assert fractions and fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)


def test_a_web_ready_h264_is_copied_not_encoded_and_gains_faststart(tmp_path, settings):
    source = clip(tmp_path / "web.mp4", extra=("-crf", "31"))  # moov at the end
    atoms = top_level_atoms(source)
    assert atoms.index("moov") > atoms.index("mdat")
    made = _make(source, tmp_path, settings)
    _assert_web_proxy(made, 320, 240, audio=True)
    # The encoder's settings travel in the stream: a copy keeps the source's crf=31.
    assert b"crf=31.0" in made.files["proxy_video"].read_bytes()
    assert video.can_remux(made.info, probe(source))


def test_an_anamorphic_source_is_proxied_at_its_display_aspect(tmp_path, settings):
    source = clip(tmp_path / "dv.mkv", size="360x240", codec="mpeg4",
                  extra=("-aspect", "16:9"))  # fmt: skip
    made = _make(source, tmp_path, settings)
    (v,) = streams(made.files["proxy_video"], "video")
    assert (v["width"], v["height"]) == (426, 240)
    assert (made.poster_width, made.poster_height) == (426, 240)


@pytest.mark.parametrize(
    ("info", "code"),
    [
        (dict(width=15000, height=15000, duration=2.0), "too_many_pixels"),
        (dict(width=320, height=240, duration=36001.0), "too_long"),
        (dict(width=320, height=240, duration=0.0), "no_duration"),
        (dict(width=320, height=240, duration=None), "no_duration"),
        (dict(width=None, height=None, duration=2.0), "no_frames"),
    ],
)
def test_bounds_are_checked_from_the_probe_alone(info, code, settings):
    with pytest.raises(StageError) as caught:
        video.check_bounds(MediaInfo(video_codec="h264", **info), settings)
    assert caught.value.code == code


def test_a_slow_motion_clip_plays_at_60_fps_and_the_manifest_knows_each_size(tmp_path, settings):
    """A 240 fps phone clip (here: re-timed to 240 fps, HEVC so it is transcoded)."""
    source = clip(tmp_path / "slomo.mov", size="320x240", seconds=1.0, codec="libx265",
                  extra=("-r", "240", "-tag:v", "hvc1"))  # fmt: skip
    made = _make(source, tmp_path, settings)
    (v,) = streams(made.files["proxy_video"], "video")
    num, den = map(int, v["avg_frame_rate"].split("/"))
    assert num / den <= 60
    assert made.sizes["proxy_video"] == (v["width"], v["height"])
    (p,) = streams(made.files["preview"], "video")
    assert made.sizes["preview"] == (p["width"], p["height"])


def test_a_transcoded_proxy_has_a_keyframe_every_two_seconds(tmp_path, settings):
    """A <video> seek or a `/render?t=` frame then decodes at most 2 s of the proxy."""
    # MPEG-4 Part 2 is transcoded, not copied; its own keyframes are 10 s apart
    source = clip(tmp_path / "long_gop.avi", size="320x240", seconds=7.0, codec="mpeg4",
                  extra=("-g", "250"))  # fmt: skip
    made = _make(source, tmp_path, settings)
    keyframes = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey",
         "-show_entries", "frame=pts_time", "-of", "csv=p=0", str(made.files["proxy_video"])],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert [round(float(t.split(",")[0])) for t in keyframes] == [0, 2, 4, 6]
