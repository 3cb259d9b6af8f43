"""/v1/search and friends over HTTP (TestClient), on assets analysed by the local models."""

import numpy as np
import pytest
import pyvips
from fastapi.testclient import TestClient

from ingest_worker import runtime
from ingest_worker.http.app import create_app
from ingest_worker.stages import analysis, index
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Metadata, Source, load_manifest, save_manifest
from shared.settings import Settings
from shared.storage.local import LocalStore
from tests.helpers import API_KEY
from tests.helpers_ai import local_provider_once, skimage_jpeg, text_jpeg

AUTH = {"x-api-key": API_KEY}
IMAGES = {
    "chelsea.jpg": lambda: skimage_jpeg("chelsea"),
    "coffee.jpg": lambda: skimage_jpeg("coffee"),
    "astronaut.jpg": lambda: skimage_jpeg("astronaut"),
    "rocket.jpg": lambda: skimage_jpeg("rocket"),
    "menu.jpg": lambda: text_jpeg("Lunch menu\nTomato soup 4.50"),
    "IMG_2041.jpg": lambda: _crop_of_astronaut(),
}


def _crop_of_astronaut() -> bytes:
    """The same woman, cropped, mirrored and resized: another photo of one person."""
    image = pyvips.Image.new_from_buffer(skimage_jpeg("astronaut"), "")
    return image.crop(50, 0, 400, 400).flip("horizontal").resize(1.7).jpegsave_buffer(Q=80)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """Five analysed assets, indexed; built once for the module (models are slow)."""
    provider = local_provider_once()
    settings = Settings(data_dir=tmp_path_factory.mktemp("lib") / "data", api_keys=[API_KEY])
    store = LocalStore(settings.data_dir / "objects")
    idx = runtime.index(settings)
    ids = {}
    for name, make in IMAGES.items():
        data = make()
        m = Manifest(
            id=new_id(),
            status="ready",
            kind="image",
            source=Source(filename=name, size=len(data), sha256=new_id(), mime="image/jpeg"),
        )
        if name == "chelsea.jpg":
            m.metadata = Metadata(camera={"make": "NIKON", "model": "D70"}, taken_at="2008-10-22")
        store.put_bytes(original_key(m.id), data)
        save_manifest(store, m)
        analysed = analysis.run(m.id, settings, store, provider)
        index.index_manifest(analysed, idx)
        ids[name] = m.id
    return settings, store, ids


@pytest.fixture(scope="module")
def client(library):
    settings, store, _ = library
    app = create_app(settings)
    app.state.store = store
    return TestClient(app)


