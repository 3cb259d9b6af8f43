"""Embedded SearchIndex: SQLite FTS5 (BM25) for keywords + float32 vectors in the same file.

Vectors are little-endian float32 BLOBs in their own table of the same SQLite file (one
transaction writes an entry and its vector, so they never disagree; kept apart from `docs`
so that filter scans read small rows). They are scored in numpy by a brute-force dot
product over an in-memory matrix, rebuilt when another process commits (`PRAGMA
data_version`). At 100k x 384 that is one ~40 MFLOP matrix-vector product per query.
"""

import json
import logging
import sqlite3
import threading
from pathlib import Path

import numpy as np

from shared.search.base import (
    Filters,
    IndexDoc,
    Person,
    SearchHit,
    SearchIndex,
    SearchPage,
    decode_cursor,
    encode_cursor,
    fingerprint,
    fuse,
    label_terms,
    matched_fields,
    normalise,
    query_terms,
    similarity_floor,
)
from shared.search.people import group_faces
from shared.search.vector_cache import LOG_KEEP, RESET, VectorCache

log = logging.getLogger(__name__)

# Each side of the hybrid ranking contributes at most this many candidates to the fusion.
KEYWORD_CANDIDATES = 500
VECTOR_CANDIDATES = 200
MASK_CACHE = 32  # filter masks kept per index version (100k entries: 400 kB each)
BROWSE_COUNT_CAP = 10_000  # `total` of a query-less listing stops counting here
# FTS column weights: a word in the labels or filename says more than one in a long text.
_BM25 = "bm25(fts, 2.0, 3.0, 1.0, 1.5, 1.0)"

