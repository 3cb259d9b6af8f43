"""/v1/search over videos and audio: duration and codec filters, tags as keywords, and the
index rebuilt from manifests (`picsha reindex`) keeps them."""

import pytest
from fastapi.testclient import TestClient

from ingest_worker import runtime
from ingest_worker.http.app import create_app
from ingest_worker.stages import index
from shared.settings import Settings
from shared.storage.local import LocalStore
from tests.helpers import API_KEY
from tests.helpers_media import ffmpeg, ingest, sine, tag_args

AUTH = {"x-api-key": API_KEY}


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A tagged 3 s MP3, an untagged 1 s Opus and an 8 s FLAC, ingested and indexed; made
    once for the module (the tests only read it, or rebuild the index from manifests)."""
    tmp_path = tmp_path_factory.mktemp("library")
    settings = Settings(data_dir=tmp_path / "data", api_keys=[API_KEY], analysis_enabled=False)
    store = LocalStore(settings.data_dir / "objects")
    made = {}
    for name, seconds, args in [
        ("night_train.mp3", 3, ["-c:a", "libmp3lame", *tag_args()]),
        ("memo.opus", 1, ["-c:a", "libopus"]),
        ("take.flac", 8, []),
    ]:
        path = tmp_path / name
        ffmpeg(*sine(seconds), *args, path)
        m = ingest(store, settings, path)
        index.index_manifest(m, runtime.index(settings))
        made[name] = m.id
    app = create_app(settings)
    app.state.store = store
    return TestClient(app), made, settings, store


def found(client, **params) -> set[str]:
    r = client.get("/v1/search", params=params, headers=AUTH)
    assert r.status_code == 200, r.text
    return {item["id"] for item in r.json()["items"]}


def test_duration_codec_kind_and_tags_narrow_the_search(library):
    client, ids, _, _ = library
    song, memo, take = ids["night_train.mp3"], ids["memo.opus"], ids["take.flac"]
    assert found(client, kind="audio") == {song, memo, take}
    assert found(client, min_duration=2) == {song, take}
    assert found(client, min_duration=2, max_duration=5) == {song}
    assert found(client, max_duration=2) == {memo}
    assert found(client, codec="OPUS") == {memo}
    assert found(client, codec="flac", min_duration=10) == set()
    assert found(client, q="sleepers") == {song}  # the artist tag
    assert found(client, q="timetables", codec="mp3") == {song}  # the album tag
    r = client.get("/v1/search", params={"kind": "audio", "min_duration": 2}, headers=AUTH)
    durations = {item["id"]: item["duration"] for item in r.json()["items"]}
    assert durations[song] == pytest.approx(3, abs=0.2)  # hits say how long they play


def test_bad_media_parameters_are_400(library):
    client, _, _, _ = library
    for params in ({"min_duration": -1}, {"max_duration": "long"}, {"codec": "x" * 65}):
        r = client.get("/v1/search", params=params, headers=AUTH)
        assert r.status_code == 400, params
        assert r.json()["error"]["code"] == "invalid_request"


def test_reindex_rebuilds_the_media_fields_from_manifests(library):
    client, ids, settings, store = library
    idx = runtime.index(settings)
    idx.clear()
    assert found(client, codec="mp3") == set()
    assert index.reindex(store, idx) == (3, 3)
    assert found(client, codec="mp3", min_duration=2) == {ids["night_train.mp3"]}


def test_the_openapi_describes_the_media_filters(library):
    client, _, _, _ = library
    schema = client.get("/openapi.json").json()
    params = {p["name"]: p for p in schema["paths"]["/v1/search"]["get"]["parameters"]}
    assert "seconds" in params["min_duration"]["description"]
    assert "seconds" in params["max_duration"]["description"]
    assert "h264" in params["codec"]["description"]
    kinds = str(params["kind"]["schema"])
    assert "video" in kinds and "audio" in kinds
