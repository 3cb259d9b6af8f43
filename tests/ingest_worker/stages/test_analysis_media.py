"""Videos and audio are analysed from their poster (a frame, the cover art) and described
as what they are: a video or a recording, with its length and tags. (A video's sampled
frames: test_video_frames.py.)"""

import pytest

from ingest_worker.stages import analysis
from shared.ids import new_id
from shared.keys import derivative_key, original_key
from shared.manifest import (
    DerivativeInfo,
    ImageInfo,
    Manifest,
    MediaInfo,
    MediaTags,
    Source,
    save_manifest,
)
from tests.helpers_ai import local_provider_once, skimage_jpeg
from tests.helpers_media import ffmpeg, ingest, sine, tag_args


@pytest.fixture(scope="module")
def provider():
    return local_provider_once()


def test_audio_is_analysed_from_its_cover_art(tmp_path, settings, store, provider):
    cover = tmp_path / "cat.jpg"
    cover.write_bytes(skimage_jpeg("chelsea"))
    path = tmp_path / "night_train.mp3"
    ffmpeg(*sine(2), "-i", cover, "-map", "0", "-map", "1", "-c:a", "libmp3lame", "-c:v",
           "copy", "-disposition:v", "attached_pic", *tag_args(), path)  # fmt: skip
    m = ingest(store, settings, path)
    a = analysis.run(m.id, settings, store, provider).analysis
    assert a.status == "done"
    assert "cat" in " ".join(lb.name for lb in a.labels[:3]).lower()
    assert a.alt_text.startswith('Audio (0:02): "Night Train" by The Sleepers, from Timetables')
    assert "cover art of" in a.alt_text and "cat" in a.alt_text
    assert a.description.startswith("An audio recording (0:02)")
    assert a.embedding.dim == 384
    assert a.frames is None  # sampled frames are for videos


def test_a_waveform_is_not_shown_to_the_models(tmp_path, settings, store, provider):
    path = tmp_path / "take.wav"
    ffmpeg(*sine(2), path)
    m = ingest(store, settings, path)
    a = analysis.run(m.id, settings, store, provider).analysis
    assert a.status == "done"
    assert (a.labels, a.faces, a.ocr_text, a.colors, a.dhash) == ([], [], "", [], None)
    assert a.alt_text == "Audio (0:02)."
    assert a.description == "An audio recording (0:02). File take."


def test_a_video_is_analysed_from_its_poster_frame(settings, store, provider):
    """A ready video as the media stage leaves it, but its original undecodable: the
    sampled frames are skipped and the poster alone is analysed."""
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), b"not read by analysis")
    poster = derivative_key(asset_id, "poster")
    store.put_bytes(poster, skimage_jpeg("astronaut"))
    manifest = Manifest(
        id=asset_id,
        status="ready",
        kind="video",
        source=Source(filename="launch.mp4", size=20, sha256="0" * 64, mime="video/mp4"),
        image=ImageInfo(width=512, height=512),
        media=MediaInfo(duration=62.0, video_codec="h264", tags=MediaTags(title="Launch")),
        derivatives={"poster": DerivativeInfo(key=poster, width=512, height=512, bytes=1)},
    )
    save_manifest(store, manifest)
    a = analysis.run(asset_id, settings, store, provider).analysis
    assert a.status == "done", a.error
    assert len(a.faces) == 1 and a.frames == []
    assert a.alt_text.startswith('Video (1:02): "Launch"')
    assert a.description.startswith('A video (1:02): "Launch", showing')
