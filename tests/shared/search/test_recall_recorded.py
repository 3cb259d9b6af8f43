"""Index logic regression on recorded analysis output (bench/search_eval_recorded.json):
the same labelled queries as the bench, no models needed. The bounds sit a little under
what the bench measured, so a ranking change that loses real hits fails here."""

import importlib.util
import json

import pytest

from tests.helpers import REPO


@pytest.fixture(scope="module")
def search_eval():
    spec = importlib.util.spec_from_file_location("search_eval", REPO / "bench/search_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def recorded(search_eval, tmp_path_factory):
    records, query_vectors, model = search_eval.load_recorded()
    assert len(records) >= 40 and len(query_vectors) >= 80
    path = tmp_path_factory.mktemp("recorded") / "search.sqlite3"
    index, owner = search_eval.build_index(records, path)
    yield records, query_vectors, model, index, owner
    index.close()


def test_ranking_without_the_floor_on_the_recorded_eval_set(search_eval, recorded):
    records, query_vectors, model, index, _ = recorded
    index.min_similarity = -1.0  # every vector candidate: the fused ranking alone
    result = search_eval.recall(index, records, query_vectors, model)
    index.min_similarity = None
    hybrid_at1, hybrid_at5, _, _ = result["hybrid"]
    _, keyword_at5, _, _ = result["keyword"]
    assert hybrid_at5 >= 0.70 and hybrid_at1 >= 0.45
    assert hybrid_at5 > keyword_at5  # the embedding earns its keep


def test_the_floor_keeps_real_hits_and_drops_nonsense(search_eval, recorded):
    records, query_vectors, model, index, _ = recorded
    result = search_eval.recall(index, records, query_vectors, model)
    hybrid_at1, hybrid_at5, _, per_query = result["hybrid"]
    _, keyword_at5, _, _ = result["keyword"]
    assert hybrid_at5 >= 0.55 and hybrid_at1 >= 0.35
    assert hybrid_at5 > keyword_at5  # still: vector hits above the floor find more
    assert per_query < 5  # matches, not the whole library (42) for every query
    nonsense = json.loads((REPO / "bench/search_eval.json").read_text())["nonsense"]
    found = search_eval.nonsense_results(index, nonsense, query_vectors, model)
    assert sum(n > 0 for n in found) <= 1, dict(zip(nonsense, found, strict=True))


def test_nonsense_finds_nothing_and_a_word_finds_its_picture(recorded):
    _, query_vectors, model, index, owner = recorded

    def search(q: str):
        page = index.search(q, query_vectors[q], model, limit=50)
        return page, [owner[h.id] for h in page.hits]

    page, found = search("zxqv nonsense")
    assert (found, page.total) == ([], 0)
    page, found = search("motorcycle")  # no keyword matches it: the embedding alone
    assert found == ["skimage:stereo_motorcycle"] and page.total == 1
    assert page.hits[0].matched == ["embedding"]
    page, found = search("dog")  # the pictures labelled dog, nothing else
    assert set(found) == {
        "darknet:dog.jpg", "darknet:person.jpg", "corpus:jpeg/cmyk_swop_canon_eos300d.jpg"
    }  # fmt: skip
    assert page.total == 3
