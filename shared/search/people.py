"""Group face descriptors into people: faces closer than a threshold are the same person
(single linkage, union-find), computed in blocks so 10k faces need no 10k x 10k matrix."""

import hashlib

import numpy as np

from shared.search.base import Person

# dlib's ResNet descriptors: the same person is usually < 0.6 apart (dlib's own figure).
SAME_PERSON = 0.6
_BLOCK = 1024


def group_faces(
    keys: list[tuple[str, int]],
    boxes: list[list[float]],
    vectors: np.ndarray | None = None,
    vector_rows: list[int] | None = None,
    face_ids: list[str | None] | None = None,
    matches: list[list[str]] | None = None,
    threshold: float = SAME_PERSON,
) -> list[Person]:
    """keys[i] = (asset id, face index) of face i. Two faces are one person when their
    descriptors (vectors[j] belongs to face vector_rows[j], all faces when None) are closer
    than `threshold`, or when a face service matched their ids (face_ids, matches)."""
    n = len(keys)
    if n == 0:
        return []
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    if vectors is not None and len(vectors):
        rows = np.arange(n) if vector_rows is None else np.asarray(vector_rows)
        sq = np.einsum("ij,ij->i", vectors, vectors)
        limit = threshold * threshold
        for start in range(0, len(vectors), _BLOCK):
            block = vectors[start : start + _BLOCK]
            # |a-b|^2 = |a|^2 + |b|^2 - 2ab, only against later faces (each pair once)
            d2 = (
                sq[start : start + len(block), None]
                + sq[None, start:]
                - 2 * block @ vectors[start:].T
            )
            for r, c in zip(*np.nonzero(d2 < limit), strict=True):
                if c > r:
                    union(int(rows[r + start]), int(rows[c + start]))
    if face_ids is not None:
        by_id = {fid: i for i, fid in enumerate(face_ids) if fid}
        for i, found in enumerate(matches or []):
            for other in found or []:
                if other in by_id:
                    union(i, by_id[other])
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    people = []
    for members in groups.values():
        first = min(members, key=lambda i: keys[i])
        per_asset: dict[str, int] = {}
        for i in members:
            per_asset[keys[i][0]] = per_asset.get(keys[i][0], 0) + 1
        people.append(
            Person(
                id=hashlib.sha256(f"{keys[first][0]}:{keys[first][1]}".encode()).hexdigest()[:16],
                face_count=len(members),
                asset_ids=sorted(per_asset, key=lambda a: (-per_asset[a], a)),
                cover=(keys[first][0], boxes[first]),
            )
        )
    people.sort(key=lambda p: (-p.face_count, p.id))
    return people
