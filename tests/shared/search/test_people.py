"""Faces grouped into people, on descriptors with a known layout."""

import numpy as np

from shared.search import IndexDoc
from shared.search.embedded import EmbeddedIndex
from shared.search.people import group_faces

BOX = [0.1, 0.1, 0.2, 0.2]


def face(base: int, jitter: float = 0.0) -> np.ndarray:
    v = np.zeros(128, dtype=np.float32)
    v[base] = 1.0
    v[127] = jitter
    return v


def test_faces_within_the_threshold_are_one_person_even_through_a_chain():
    vectors = np.stack([face(0), face(0, 0.3), face(0, 0.55), face(5), face(9)])
    keys = [("a", 0), ("b", 0), ("c", 0), ("a", 1), ("d", 0)]
    people = group_faces(keys, [BOX] * 5, vectors)
    assert [p.face_count for p in people] == [3, 1, 1]
    assert people[0].asset_ids == ["a", "b", "c"] and people[0].cover == ("a", BOX)
    assert {tuple(p.asset_ids) for p in people[1:]} == {("a",), ("d",)}


def test_ids_are_stable_when_unrelated_faces_come_and_go():
    base = [("a", 0), ("b", 0)]
    one = group_faces(base, [BOX] * 2, np.stack([face(0), face(0, 0.1)]))
    two = group_faces([*base, ("z", 0)], [BOX] * 3, np.stack([face(0), face(0, 0.1), face(3)]))
    assert one[0].id == two[0].id


def test_many_faces_are_grouped_in_blocks():
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((30, 128)).astype(np.float32) * 2
    vectors = np.repeat(centres, 100, axis=0) + rng.normal(0, 0.01, (3000, 128)).astype(np.float32)
    keys = [(f"asset{i:05d}", 0) for i in range(3000)]
    people = group_faces(keys, [BOX] * 3000, vectors)
    assert len(people) == 30 and all(p.face_count == 100 for p in people)


def test_the_embedded_index_groups_and_forgets_deleted_faces(tmp_path):
    index = EmbeddedIndex(tmp_path / "s.sqlite3")
    index.upsert(IndexDoc(id="a", face_vectors=[(BOX, face(0)), (BOX, face(4))]))
    index.upsert(IndexDoc(id="b", face_vectors=[(BOX, face(0, 0.2))]))
    people = index.people()
    assert (people[0].face_count, people[0].asset_ids) == (2, ["a", "b"])
    index.delete("b")
    assert [p.face_count for p in index.people()] == [1, 1]
    index.clear()
    assert index.people() == []


def test_faces_matched_by_a_face_service_are_one_person(tmp_path):
    index = EmbeddedIndex(tmp_path / "s.sqlite3")
    index.upsert(IndexDoc(id="p1", face_links=[(BOX, "face-1", [])]))
    index.upsert(IndexDoc(id="p2", face_links=[(BOX, "face-2", ["face-1"]), (BOX, "face-3", [])]))
    index.upsert(IndexDoc(id="p3", face_links=[(BOX, "face-4", ["face-2", "gone"])]))
    people = index.people()
    assert [(p.face_count, sorted(p.asset_ids)) for p in people] == [
        (3, ["p1", "p2", "p3"]),
        (1, ["p2"]),
    ]