def _search(client, **params):
    r = client.get("/v1/search", params=params, headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()


def test_describing_the_image_finds_it(client, library):
    _, _, ids = library
    for query, name in [
        ("cat", "chelsea.jpg"),
        ("a cup of coffee", "coffee.jpg"),
        ("woman astronaut", "astronaut.jpg"),
        ("soup", "menu.jpg"),
    ]:
        body = _search(client, q=query)
        assert body["items"][0]["id"] == ids[name], (query, body["items"][:2])
        assert body["mode"] == "hybrid"


def test_hits_carry_scores_matched_fields_and_links(client, library):
    hit = _search(client, q="cat")["items"][0]
    assert hit["score"] > 0 and "labels" in hit["matched"] and "embedding" in hit["matched"]
    assert hit["links"]["render"] == f"/render/{hit['id']}" and hit["alt_text"]


def test_filters_over_http(client, library):
    _, _, ids = library
    with_faces = {h["id"] for h in _search(client, has_faces="true")["items"]}
    assert with_faces == {ids["astronaut.jpg"], ids["IMG_2041.jpg"]}
    assert [h["id"] for h in _search(client, camera="d70")["items"]] == [ids["chelsea.jpg"]]
    assert _search(client, q="cat", kind="document")["items"] == []
    assert _search(client, date_from="2008-10-22", date_to="2008-10-22")["total"] == 1


def test_pages_follow_the_cursor(client):
    first = _search(client, q="photo", limit=2)
    second = _search(client, q="photo", limit=2, cursor=first["next_cursor"])
    assert not {h["id"] for h in first["items"]} & {h["id"] for h in second["items"]}
    r = client.get("/v1/search", params={"q": "cat", "cursor": "nonsense"}, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    "q", ["", "x" * 10_240, '"', "*", "NEAR(a b)", "-", "猫 кошка 🐈", "'; DROP TABLE docs;--"]
)
def test_any_query_text_is_answered(client, q):
    body = _search(client, q=q)
    assert isinstance(body["items"], list)


def test_bad_parameters_are_400(client):
    for params in ({"limit": 0}, {"kind": "cat"}, {"date_from": "yesterday"}, {"q": "x" * 20_000}):
        r = client.get("/v1/search", params=params, headers=AUTH)
        assert r.status_code == 400, params
        assert r.json()["error"]["code"] == "invalid_request"


def test_similar_and_duplicates(client, library):
    _, _, ids = library
    r = client.get(f"/v1/assets/{ids['chelsea.jpg']}/similar", headers=AUTH)
    items = r.json()["items"]
    assert r.status_code == 200 and len(items) == 5
    assert ids["chelsea.jpg"] not in [h["id"] for h in items]
    dupes = client.get(f"/v1/assets/{ids['chelsea.jpg']}/duplicates", headers=AUTH)
    assert dupes.json() == {"items": []}
    assert client.get(f"/v1/assets/{new_id()}/similar", headers=AUTH).status_code == 404


def test_alt_text_as_json_and_as_an_event_stream(client, library):
    _, _, ids = library
    r = client.get(f"/v1/assets/{ids['coffee.jpg']}/alt-text", headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert "espresso" in body["alt_text"].lower() and body["source"] and body["provider"] == "local"
    headers = {**AUTH, "accept": "text/event-stream"}
    with client.stream("GET", f"/v1/assets/{ids['coffee.jpg']}/alt-text", headers=headers) as s:
        assert s.headers["content-type"].startswith("text/event-stream")
        text = "".join(s.iter_text())
    assert "espresso" in text.lower() and "event: done" in text


def test_generate_with_the_local_provider_is_501(client):
    r = client.post("/v1/generate", json={"prompt": "a red bicycle"}, headers=AUTH)
    assert r.status_code == 501
    assert r.json()["error"]["code"] == "capability_missing"
    assert "text-to-image" in r.json()["error"]["message"]


def test_search_routes_need_a_key(client, library):
    _, _, ids = library
    for path in ["/v1/search?q=cat", f"/v1/assets/{ids['coffee.jpg']}/similar"]:
        assert client.get(path).status_code == 401


def test_delete_takes_the_asset_out_of_search(client, library):
    settings, store, ids = library
    asset_id = ids["rocket.jpg"]
    assert load_manifest(store, asset_id) is not None
    assert client.delete(f"/v1/assets/{asset_id}", headers=AUTH).status_code == 204
    assert asset_id not in [h["id"] for h in _search(client, q="rocket", limit=100)["items"]]
    assert runtime.index(settings).get(asset_id) is None


def test_vectors_round_trip_through_the_manifest(library):
    settings, store, ids = library
    m = load_manifest(store, ids["coffee.jpg"])
    doc = runtime.index(settings).get(m.id)
    assert doc.vector.shape == (m.analysis.embedding.dim,)
    assert np.isclose(float(np.linalg.norm(doc.vector)), 1.0, atol=1e-4)


def test_people_group_the_same_face_across_photos(client, library):
    _, _, ids = library
    body = client.get("/v1/people", headers=AUTH).json()
    assert body["total"] == 1
    (person,) = body["items"]
    assert {a["id"] for a in person["assets"]} == {ids["astronaut.jpg"], ids["IMG_2041.jpg"]}
    assert person["face_count"] == 2 and len(person["cover"]["box"]) == 4
    one = client.get(person["links"]["self"], headers=AUTH)
    assert one.status_code == 200 and one.json()["asset_count"] == 2
    assert client.get("/v1/people/nobody", headers=AUTH).status_code == 404
