import json

from shared.keys import manifest_key
from shared.manifest import (
    SCHEMA_VERSION,
    Box,
    Manifest,
    Source,
    load_manifest,
    save_manifest,
)


def _manifest() -> Manifest:
    return Manifest(id="a" * 21, source=Source(filename="x.jpg", size=3, sha256="0" * 64))


def test_round_trip_through_the_store_with_schema_field(store):
    m = _manifest()
    save_manifest(store, m)
    raw = json.loads(store.get_bytes(manifest_key(m.id)))
    assert raw["schema"] == SCHEMA_VERSION
    assert raw["status"] == "queued"
    loaded = load_manifest(store, m.id)
    assert loaded is not None and loaded.id == m.id and loaded.source.sha256 == "0" * 64


def test_unknown_fields_survive_read_modify_write(store):
    m = _manifest()
    save_manifest(store, m)
    raw = json.loads(store.get_bytes(manifest_key(m.id)))
    raw["from_the_future"] = {"x": 1}
    store.put_bytes(manifest_key(m.id), json.dumps(raw).encode())
    loaded = load_manifest(store, m.id)
    save_manifest(store, loaded)
    assert json.loads(store.get_bytes(manifest_key(m.id)))["from_the_future"] == {"x": 1}


def test_version_changes_when_saved_again(store):
    m = _manifest()
    save_manifest(store, m)
    before = m.version
    import time

    time.sleep(0.002)
    save_manifest(store, m)
    assert m.version != before


def test_missing_manifest_is_none(store):
    assert load_manifest(store, "b" * 21) is None


# Written by the analysis stage before `analysis` was typed (a stand-in provider, the real
# analyze() and duplicates record, commit aab32eb): old manifests must keep loading.
DONE_BEFORE_TYPING = (
    '{"id":"a1","schema":1,"status":"ready","error":null,"created_at":"2026-12-04T09:00:00Z'
    '","updated_at":"2026-12-04T09:00:00Z","pre_render_sizes":false,"upload_via":"api","att'
    'empts":0,"source":{"filename":"l.jpg","size":847,"sha256":"000000000000000000000000000'
    '0000000000000000000000000000000000000","mime":"image/jpeg","declared_mime":null},"kind'
    '":"image","image":{"width":64,"height":48,"orientation":1,"has_alpha":false,"pages":1,'
    '"animated":false,"icc":null},"metadata":null,"derivatives":{},"analysis":{"provider":"'
    'fake","analyzed_at":"2026-12-04T09:00:00.000000+00:00","dhash":"0000000000000000","lab'
    'els":[{"name":"lighthouse","confidence":0.91}],"faces":[{"box":[0.1,0.2,0.25,0.3],"con'
    'fidence":0.99,"embedding":[0.5,-0.5]},{"box":[0.6,0.1,0.2,0.2],"confidence":0.9,"face_'
    'id":"f-2","matches":["f-1"]}],"ocr_text":"KEEP OUT","colors":["black"],"description":"'
    "A photo of lighthouse. Shows 2 people (faces). Colours: black. Text: KEEP OUT. File l."
    '","alt_text":"A lighthouse.","alt_text_source":"written by fake","summary":null,"embed'
    'ding":{"model":"fake-embed","dim":2,"vector":"mpkZP83MTD8="},"status":"done","duplicat'
    'es":[{"id":"b2","hash_distance":3,"cosine":0.9812}]},"placeholders":null}'
)
SKIPPED_BEFORE_TYPING = (
    '{"provider": "local", "analyzed_at": "2026-12-04T09:06:13.384084+00:00", '
    '"status": "skipped", "reason": "the local provider needs the ai extra: pip install .[ai]"}'
)
FAILED_BEFORE_TYPING = (
    '{"provider": "fake", "analyzed_at": "2026-12-04T09:06:13.384084+00:00", '
    '"status": "failed", "error": {"code": "provider_error", "message": "model exploded"}}'
)


def test_an_analysis_written_before_typing_loads_with_attributes():
    m = Manifest.model_validate_json(DONE_BEFORE_TYPING)
    a = m.analysis
    assert a.status == "done" and a.provider == "fake"
    assert a.analyzed_at.year == 2026
    assert [(lb.name, lb.confidence) for lb in a.labels] == [("lighthouse", 0.91)]
    first, second = a.faces
    assert first.box == Box(x=0.1, y=0.2, width=0.25, height=0.3) and first.embedding == [0.5, -0.5]
    assert second.face_id == "f-2" and second.matches == ["f-1"] and second.embedding is None
    assert a.ocr_text == "KEEP OUT" and a.alt_text == "A lighthouse." and a.summary is None
    assert a.embedding.model == "fake-embed" and a.embedding.dim == 2
    assert a.dhash == "0000000000000000"
    assert a.duplicates[0].id == "b2" and a.duplicates[0].hash_distance == 3


def test_face_boxes_are_fractions_stored_as_four_numbers():
    m = Manifest.model_validate_json(DONE_BEFORE_TYPING)
    box = m.analysis.faces[0].box
    assert box.pixels(640, 480) == (64.0, 96.0, 160.0, 144.0)
    stored = json.loads(m.to_json())["analysis"]["faces"][0]["box"]
    assert stored == [0.1, 0.2, 0.25, 0.3]  # the JSON shape clients and the console read


def test_skipped_and_failed_records_default_what_they_lack():
    base = json.loads(DONE_BEFORE_TYPING)
    skipped = Manifest.model_validate(base | {"analysis": json.loads(SKIPPED_BEFORE_TYPING)})
    a = skipped.analysis
    assert a.status == "skipped" and "ai extra" in a.reason
    assert a.faces is None and a.labels == [] and a.embedding is None and a.alt_text is None
    failed = Manifest.model_validate(base | {"analysis": json.loads(FAILED_BEFORE_TYPING)})
    assert failed.analysis.error.code == "provider_error" and failed.analysis.dhash is None


def test_unknown_analysis_fields_survive_a_rewrite():
    raw = json.loads(DONE_BEFORE_TYPING)
    raw["analysis"]["caption_v2"] = {"text": "from a newer worker"}
    m = Manifest.model_validate(raw)
    again = json.loads(m.to_json())
    assert again["analysis"]["caption_v2"] == {"text": "from a newer worker"}
