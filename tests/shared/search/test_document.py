"""What of a manifest's camera metadata is searchable."""

from shared.ids import new_id
from shared.manifest import Exposure, Manifest, MediaInfo, MediaTags, Metadata, Source
from shared.search.document import doc_from_manifest


def _doc(metadata: Metadata):
    source = Source(filename="p.jpg", size=1, sha256="0" * 64, mime="image/jpeg")
    return doc_from_manifest(Manifest(id=new_id(), source=source, metadata=metadata))


def test_the_camera_is_indexed_by_its_name_with_the_maker_once():
    doc = _doc(
        Metadata(
            camera={"make": "Canon", "model": "Canon EOS 6D", "name": "Canon EOS 6D"},
            lens="Canon EF 35mm f/2 IS USM",
            exposure=Exposure(program="Aperture-priority AE"),
        )
    )
    assert doc.camera == "Canon EOS 6D"
    assert "Canon EF 35mm" in doc.metadata_text and "Aperture-priority AE" in doc.metadata_text


def test_a_manifest_from_before_the_name_still_gives_make_and_model():
    assert _doc(Metadata(camera={"make": "NIKON", "model": "D70"})).camera == "NIKON D70"


def test_a_recording_is_indexed_by_length_codecs_and_tags():
    source = Source(filename="a.m4a", size=1, sha256="0" * 64, mime="audio/x-m4a")
    media = MediaInfo(
        duration=192.4, audio_codec="AAC", video_codec=None,
        tags=MediaTags(title="Night Train", artist="The Sleepers", album=None),
    )  # fmt: skip
    doc = doc_from_manifest(Manifest(id=new_id(), kind="audio", source=source, media=media))
    assert (doc.kind, doc.duration, doc.codecs) == ("audio", 192.4, ["aac"])
    assert "Night Train" in doc.metadata_text and "The Sleepers" in doc.metadata_text
    still = doc_from_manifest(Manifest(id=new_id(), source=source))
    assert (still.duration, still.codecs) == (None, [])
