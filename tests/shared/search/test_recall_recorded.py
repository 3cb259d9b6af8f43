"""Index logic regression on recorded analysis output (bench/search_eval_recorded.json):
the same labelled queries as the bench, no models needed. The floors sit a little under
what the bench measured, so a ranking change that loses real hits fails here."""

import importlib.util
from pathlib import Path

import pytest

from tests.helpers import REPO


@pytest.fixture(scope="module")
def search_eval():
    spec = importlib.util.spec_from_file_location("search_eval", REPO / "bench/search_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recall_on_the_recorded_eval_set(search_eval, tmp_path: Path):
    records, query_vectors, model = search_eval.load_recorded()
    assert len(records) >= 40 and len(query_vectors) >= 80
    index, _ = search_eval.build_index(records, tmp_path / "search.sqlite3")
    result = search_eval.recall(index, records, query_vectors, model)
    hybrid_at1, hybrid_at5, _ = result["hybrid"]
    _, keyword_at5, _ = result["keyword"]
    assert hybrid_at5 >= 0.70 and hybrid_at1 >= 0.45
    assert hybrid_at5 > keyword_at5  # the embedding earns its keep
