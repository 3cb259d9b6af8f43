"""Delivery's tests build ready assets with shared code only: `ingest_worker` is never imported
here (tests/delivery/test_isolation.py checks). What only the real pipeline makes (proxies,
posters, the pyramid) is tested in tests/end_to_end."""

import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from delivery.app import create_app
from shared import imaging
from shared.ids import new_id
from shared.keys import DERIVATIVE_FILES, derivative_key, manifest_key, original_key
from shared.manifest import (
    AssetError,
    DerivativeInfo,
    ImageInfo,
    Manifest,
    Source,
    save_manifest,
)
from shared.media import frame_at, probe
from shared.storage.s3 import S3Store
from tests.video_clips import ffmpeg


@pytest.fixture
def client(settings, store):
    return TestClient(create_app(settings, store))


@pytest.fixture
def ingest(settings, store, tmp_path):
    """Store a web-native image (JPEG, PNG, WebP, GIF, AVIF) as a ready asset whose manifest
    holds what ingest records from its header; `process=False` leaves it queued. Returns the
    manifest."""

    def _ingest(data: bytes, name: str = "x", process: bool = True) -> Manifest:
        asset_id = new_id()
        store.put_bytes(original_key(asset_id), data)
        sha256 = hashlib.sha256(data).hexdigest()
        manifest = Manifest(
            id=asset_id, source=Source(filename=name, size=len(data), sha256=sha256)
        )
        if process:
            fmt = imaging.sniff_format(data)
            assert fmt in imaging.MIME_BY_FORMAT, f"{name}: not a web-native image (end_to_end)"
            path = tmp_path / f"{asset_id}.{fmt}"
            path.write_bytes(data)
            header = imaging.probe(path, settings.max_source_pixels)
            manifest.source.mime = imaging.MIME_BY_FORMAT[fmt]
            manifest.kind = "image"
            manifest.status = "ready"
            manifest.image = header.image_info()
        save_manifest(store, manifest)
        return manifest

    return _ingest


@pytest.fixture
def failed_asset(ingest, store) -> Manifest:
    """An asset ingest gave up on (an empty upload)."""
    manifest = ingest(b"", "empty", process=False)
    manifest.status = "failed"
    manifest.error = AssetError(stage="sniff", code="empty_file", message="the upload is empty")
    save_manifest(store, manifest)
    return manifest


@pytest.fixture(scope="session")
def video_files(tmp_path_factory) -> dict[str, Path]:
    """A 4 s 320x240 clip (testsrc2: every frame differs; a 440 Hz tone) as ingest would
    leave it: the original, a 160x120 H.264 faststart proxy.mp4, a silent preview.mp4, a
    proxy.m4a, and poster.jpg (the frame at 1 s). Made once per session."""
    folder = tmp_path_factory.mktemp("video")
    files = {name: folder / name for name in ("original", "proxy.mp4", "preview.mp4",
                                               "proxy.m4a", "poster.jpg")}  # fmt: skip
    lavfi = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=4",
             "-f", "lavfi", "-i", "sine=frequency=440:duration=4"]  # fmt: skip
    h264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"]
    ffmpeg(*lavfi, *h264, "-c:a", "aac", "-f", "mp4", str(files["original"]))
    ffmpeg("-i", str(files["original"]), "-vf", "scale=160:120", *h264, "-c:a", "aac",
           "-movflags", "+faststart", str(files["proxy.mp4"]))  # fmt: skip
    ffmpeg("-i", str(files["original"]), "-t", "2", "-an", "-vf", "scale=80:60", *h264,
           "-movflags", "+faststart", str(files["preview.mp4"]))  # fmt: skip
    ffmpeg("-i", str(files["original"]), "-vn", "-c:a", "aac", str(files["proxy.m4a"]))
    frame_at(files["original"], 1.0, files["poster.jpg"])
    return files


@pytest.fixture
def video(store, video_files) -> Manifest:
    """The clip of `video_files` stored as a ready video asset, as ingest records one."""
    asset_id = new_id()
    data = video_files["original"].read_bytes()
    store.put_bytes(original_key(asset_id), data, "video/mp4")
    derivatives = {}
    sizes = {"poster": (320, 240), "proxy_video": (160, 120), "preview": (80, 60),
             "proxy_audio": (None, None)}  # fmt: skip
    for name, (width, height) in sizes.items():
        body = video_files[DERIVATIVE_FILES[name]].read_bytes()
        key = derivative_key(asset_id, name)  # type: ignore[arg-type]
        store.put_bytes(key, body)
        derivatives[name] = DerivativeInfo(key=key, width=width, height=height, bytes=len(body))
    manifest = Manifest(
        id=asset_id,
        status="ready",
        kind="video",
        source=Source(
            filename="clip.mp4",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            mime="video/mp4",
        ),
        image=ImageInfo(width=320, height=240),  # the poster's
        media=probe(video_files["original"]),
        derivatives=derivatives,
    )
    save_manifest(store, manifest)
    return manifest


@pytest.fixture
def video_in_s3(s3_endpoint, s3_bucket, video, store) -> S3Store:
    """The `video` asset's original, proxy and manifest copied into the S3 test bucket."""
    s3 = S3Store(s3_bucket, endpoint_url=s3_endpoint)
    for key in (original_key(video.id), video.derivatives["proxy_video"].key,
                manifest_key(video.id)):  # fmt: skip
        s3.put_bytes(key, store.get_bytes(key))
    return s3
