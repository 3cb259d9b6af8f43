"""Video and audio assets on /render: the poster, and `t=` frames (delivery/frames.py)."""

import re
import subprocess

import pytest
import pyvips
from fastapi.testclient import TestClient

from delivery import frames
from delivery.app import create_app
from delivery.params import RenderParams, parse
from shared import imaging
from shared.keys import original_key
from shared.manifest import save_manifest
from shared.storage.s3 import S3Store
from tests.helpers import load, make_jpeg
from tests.video_clips import ffmpeg


def _jpeg(r) -> pyvips.Image:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    assert imaging.sniff_format(r.content) == "jpeg"
    return load(r.content)


def _mean_difference(a: pyvips.Image, b: pyvips.Image) -> float:
    return float((a.cast("float") - b.cast("float")).abs().avg())


def test_a_video_renders_its_poster(client, video):
    out = _jpeg(client.get(f"/render/{video.id}", params={"wd": 200}))
    assert (out.width, out.height) == (200, 150)


def test_an_audio_asset_renders_its_poster(client, video, store):
    video.kind, video.media.width, video.media.height = "audio", None, None
    save_manifest(store, video)
    out = _jpeg(client.get(f"/render/{video.id}", params={"wd": 200}))
    assert (out.width, out.height) == (200, 150)


def test_the_frame_at_t_is_rendered_and_moves(client, video):
    one = _jpeg(client.get(f"/render/{video.id}", params={"t": 1, "wd": 200}))
    three = _jpeg(client.get(f"/render/{video.id}", params={"t": 3, "wd": 200}))
    assert (one.width, one.height) == (three.width, three.height) == (200, 150)
    assert _mean_difference(one, three) > 10  # testsrc2 moves: other frames
    poster = _jpeg(client.get(f"/render/{video.id}", params={"wd": 200}))
    assert _mean_difference(one, poster) < 5  # the poster is the frame at 1 s


def test_frames_need_no_poster_but_a_ready_asset(client, video, store):
    video.status = "processing"  # (only ready manifests are cached)
    save_manifest(store, video)
    r = client.get(f"/render/{video.id}", params={"t": 1, "wd": 100})
    assert r.status_code == 409 and r.json()["error"]["code"] == "asset_not_ready"
    video.status = "ready"
    video.derivatives.pop("poster")
    save_manifest(store, video)
    assert client.get(f"/render/{video.id}", params={"wd": 100}).status_code == 415
    assert _jpeg(client.get(f"/render/{video.id}", params={"t": 1, "wd": 100})).width == 100


def test_a_frame_takes_the_usual_transforms(client, video):
    r = client.get(f"/render/{video.id}", params={"t": "2.5", "wd": 90, "ht": 90, "crop": "true",
                                                   "fm": "png", "gray": "true"})  # fmt: skip
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    out = load(r.content)
    assert (out.width, out.height, out.bands) == (90, 90, 1)


def test_frames_are_etagged_per_t(client, video):
    first = client.get(f"/render/{video.id}", params={"t": "1", "wd": 100})
    same = client.get(f"/render/{video.id}", params={"t": "1.0", "wd": 100})
    other = client.get(f"/render/{video.id}", params={"t": "2", "wd": 100})
    assert first.headers["etag"] == same.headers["etag"] != other.headers["etag"]
    again = client.get(
        f"/render/{video.id}?t=1&wd=100", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


def test_the_proxy_is_read_when_it_holds_the_pixels(client, video, settings):
    """The proxy is 160x120, the original 320x240: outputs up to 160 px wide read the proxy."""
    small = frames.plan(video, _params(t=1, wd=160), settings)
    large = frames.plan(video, _params(t=1, wd=161), settings)
    whole = frames.plan(video, _params(t=1), settings)
    assert small.key == video.derivatives["proxy_video"].key
    assert large.key == whole.key == original_key(video.id)
    out = _jpeg(client.get(f"/render/{video.id}", params={"t": 1, "wd": 300}))
    assert (out.width, out.height) == (300, 225)
    out = _jpeg(client.get(f"/render/{video.id}", params={"t": 1}))
    assert (out.width, out.height) == (320, 240)


def _params(**query: object) -> RenderParams:
    return parse([(k, str(v)) for k, v in query.items()])


@pytest.mark.parametrize(
    ("value", "words"),
    [("-1", "greater than or equal to 0"), ("nan", "finite"), ("inf", "finite"),
     ("1e309", "less than or equal"), ("9" * 400, "less than or equal"), ("x", "number"),
     ("", "number")],
)  # fmt: skip
def test_bad_t_is_400(client, video, value, words):
    r = client.get(f"/render/{video.id}", params={"t": value})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_parameter" and error["message"].startswith("t:")
    assert words in error["message"]


def test_t_past_the_end_is_400_naming_the_duration(client, video):
    r = client.get(f"/render/{video.id}", params={"t": 4, "wd": 100})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert f"{video.media.duration:g} s" in error["message"]


def test_t_on_an_image_is_400(client, ingest, tmp_path):
    photo = ingest(make_jpeg(tmp_path / "p.jpg", 64, 48).read_bytes())
    r = client.get(f"/render/{photo.id}", params={"t": 1, "wd": 32})
    assert r.status_code == 400
    assert "only video assets" in r.json()["error"]["message"]


@pytest.mark.faults
def test_a_frame_that_takes_too_long_is_504_json(client, video, monkeypatch):
    monkeypatch.setattr(frames, "FRAME_TIMEOUT", 0.001)
    r = client.get(f"/render/{video.id}", params={"t": 2, "wd": 100})
    assert r.status_code == 504
    assert r.json()["error"]["code"] == "frame_timeout"


@pytest.mark.faults
def test_no_ffmpeg_is_503_json(client, video, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    r = client.get(f"/render/{video.id}", params={"t": 2, "wd": 100})
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "frames_unavailable"


def test_an_unreadable_video_is_422_json(client, video, store):
    store.put_bytes(original_key(video.id), b"not a video at all" * 100)
    r = client.get(f"/render/{video.id}", params={"t": 2})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "no_frame"


def test_s3_mode_reads_the_frame_by_presigned_url(settings, video, video_in_s3, store):
    s3 = video_in_s3
    local = TestClient(create_app(settings, store))
    remote = TestClient(create_app(settings, s3))
    for wd in (100, 300):  # from the proxy, from the original
        query = {"t": 3, "wd": wd, "fm": "png"}
        a = load(local.get(f"/render/{video.id}", params=query).content)
        b = load(remote.get(f"/render/{video.id}", params=query).content)
        assert (a.width, a.height) == (b.width, b.height) and _mean_difference(a, b) == 0


@pytest.mark.slow
def test_ffmpeg_seeks_a_presigned_url_by_range(tmp_path, s3_endpoint, s3_bucket):
    """A frame near the end of a 30 s clip reads its index and one GOP, not the file: ffmpeg
    reports what it read (`-v debug`: "Statistics: N bytes read")."""
    clip = tmp_path / "long.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=30", "-c:v", "libx264",
           "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
           str(clip))  # fmt: skip
    s3 = S3Store(s3_bucket, endpoint_url=s3_endpoint)
    s3.put_file("long.mp4", clip)
    url = s3.presigned_url("long.mp4")
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "debug", "-y", "-ss", "27", "-i", url, "-frames:v", "1",
         str(tmp_path / "f.jpg")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-500:]
    read = sum(int(n) for n in re.findall(r"Statistics: (\d+) bytes read", result.stderr))
    assert 0 < read < clip.stat().st_size * 0.2
