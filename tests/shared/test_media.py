"""shared/media.py: ffprobe's view of a file, and what its errors may say."""

import subprocess

import pytest

from shared import media
from tests.helpers_media import ffmpeg, sine


def test_probe_reads_a_rotated_phone_clip_as_displayed(tmp_path):
    clip = tmp_path / "phone.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=1", *sine(1),
           "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", clip)  # fmt: skip
    # ffmpeg 5.1 cannot write a display matrix; ExifTool can, as a phone held upright would
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-Rotation=90", clip], check=True)
    info = media.probe(clip)
    assert (info.width, info.height, info.rotation) == (180, 320, 90)
    assert (info.video_codec, info.audio_codec, info.fps) == ("h264", "aac", 30.0)
    assert info.duration == pytest.approx(1.0, abs=0.1)


def test_errors_never_name_the_input(tmp_path):
    """A worker's temp path or a presigned URL (with its credentials) stays out of messages."""
    broken = tmp_path / "secret-folder" / "clip.mp4"
    broken.parent.mkdir()
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(200))
    with pytest.raises(media.MediaError) as err:
        media.probe(broken)
    assert "secret-folder" not in str(err.value) and str(err.value)
    with pytest.raises(media.MediaError) as err:
        media.frame_at(broken, 0, tmp_path / "frame.jpg")
    assert "secret-folder" not in str(err.value)
    with pytest.raises(media.MediaError) as err:
        media.packet_span(broken, 0, timeout=10)
    assert "secret-folder" not in str(err.value)


def test_packet_span_is_the_playing_time_the_packets_cover(tmp_path):
    clip = tmp_path / "three.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x64:rate=25:duration=3", *sine(3),
           "-c:v", "libx264", "-c:a", "flac", "-shortest", clip)  # fmt: skip
    assert media.packet_span(clip, 0, timeout=10) == pytest.approx(3.0, abs=0.05)
    assert media.packet_span(clip, 1, timeout=10) == pytest.approx(3.0, abs=0.1)
