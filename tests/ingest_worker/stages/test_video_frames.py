"""A video is analysed from its poster and a few sampled frames: what shows up later in the
clip (a title card, another subject) is found too, and a frame that fails costs nothing."""

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from ingest_worker import runtime
from ingest_worker.stages import analysis, index, video_frames
from shared.ai import Label
from shared.ai.bedrock.provider import EMBED_DIM, BedrockProvider
from shared.ai.bedrock.retry import Retrier
from shared.ai.local.provider import LocalProvider
from shared.manifest import load_manifest, save_manifest
from tests.helpers_ai import local_provider_once, skimage_jpeg, text_jpeg
from tests.helpers_media import ingest
from tests.video_clips import slideshow

# Poster candidates sit at 10-70 % of a clip, frames at 1/6, 1/2 and 5/6: a 12 s clip
# whose last 3 s show something else has a poster of its first scene, and one sampled
# frame (at 10 s) of the last.
CAT_THEN = 9.0
LAST = 3.0


@pytest.fixture(scope="module")
def provider():
    return local_provider_once()


def test_sample_times_spread_over_the_clip_fewer_for_short_ones():
    assert video_frames.sample_times(12.0) == [2.0, 6.0, 10.0]
    assert video_frames.sample_times(3600.0) == [600.0, 1800.0, 3000.0]
    assert video_frames.sample_times(5.0) == [1.25, 3.75]
    assert video_frames.sample_times(3.0) == [1.5]
    assert video_frames.sample_times(1.5) == []  # the poster is the clip
    assert video_frames.sample_times(None) == video_frames.sample_times(0.0) == []


def test_labels_keep_their_best_confidence_once():
    merged = video_frames.merge_labels(
        [Label("cat", 0.8), Label("tabby", 0.3)], [Label("tabby", 0.6), Label("cup", 0.5)]
    )
    assert [(lb.name, lb.confidence) for lb in merged] == [
        ("cat", 0.8), ("tabby", 0.6), ("cup", 0.5),
    ]  # fmt: skip


def test_text_adds_new_lines_only_within_the_bound():
    text = video_frames.merge_text(
        "OPEN 24 HOURS", ["open  24 hours", "", "Harbour Festival", "HARBOUR FESTIVAL"]
    )
    assert text == "OPEN 24 HOURS\nHarbour Festival"
    assert video_frames.merge_text("", ["Harbour Festival"]) == "Harbour Festival"
    bounded = video_frames.merge_text("poster words", ["one two three four"], limit=24)
    assert bounded == "poster words\none two"
    assert video_frames.merge_text("a" * 30, ["more text"], limit=24) == "a" * 30
    # A caption that stays on screen under a new title is read once, line by line.
    text = video_frames.merge_text("Harbour Festival\nTickets", ["HARBOUR FESTIVAL\nDay two"])
    assert text == "Harbour Festival\nTickets\nDay two"


def _cat_then(tmp_path, settings, store, last: bytes, name: str):
    path = slideshow(tmp_path / name, [(skimage_jpeg("chelsea"), CAT_THEN), (last, LAST)])
    return ingest(store, settings, path)


@pytest.mark.slow
def test_text_shown_after_the_poster_is_read_and_found_by_search(
    tmp_path, settings, store, provider
):
    card = text_jpeg("Harbour Festival\nTickets", dpi=300)
    m = _cat_then(tmp_path, settings, store, card, "festival.mp4")
    after = analysis.run(m.id, settings, store, provider)
    a = after.analysis
    assert a.status == "done", a.error
    assert "cat" in [lb.name for lb in a.labels]  # the poster: the cat
    assert "harbour festival" in a.ocr_text.lower()
    assert "Harbour" in a.description
    # The frames at 2 s and 6 s are the poster's picture again: no model call for them.
    assert a.frames == [10.0]
    assert "Harbour" not in a.alt_text  # alt text describes the poster a reader sees
    idx = runtime.index(settings)
    index.index_manifest(after, idx)
    assert m.id in [hit.id for hit in idx.search("harbour festival").hits]


@pytest.mark.slow
def test_labels_of_a_later_scene_join_the_posters(tmp_path, settings, store, provider):
    m = _cat_then(tmp_path, settings, store, skimage_jpeg("coffee"), "break.mp4")
    a = analysis.run(m.id, settings, store, provider).analysis
    assert a.status == "done", a.error
    names = [lb.name for lb in a.labels]
    assert "cat" in names and "espresso" in names
    assert len(names) == len(set(names))
    confidences = [lb.confidence for lb in a.labels]
    assert confidences == sorted(confidences, reverse=True)
    assert a.faces == [] and len(a.dhash) == 16  # the poster's


