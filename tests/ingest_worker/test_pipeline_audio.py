"""Audio through the whole pipeline on a local store: what a client then finds."""

import pytest

from ingest_worker import pipeline
from shared import media
from shared.keys import derivative_key, original_key
from shared.manifest import load_manifest
from tests.helpers_media import TAGS, ffmpeg, sine, tag_args, ten_hour_flac, upload

# Real ffmpeg encodes of generated clips: seconds each, so out of the fast set.
pytestmark = pytest.mark.slow


def test_an_mp3_with_cover_art_ends_ready_with_poster_proxy_and_tags(tmp_path, settings, store):
    cover = tmp_path / "cover.jpg"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=400x400", "-frames:v", "1", cover)
    path = tmp_path / "song.mp3"
    ffmpeg(*sine(3), "-i", cover, "-map", "0", "-map", "1", "-c:a", "libmp3lame", "-c:v",
           "copy", "-disposition:v", "attached_pic", *tag_args(), path)  # fmt: skip
    asset_id = upload(store, path.read_bytes(), "song.mp3")
    m = pipeline.process(asset_id, settings, store)
    assert m.status == "ready", m.error
    assert (m.kind, m.source.mime) == ("audio", "audio/mpeg")
    assert m.progress is None
    assert m.media.tags.model_dump() == TAGS
    assert m.media.duration == pytest.approx(3, abs=0.1)
    assert (m.media.audio_codec, m.media.poster_source) == ("mp3", "cover_art")
    assert {"poster", "proxy_audio", "thumb"} <= set(m.derivatives)
    assert (m.image.width, m.image.height) == (400, 400)
    poster = store.get_bytes(derivative_key(asset_id, "poster"))
    assert poster[:3] == b"\xff\xd8\xff"
    proxy = m.derivatives["proxy_audio"]
    assert proxy.key.endswith("proxy.m4a")
    local = tmp_path / "proxy.m4a"
    local.write_bytes(store.get_bytes(proxy.key))
    assert media.probe(local).audio_codec == "aac"
    assert store.get_bytes(original_key(asset_id)) == path.read_bytes()


def test_a_wav_ends_ready_with_a_waveform_poster(tmp_path, settings, store):
    path = tmp_path / "take.wav"
    ffmpeg(*sine(1), path)
    m = pipeline.process(upload(store, path.read_bytes(), "take.wav"), settings, store)
    assert m.status == "ready", m.error
    assert (m.kind, m.media.poster_source) == ("audio", "waveform")
    assert (m.image.width, m.image.height) == (1200, 300)
    assert m.media.tags is None


@pytest.mark.faults
def test_ten_hours_of_audio_fail_too_long_and_keep_the_original(tmp_path, settings, store):
    data = ten_hour_flac(tmp_path).read_bytes()
    asset_id = upload(store, data, "ten_hours.flac")
    m = pipeline.process(asset_id, settings, store)
    assert m.status == "failed"
    assert m.error.code == "too_long"
    assert "36000" in m.error.message
    assert store.get_bytes(original_key(asset_id)) == data
    assert not store.exists(derivative_key(asset_id, "proxy_audio"))


def test_the_limit_is_a_setting(tmp_path, settings, store):
    path = tmp_path / "three.ogg"
    ffmpeg(*sine(3), "-c:a", "libvorbis", path)
    short = settings.model_copy(update={"max_media_seconds": 2.0})
    m = pipeline.process(upload(store, path.read_bytes(), "three.ogg"), short, store)
    assert (m.status, m.error.code) == ("failed", "too_long")


@pytest.mark.faults
def test_a_transcode_over_its_time_fails_timeout_with_no_progress_left(tmp_path, settings, store):
    path = tmp_path / "take.wav"
    ffmpeg(*sine(2), path)
    quick = settings.model_copy(
        update={"media_timeout_seconds": 0.001, "media_timeout_per_second": 0.0}
    )
    asset_id = upload(store, path.read_bytes(), "take.wav")
    m = pipeline.process(asset_id, quick, store)
    assert (m.status, m.error.code, m.error.stage) == ("failed", "timeout", "media")
    assert m.progress is None
    assert load_manifest(store, asset_id).progress is None
