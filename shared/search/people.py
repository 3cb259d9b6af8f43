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
    vectors: np.ndarray,
    threshold: float = SAME_PERSON,
) -> list[Person]:
    """keys[i] = (asset id, face index) of vectors[i]; returns people, largest first."""
    n = len(keys)
    if n == 0:
        return []
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sq = np.einsum("ij,ij->i", vectors, vectors)
    limit = threshold * threshold
    for start in range(0, n, _BLOCK):
        block = vectors[start : start + _BLOCK]
        # |a-b|^2 = |a|^2 + |b|^2 - 2ab, only against later faces (each pair once)
        d2 = sq[start : start + len(block), None] + sq[None, start:] - 2 * block @ vectors[start:].T
        rows, cols = np.nonzero(d2 < limit)
        for r, c in zip(rows + start, cols + start, strict=True):
            if c > r:
                a, b = find(int(r)), find(int(c))
                if a != b:
                    parent[max(a, b)] = min(a, b)
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