SCHEMA_VERSION = 7
_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: vector caches append by rowid
    id TEXT NOT NULL UNIQUE,
    kind TEXT, mime TEXT, filename TEXT, labels TEXT, description TEXT, ocr_text TEXT,
    alt_text TEXT, metadata_text TEXT, has_faces INTEGER, face_count INTEGER,
    camera TEXT, date TEXT, created_at TEXT,
    duration REAL,  -- seconds, videos and audio
    codecs TEXT  -- '|h264|aac|': a codec matches whole, between its bars
);
CREATE TABLE IF NOT EXISTS vectors (
    rowid INTEGER PRIMARY KEY,  -- = docs.rowid
    model TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS vectors_by_model ON vectors (model, rowid);
CREATE TABLE IF NOT EXISTS vector_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_rowid INTEGER NOT NULL  -- a vector added or removed, -1: everything (clear)
);
CREATE TABLE IF NOT EXISTS faces (
    rowid INTEGER NOT NULL,  -- = docs.rowid
    idx INTEGER NOT NULL,
    box TEXT NOT NULL,
    vector BLOB,  -- a face descriptor (local), or
    face_id TEXT,  -- a face service's id (Rekognition) ...
    matches TEXT,  -- ... with the ids it matched, as JSON
    PRIMARY KEY (rowid, idx)
);
CREATE TABLE IF NOT EXISTS labels (rowid INTEGER NOT NULL, label TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS labels_by_label ON labels (label, rowid);
CREATE INDEX IF NOT EXISTS docs_by_date ON docs (date);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    filename, labels, description, ocr_text, metadata,
    tokenize = 'unicode61 remove_diacritics 2'
);
"""


class EmbeddedIndex(SearchIndex):
    def __init__(self, path: Path, min_similarity: float | None = None) -> None:
        self.min_similarity = min_similarity  # None: the model's calibrated floor
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            # WAL: the API reads while a worker process writes.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # One process creates or migrates the layout; the others wait for it.
            self._db.execute("BEGIN IMMEDIATE")
            found = self._db.execute("PRAGMA user_version").fetchone()[0]
            if found != SCHEMA_VERSION:
                if found:
                    log.warning("search index %s had layout %s; rebuilt empty: run `picsha"
                                " reindex`", path, found)  # fmt: skip
                # Derived data: an index of another layout is dropped, `picsha reindex` refills.
                for table in ("docs", "vectors", "vector_log", "faces", "labels", "fts"):
                    self._db.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.commit()
        self._local_gen = 0
        self._caches: dict[str, VectorCache] = {}
        self._masks: dict[tuple, np.ndarray] = {}
        self._people_key: tuple | None = None
        self._people: list[Person] = []

    # -- writes ---------------------------------------------------------------------------
    def upsert(self, doc: IndexDoc) -> None:
        with self._lock, self._db:
            self._write(doc)

    def upsert_many(self, docs) -> int:
        """One transaction for the lot: a reindex of 100k assets in seconds, not minutes."""
        n = 0
        with self._lock, self._db:
            for doc in docs:
                self._write(doc)
                n += 1
        return n

    def _write(self, doc: IndexDoc) -> None:
        vector = None if doc.vector is None else normalise(doc.vector).astype("<f4").tobytes()
        labels = [lb.lower() for lb in doc.labels]
        old = self._db.execute("SELECT rowid FROM docs WHERE id = ?", (doc.id,)).fetchone()
        if old:
            self._delete_rowid(old[0])
        cur = self._db.execute(
            "INSERT INTO docs (id, kind, mime, filename, labels, description, ocr_text,"
            " alt_text, metadata_text, has_faces, face_count, camera, date, created_at,"
            " duration, codecs) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                doc.id,
                doc.kind,
                doc.mime,
                doc.filename,
                json.dumps(doc.labels),
                doc.description,
                doc.ocr_text,
                doc.alt_text,
                doc.metadata_text,
                int(doc.has_faces),
                doc.face_count,
                doc.camera,
                doc.date,
                doc.created_at,
                doc.duration,
                _codecs(doc.codecs),
            ),
        )
        rowid = cur.lastrowid
        if vector is not None and doc.embedding_model:
            self._db.execute(
                "INSERT INTO vectors (rowid, model, vector) VALUES (?, ?, ?)",
                (rowid, doc.embedding_model, vector),
            )
            self._db.execute("INSERT INTO vector_log (doc_rowid) VALUES (?)", (rowid,))
            if rowid % 1000 == 0:
                self._db.execute(
                    "DELETE FROM vector_log WHERE seq <= (SELECT max(seq) FROM vector_log) - ?",
                    (LOG_KEEP,),
                )
        self._db.execute(
            "INSERT INTO fts (rowid, filename, labels, description, ocr_text, metadata)"
            " VALUES (?,?,?,?,?,?)",
            (
                rowid,
                doc.filename,
                " ".join(labels),
                doc.description,
                doc.ocr_text,
                doc.metadata_text,
            ),
        )
        self._db.executemany(
            "INSERT INTO labels (rowid, label) VALUES (?, ?)",
            [(rowid, term) for term in label_terms(doc.labels)],
        )
        faces = [
            (json.dumps(box), np.asarray(vec, dtype="<f4").tobytes(), None, None)
            for box, vec in doc.face_vectors
        ] + [(json.dumps(box), None, fid, json.dumps(m)) for box, fid, m in doc.face_links]
        self._db.executemany(
            "INSERT INTO faces (rowid, idx, box, vector, face_id, matches)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(rowid, i, *face) for i, face in enumerate(faces)],
        )
        self._local_gen += 1

    def delete(self, asset_id: str) -> None:
        with self._lock, self._db:
            old = self._db.execute("SELECT rowid FROM docs WHERE id = ?", (asset_id,)).fetchone()
            if old:
                self._delete_rowid(old[0])
                self._local_gen += 1

    def _delete_rowid(self, rowid: int) -> None:
        self._db.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))
        self._db.execute("DELETE FROM fts WHERE rowid = ?", (rowid,))
        self._db.execute("DELETE FROM labels WHERE rowid = ?", (rowid,))
        if self._db.execute("DELETE FROM vectors WHERE rowid = ?", (rowid,)).rowcount:
            self._db.execute("INSERT INTO vector_log (doc_rowid) VALUES (?)", (rowid,))
        self._db.execute("DELETE FROM faces WHERE rowid = ?", (rowid,))

    def clear(self) -> None:
        with self._lock, self._db:
            for table in ("docs", "fts", "labels", "vectors", "faces", "vector_log"):
                self._db.execute(f"DELETE FROM {table}")
            self._db.execute("INSERT INTO vector_log (doc_rowid) VALUES (?)", (RESET,))
            self._local_gen += 1

    # -- reads ----------------------------------------------------------------------------
    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM docs").fetchone()[0]

    def get(self, asset_id: str) -> IndexDoc | None:
        with self._lock:
            row = self._db.execute(_SELECT + " WHERE d.id = ?", (asset_id,)).fetchone()
        return _doc(row) if row else None

    def search(
        self,
        text: str,
        vector: np.ndarray | None = None,
        embedding_model: str | None = None,
        filters: Filters | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> SearchPage:
        fp = fingerprint(text, filters)
        offset = decode_cursor(cursor, fp) if cursor else 0
        terms = query_terms(text)
        where, params = _filter_sql(filters)
        ranked_query = bool(terms) or vector is not None
        keyword: list[str] = []
        nearest: list[tuple[str, float]] = []
        vector_ids: set[str] = set()
        with self._lock:
            if terms:
                match = " OR ".join(f'"{t}"' for t in terms)  # quoted: never FTS syntax
                rows = self._db.execute(
                    f"SELECT d.id FROM fts JOIN docs d ON d.rowid = fts.rowid"
                    f" WHERE fts MATCH ? AND {where} ORDER BY {_BM25} LIMIT ?",
                    [match, *params, KEYWORD_CANDIDATES],
                ).fetchall()
                keyword = [r[0] for r in rows]
            if vector is not None and embedding_model:
                nearest = self._nearest(vector, embedding_model, where, params, VECTOR_CANDIDATES)
            if ranked_query:
                floor = similarity_floor(embedding_model, self.min_similarity)
                ordered, vector_ids = fuse(keyword, nearest, floor)
                total = len(ordered)
            else:
                # No query: the filtered library, newest first.
                rows = self._db.execute(
                    f"SELECT d.id FROM docs d WHERE {where} ORDER BY d.date DESC, d.id"
                    f" LIMIT ? OFFSET ?",
                    [*params, limit, offset],
                ).fetchall()
                ordered = [(r[0], 0.0) for r in rows]
                # Counted up to a cap: an exact count of a big library is a full scan.
                total = self._db.execute(
                    f"SELECT count(*) FROM (SELECT 1 FROM docs d WHERE {where} LIMIT ?)",
                    [*params, BROWSE_COUNT_CAP],
                ).fetchone()[0]
            page = ordered[offset : offset + limit] if ranked_query else ordered
            docs = self._docs([i for i, _ in page])
        hits = []
        for doc_id, score in page:
            doc = docs[doc_id]
            matched = matched_fields(doc, terms)
            if doc_id in vector_ids:
                matched.append("embedding")
            hits.append(SearchHit.of(doc, score, matched))
        more = offset + limit < total
        return SearchPage(hits, encode_cursor(offset + limit, fp) if more else None, total)

    def similar(self, asset_id: str, limit: int = 10) -> list[SearchHit]:
        doc = self.get(asset_id)
        if doc is None or doc.vector is None or not doc.embedding_model:
            return []
        with self._lock:
            ranked = self._nearest(doc.vector, doc.embedding_model, "1", [], limit + 1)
            ranked = [(i, s) for i, s in ranked if i != asset_id][:limit]
            docs = self._docs([i for i, _ in ranked])
        return [SearchHit.of(docs[i], s, ["embedding"]) for i, s in ranked]

    def people(self) -> list[Person]:
        with self._lock:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            key = (version, self._local_gen)
            if self._people_key != key:
                rows = self._db.execute(
                    "SELECT d.id, f.idx, f.box, f.vector, f.face_id, f.matches FROM faces f"
                    " JOIN docs d ON d.rowid = f.rowid ORDER BY d.id, f.idx"
                ).fetchall()
                with_vector = [i for i, r in enumerate(rows) if r[3] is not None]
                # One descriptor size (one face model); a stray row of another is left out.
                if with_vector:
                    size = len(rows[with_vector[0]][3])
                    with_vector = [i for i in with_vector if len(rows[i][3]) == size]
                vectors = None
                if with_vector:
                    blob = b"".join(rows[i][3] for i in with_vector)
                    vectors = np.frombuffer(blob, dtype="<f4").reshape(len(with_vector), -1)
                self._people = group_faces(
                    [(r[0], r[1]) for r in rows],
                    [json.loads(r[2]) for r in rows],
                    vectors,
                    with_vector,
                    [r[4] for r in rows],
                    [json.loads(r[5]) if r[5] else [] for r in rows],
                )
                self._people_key = key
            return self._people

    def _docs(self, ids: list[str]) -> dict[str, IndexDoc]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(f"{_SELECT} WHERE d.id IN ({marks})", ids).fetchall()
        return {r["id"]: _doc(r) for r in rows}

    def _nearest(
        self, vector: np.ndarray, model: str, where: str, params: list, k: int
    ) -> list[tuple[str, float]]:
        cache = self._vectors(model)
        rowids, ids, matrix = cache.view()
        if len(ids) == 0:
            return []
        q = normalise(vector)
        if q.shape[0] != matrix.shape[1]:
            return []  # a vector from another space cannot be compared
        scores = matrix @ q + cache.dead_mask  # replaced or deleted rows never rank
        if where != "1":
            key = (model, cache.generation)
            scores = scores + self._filter_mask(key, rowids, where, params)
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(str(ids[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]

    def _filter_mask(
        self, version: tuple, rowids: np.ndarray, where: str, params: list
    ) -> np.ndarray:
        """0 where the filter allows, -inf elsewhere; kept until the index changes, since a
        person refines the words far more often than the filters."""
        key = (version, where, tuple(params))
        mask = self._masks.get(key)
        if mask is None:
            cur = self._db.execute(f"SELECT d.rowid FROM docs d WHERE {where} ORDER BY 1", params)
            allowed = np.fromiter((r[0] for r in cur), dtype=np.int64)
            pos = np.searchsorted(rowids, allowed)  # both sorted by rowid
            pos = pos[(pos < len(rowids)) & (rowids[np.minimum(pos, len(rowids) - 1)] == allowed)]
            mask = np.full(len(rowids), -np.inf, dtype=np.float32)
            mask[pos] = 0.0
            if len(self._masks) >= MASK_CACHE:
                self._masks.clear()
            self._masks[key] = mask
        return mask

    def _vectors(self, model: str) -> VectorCache:
        """The model's vectors in memory, brought up to date with what anyone wrote."""
        cache = self._caches.get(model)
        if cache is None:
            cache = self._caches[model] = VectorCache(model)
        before = cache.generation
        cache.refresh(self._db)
        if cache.generation != before:
            self._masks = {k: v for k, v in self._masks.items() if k[0][0] != model}
        return cache

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _filter_sql(filters: Filters | None) -> tuple[str, list]:
    if filters is None:
        return "1", []
    clauses: list[str] = []
    params: list = []
    if filters.kind:
        clauses.append("d.kind = ?")
        params.append(filters.kind)
    if filters.mime:
        clauses.append("d.mime = ?")
        params.append(filters.mime)
    if filters.label:
        clauses.append("d.rowid IN (SELECT rowid FROM labels WHERE label = ?)")
        params.append(filters.label.lower().strip())
    if filters.has_faces is not None:
        clauses.append("d.has_faces = ?")
        params.append(int(filters.has_faces))
    if filters.camera:
        clauses.append("instr(lower(d.camera), ?) > 0")
        params.append(filters.camera.lower())
    if filters.date_from:
        clauses.append("d.date >= ?")
        params.append(filters.date_from)
    if filters.date_to:
        # A bare date covers its whole day: '2008-10-22' < '2008-10-22T…' < '2008-10-22~'.
        clauses.append("d.date <= ?")
        params.append(filters.date_to + ("~" if len(filters.date_to) == 10 else ""))
    if filters.min_duration is not None:
        clauses.append("d.duration >= ?")  # NULL (a still) is never >= anything
        params.append(filters.min_duration)
    if filters.max_duration is not None:
        clauses.append("d.duration <= ?")
        params.append(filters.max_duration)
    if filters.codec:
        clauses.append("instr(d.codecs, ?) > 0")
        params.append(_codecs([filters.codec]))
    return (" AND ".join(clauses) or "1"), params


def _codecs(names: list[str]) -> str | None:
    return "|" + "|".join(n.lower().strip() for n in names) + "|" if names else None


# Entries with their vector (if any): the one way rows are read back into IndexDocs.
_SELECT = (
    "SELECT d.*, v.model AS embedding_model, v.vector AS vector"
    " FROM docs d LEFT JOIN vectors v ON v.rowid = d.rowid"
)


def _doc(row: sqlite3.Row) -> IndexDoc:
    blob = row["vector"]
    return IndexDoc(
        id=row["id"],
        kind=row["kind"],
        mime=row["mime"],
        filename=row["filename"] or "",
        labels=json.loads(row["labels"] or "[]"),
        description=row["description"] or "",
        ocr_text=row["ocr_text"] or "",
        alt_text=row["alt_text"] or "",
        metadata_text=row["metadata_text"] or "",
        has_faces=bool(row["has_faces"]),
        face_count=row["face_count"] or 0,
        camera=row["camera"],
        date=row["date"],
        created_at=row["created_at"],
        duration=row["duration"],
        codecs=[c for c in (row["codecs"] or "").split("|") if c],
        embedding_model=row["embedding_model"],
        vector=None if blob is None else np.frombuffer(blob, dtype="<f4").astype(np.float32),
    )
