"""Streams a multipart upload's file part straight into the object store.

The body is parsed as it arrives (streaming-form-data), the file part's bytes go through a
small bounded pipe to the store's writer thread, and the size limit is checked as bytes
pass — so memory stays flat whatever the upload's size, and an oversized upload is cut off
at the limit instead of after it was spooled to disk.
"""

import queue
import threading
from dataclasses import dataclass

import anyio
from starlette.requests import ClientDisconnect, Request
from streaming_form_data import StreamingFormDataParser
from streaming_form_data.targets import BaseTarget, ValueTarget

from shared.errors import PicshaError
from shared.storage import HashingReader, ObjectStore, UploadTooLarge

_EOF = b""


class ChunkPipe:
    """A file-like `read()` over chunks handed in by another thread (bounded: backpressure)."""

    def __init__(self, depth: int = 8) -> None:
        self._chunks: queue.Queue[bytes] = queue.Queue(maxsize=depth)
        self._buffer = bytearray()
        self._closed = False
        self.aborted = threading.Event()

    def put(self, chunk: bytes) -> None:
        while not self.aborted.is_set():
            try:
                self._chunks.put(chunk, timeout=0.1)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        self.put(_EOF)

    def read(self, n: int = -1) -> bytes:
        while not self._closed and (n < 0 or len(self._buffer) < n):
            chunk = self._chunks.get()
            if chunk == _EOF:
                self._closed = True
            self._buffer += chunk
        size = len(self._buffer) if n < 0 else min(n, len(self._buffer))
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


class _PipeTarget(BaseTarget):
    def __init__(self, pipe: ChunkPipe) -> None:
        super().__init__()
        self.pipe = pipe
        self.seen = False

    def on_start(self) -> None:
        self.seen = True

    def on_data_received(self, chunk: bytes) -> None:
        if chunk:
            self.pipe.put(chunk)


@dataclass
class Received:
    filename: str
    content_type: str | None
    size: int
    sha256: str
    fields: dict[str, str]


async def receive(
    request: Request, store: ObjectStore, key: str, limit: int, fields: tuple[str, ...]
) -> Received:
    """Store the `file` part under `key`; other named fields come back as text."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise PicshaError(415, "unsupported_media_type", "send multipart/form-data")
    pipe = ChunkPipe()
    target = _PipeTarget(pipe)
    values = {name: ValueTarget() for name in fields}
    try:
        parser = StreamingFormDataParser(headers=dict(request.headers))
    except Exception as exc:
        raise PicshaError(400, "invalid_multipart", f"bad multipart request: {exc}") from exc
    parser.register("file", target)
    for name, value in values.items():
        parser.register(name, value)

    reader = HashingReader(pipe, limit=limit)  # type: ignore[arg-type]
    outcome: dict[str, BaseException] = {}

    def write() -> None:
        try:
            store.put_fileobj(key, reader)  # type: ignore[arg-type]
        except BaseException as exc:  # handed to the request below
            outcome["error"] = exc
            pipe.aborted.set()

    writer = threading.Thread(target=write, name=f"upload-{key}", daemon=True)
    writer.start()
    try:
        async for chunk in request.stream():
            if pipe.aborted.is_set():
                break  # the writer stopped (size limit or storage error): stop reading
            await anyio.to_thread.run_sync(parser.data_received, chunk)
    except ClientDisconnect as exc:
        pipe.aborted.set()
        raise PicshaError(400, "client_disconnected", "the upload was interrupted") from exc
    except Exception as exc:
        pipe.aborted.set()
        raise PicshaError(400, "invalid_multipart", f"bad multipart body: {exc}") from exc
    finally:
        pipe.close()
        await anyio.to_thread.run_sync(writer.join)

    error = outcome.get("error")
    if isinstance(error, UploadTooLarge):
        raise PicshaError(413, "upload_too_large", str(error)) from error
    if error is not None:
        raise error
    if not target.seen:
        raise PicshaError(400, "missing_file", "multipart field 'file' is required")
    return Received(
        filename=target.multipart_filename or "upload",
        content_type=target.multipart_content_type,
        size=reader.size,
        sha256=reader.sha256,
        fields={name: v.value.decode("utf-8", "replace") for name, v in values.items() if v.value},
    )
