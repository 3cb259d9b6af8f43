"""The vectors of one embedding model as an in-memory matrix, kept up to date from the
index's `vector_log` instead of being reloaded after every write.

A worker that keeps ingesting writes an entry every second or so; reloading 100k vectors
(~1 s) on the next query after each write would make search slow exactly while the library
grows. Each write appends the changed rowid to `vector_log`; a reader applies only the
rows logged since it last looked: changed rows are marked dead, their current vectors
appended (rowids only grow: `docs` uses AUTOINCREMENT). Too many changes, a `clear()`
(logged as rowid -1) or a trimmed log mean a full reload.
"""

import sqlite3

import numpy as np

RESET = -1
LOG_KEEP = 100_000  # log rows kept; a reader further behind reloads in full

_SELECT = (
    "SELECT v.rowid, d.id, v.vector FROM vectors v JOIN docs d ON d.rowid = v.rowid"
    " WHERE v.model = ?"
)


class VectorCache:
    def __init__(self, model: str) -> None:
        self.model = model
        self.seq = -1  # last vector_log entry applied
        self.generation = 0  # bumps on every change (keys the filter-mask cache)
        self.n = 0
        self.rowids = np.zeros(0, dtype=np.int64)
        self.ids = np.zeros(0, dtype=object)
        self.alive = np.zeros(0, dtype=bool)
        self.matrix = np.zeros((0, 0), dtype=np.float32)
        self.dead_mask = np.zeros(0, dtype=np.float32)  # 0 alive, -inf dead

    def refresh(self, db: sqlite3.Connection) -> None:
        last = db.execute("SELECT max(seq) FROM vector_log").fetchone()[0] or 0
        if last == self.seq:
            return
        first = db.execute("SELECT min(seq) FROM vector_log").fetchone()[0]
        changes = db.execute(
            "SELECT doc_rowid FROM vector_log WHERE seq > ? ORDER BY seq", (self.seq,)
        ).fetchall()
        changed = sorted({r[0] for r in changes})
        behind = self.seq < 0 or (first is not None and first > self.seq + 1)
        if behind or RESET in changed or len(changed) > max(1000, self.n // 10):
            self._load(db, _SELECT + " ORDER BY v.rowid", (self.model,))
        else:
            self._apply(db, np.asarray(changed, dtype=np.int64))
        self.seq = last
        self.generation += 1
        self.dead_mask = np.where(self.alive[: self.n], 0.0, -np.inf).astype(np.float32)

    def view(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rowids, ids, matrix) of the used rows; dead rows are in, see `dead_mask`."""
        return self.rowids[: self.n], self.ids[: self.n], self.matrix[: self.n]

    def _load(self, db: sqlite3.Connection, sql: str, params: tuple) -> None:
        self.n = 0
        rows = _rows(db, sql, params)
        dim = len(rows[0][2]) // 4 if rows else 0
        capacity = max(64, int(len(rows) * 1.25))
        self.rowids = np.zeros(capacity, dtype=np.int64)
        self.ids = np.zeros(capacity, dtype=object)
        self.alive = np.zeros(capacity, dtype=bool)
        self.matrix = np.zeros((capacity, dim), dtype=np.float32)
        self._append(rows)

    def _apply(self, db: sqlite3.Connection, changed: np.ndarray) -> None:
        rowids = self.rowids[: self.n]
        pos = np.searchsorted(rowids, changed)
        hit = pos < self.n
        hit[hit] = rowids[pos[hit]] == changed[hit]
        self.alive[pos[hit]] = False
        marks = ",".join("?" * len(changed))
        rows = _rows(db, f"{_SELECT} AND v.rowid IN ({marks}) ORDER BY v.rowid",
                     (self.model, *changed.tolist()))  # fmt: skip
        if rows and self.matrix.shape[1] not in (0, len(rows[0][2]) // 4):
            self._load(db, _SELECT + " ORDER BY v.rowid", (self.model,))
            return
        self._append(rows)

    def _append(self, rows: list) -> None:
        if not rows:
            return
        dim = len(rows[0][2]) // 4
        if self.matrix.shape[1] != dim:  # first rows of an empty cache
            self.matrix = np.zeros((self.matrix.shape[0], dim), dtype=np.float32)
        need = self.n + len(rows)
        if need > len(self.rowids):
            capacity = int(need * 1.5)
            self.rowids = np.resize(self.rowids, capacity)
            self.ids = np.resize(self.ids, capacity)
            self.alive = np.resize(self.alive, capacity)
            grown = np.zeros((capacity, dim), dtype=np.float32)
            grown[: self.n] = self.matrix[: self.n]
            self.matrix = grown
        end = self.n + len(rows)
        self.rowids[self.n : end] = [r[0] for r in rows]
        self.ids[self.n : end] = [r[1] for r in rows]
        self.alive[self.n : end] = True
        blob = b"".join(r[2] for r in rows)
        self.matrix[self.n : end] = np.frombuffer(blob, dtype="<f4").reshape(len(rows), dim)
        self.n = end


def _rows(db: sqlite3.Connection, sql: str, params: tuple) -> list:
    rows = db.execute(sql, params).fetchall()
    if rows:  # one model, one dimension; a stray row of another size is left out
        rows = [r for r in rows if len(r[2]) == len(rows[0][2])]
    return rows