@pytest.mark.slow
def test_a_truncated_proxy_leaves_the_analysis_to_the_poster(tmp_path, settings, store, provider):
    card = text_jpeg("Harbour Festival", dpi=300)
    m = _cat_then(tmp_path, settings, store, card, "cut.mp4")
    proxy = m.derivatives["proxy_video"].key
    data = store.get_bytes(proxy)
    store.put_bytes(proxy, data[: len(data) * 2 // 5])  # the index, then part of the frames
    a = analysis.run(m.id, settings, store, provider).analysis
    assert a.status == "done", a.error
    assert "cat" in [lb.name for lb in a.labels]
    assert a.ocr_text == "" and a.frames == []


@pytest.mark.slow
def test_without_a_proxy_frames_come_from_the_original(tmp_path, settings, store, provider):
    card = text_jpeg("Harbour Festival", dpi=300)
    m = _cat_then(tmp_path, settings, store, card, "old.mp4")
    store.delete_prefix(m.derivatives.pop("proxy_video").key)
    save_manifest(store, m)
    a = analysis.run(m.id, settings, store, provider).analysis
    assert "harbour festival" in a.ocr_text.lower() and a.frames == [10.0]


class _CrashesAfterThePoster(LocalProvider):
    """The local models, but OCR crashes on every picture after the first (the poster)."""

    def __init__(self) -> None:
        super().__init__()
        self._models = local_provider_once()._models  # the loaded models, shared
        self.reads = 0

    def ocr(self, jpeg: bytes) -> str:
        self.reads += 1
        if self.reads > 1:
            raise RuntimeError("segmentation model blew up")
        return super().ocr(jpeg)


@pytest.mark.slow
@pytest.mark.faults
def test_a_model_crash_on_a_frame_costs_the_frame_not_the_analysis(tmp_path, settings, store):
    card = text_jpeg("Harbour Festival", dpi=300)
    m = _cat_then(tmp_path, settings, store, card, "crash.mp4")
    crashing = _CrashesAfterThePoster()
    after = analysis.run(m.id, settings, store, crashing)
    assert crashing.reads == 2  # the poster, then the frame at 10 s
    assert after.analysis.status == "done", after.analysis.error
    assert after.analysis.frames == [] and after.analysis.ocr_text == ""
    assert load_manifest(store, m.id).analysis.status == "done"


@pytest.mark.slow
def test_with_bedrock_a_frame_costs_two_rekognition_calls(tmp_path, settings, store):
    """The poster's 3 Rekognition calls, labels + text for the one frame that is not the
    poster again, then Titan and Claude once: Stubber fails on any call beyond these."""
    card = text_jpeg("Harbour Festival", dpi=300)
    m = _cat_then(tmp_path, settings, store, card, "bedrock.mp4")
    rek, bedrock = (boto3.client(s, region_name="us-east-1", aws_access_key_id="x",
                                 aws_secret_access_key="x")
                    for s in ("rekognition", "bedrock-runtime"))  # fmt: skip
    provider = BedrockProvider(rek, bedrock, retrier=Retrier(sleep=lambda s: None))
    line = {"DetectedText": "Harbour Festival", "Type": "LINE", "Confidence": 99.0}
    with Stubber(rek) as r, Stubber(bedrock) as b:
        r.add_response("detect_labels", {"Labels": [{"Name": "Cat", "Confidence": 97.0}]})
        r.add_response("detect_faces", {"FaceDetails": []})
        r.add_response("detect_text", {"TextDetections": []})
        frame_labels = [{"Name": "Poster", "Confidence": 90.0}, {"Name": "Cat", "Confidence": 60.0}]
        r.add_response("detect_labels", {"Labels": frame_labels})
        r.add_response("detect_text", {"TextDetections": [line]})
        raw = json.dumps({"embedding": [1.0] * EMBED_DIM}).encode()
        body = StreamingBody(io.BytesIO(raw), len(raw))
        b.add_response("invoke_model", {"body": body, "contentType": "application/json"})
        b.add_response("converse", {
            "output": {"message": {"role": "assistant", "content": [{"text": "A cat."}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
            "metrics": {"latencyMs": 1},
        })  # fmt: skip
        a = analysis.run(m.id, settings, store, provider).analysis
        r.assert_no_pending_responses()
        b.assert_no_pending_responses()
    assert a.status == "done", a.error
    assert [(lb.name, lb.confidence) for lb in a.labels] == [("Cat", 0.97), ("Poster", 0.9)]
    assert a.ocr_text == "Harbour Festival" and a.frames == [10.0]
    assert a.alt_text == "A cat."
