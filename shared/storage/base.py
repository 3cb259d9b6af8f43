"""The object-store contract: every asset is a folder of objects under `assets/{id}/`."""

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote


class ObjectNotFound(KeyError):
    """The key does not exist in the store."""


class UploadTooLarge(ValueError):
    """A stream passed the configured byte limit while it was being stored."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"upload exceeds the limit of {limit} bytes")
        self.limit = limit


class HashingReader:
    """Wraps a binary stream: counts bytes, hashes them, and stops at a byte limit.

    Lets uploads stream straight into the store while the size limit is enforced and the
    sha256 computed in the same single pass.
    """

    def __init__(self, raw: BinaryIO, limit: int | None = None) -> None:
        self._raw = raw
        self._limit = limit
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.size += len(data)
        if self._limit is not None and self.size > self._limit:
            raise UploadTooLarge(self._limit)
        self._hash.update(data)
        return data

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def content_disposition(filename: str, attachment: bool = False) -> str:
    """RFC 6266: a plain-ASCII fallback name, and the real one percent-encoded as UTF-8
    (a quote or a non-ASCII letter in an uploaded name cannot break the header)."""
    kind = "attachment" if attachment else "inline"
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class ObjectStore(ABC):
    @abstractmethod
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    @abstractmethod
    def put_fileobj(self, key: str, fileobj: BinaryIO, content_type: str | None = None) -> None:
        """Store a stream without holding it in memory; atomic: readers never see a part."""

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        with open(path, "rb") as f:
            self.put_fileobj(key, f, content_type)

    @abstractmethod
    def get_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def open(self, key: str) -> BinaryIO: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int: ...

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix`; returns how many were deleted."""

    @abstractmethod
    def list_children(self, prefix: str, start_after: str | None, limit: int) -> list[str]:
        """Names of the 'folders' directly under `prefix`, sorted, after `start_after`."""

    @abstractmethod
    def list_names(self, prefix: str, start_after: str | None, limit: int) -> list[str]:
        """Names of the objects directly under `prefix`, sorted, after `start_after`."""

    @abstractmethod
    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        """A local file with the object's bytes (the object itself for the local store)."""

    def local_path(self, key: str) -> Path | None:
        """The object's own file when the store is a local folder, else None."""
        return None

    def presigned_post(self, key: str, max_bytes: int) -> dict | None:
        """A browser-style upload form ({url, fields}) straight to the store, if supported."""
        return None

    def presigned_url(
        self,
        key: str,
        filename: str | None = None,
        attachment: bool = False,
        content_type: str | None = None,
    ) -> str | None:
        """A time-limited URL a client can GET directly, where the backend supports it;
        `attachment` makes a browser save the file (as `filename`) instead of showing it;
        `content_type` is the type the answer carries, whatever the object was stored with."""
        return None

    def iter_chunks(
        self, key: str, chunk: int = 1024 * 1024, start: int = 0, stop: int | None = None
    ) -> Iterator[bytes]:
        """The object's bytes `start` up to (not including) `stop` (None: the end), a chunk
        at a time: a ranged answer never holds the object, nor reads what precedes `start`."""
        if stop is not None and stop <= start:
            return
        with self.open_range(key, start, stop) as f:
            left = None if stop is None else stop - start
            while left is None or left > 0:
                data = f.read(chunk if left is None else min(chunk, left))
                if not data:
                    return
                if left is not None:
                    left -= len(data)
                yield data

    def open_range(self, key: str, start: int, stop: int | None) -> BinaryIO:
        """A stream positioned at `start` (reading may run past `stop`; iter_chunks stops).
        The default reads and drops what precedes `start`; stores that can seek override."""
        f = self.open(key)
        while start > 0 and (skipped := len(f.read(min(start, 1024 * 1024)))):
            start -= skipped
        return f
