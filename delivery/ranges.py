"""Byte ranges (RFC 9110 §14) for the objects delivery streams as they are: the original
and the web proxies. Players seek with `Range`, so these answer `206` with one range.

One range per answer: a request for several (`bytes=0-9,20-29`, which no player sends) is
answered `200` with the whole object — RFC 9110 lets a server ignore `Range`, and it spares
a multipart/byteranges encoder nobody would use. So are a malformed header, another unit,
and an `If-Range` that does not match the current ETag (the object changed: the client
must start over).
"""

import re
from dataclasses import dataclass

from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from shared.errors import error_response
from shared.storage import ObjectStore

_SPEC = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True)
class ByteRange:
    start: int
    stop: int  # one past the last byte

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.stop - 1}/{size}"


class Unsatisfiable(Exception):
    """No byte of the range lies within the object: 416."""


def parse(header: str | None, size: int) -> ByteRange | None:
    """The one range `header` asks of an object of `size` bytes, clipped to it; None for
    the whole object. Raises Unsatisfiable (a start past the end, `bytes=-0`)."""
    if not header:
        return None
    match = _SPEC.fullmatch(header.strip().replace(" ", ""))
    if not match or match.group(1) == match.group(2) == "":
        return None  # several ranges, another unit or not a range at all: ignored
    first, last = match.group(1), match.group(2)
    if first == "":  # a suffix: the last n bytes
        length = int(last)
        if length == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(size - length, 0), size)
    start = int(first)
    if last != "" and int(last) < start:
        return None  # RFC 9110 §14.1.1: invalid, so ignored
    if start >= size:
        raise Unsatisfiable
    stop = size if last == "" else min(int(last) + 1, size)
    return ByteRange(start, stop)


def stream(
    request: Request,
    store: ObjectStore,
    key: str,
    size: int,
    media_type: str,
    headers: dict[str, str],
) -> Response:
    """The object at `key`, whole (200) or the range asked (206), or 416; `headers` carries
    the ETag `If-Range` is compared with (strong comparison: a weak or a date never matches)."""
    headers = headers | {"Accept-Ranges": "bytes"}
    if_range = request.headers.get("if-range")
    asked = request.headers.get("range")
    if if_range is not None and if_range.strip() != headers.get("ETag"):
        asked = None
    try:
        byte_range = parse(asked, size)
    except Unsatisfiable:
        message = f"the range {asked!r} lies outside the object's {size} bytes"
        range_headers = headers | {"Content-Range": f"bytes */{size}"}
        return error_response(416, "range_not_satisfiable", message, range_headers)
    if byte_range is None:
        headers["Content-Length"] = str(size)
        if request.method == "HEAD":  # what a GET would answer, without reading the object
            return Response(media_type=media_type, headers=headers)
        return StreamingResponse(store.iter_chunks(key), media_type=media_type, headers=headers)
    headers["Content-Length"] = str(byte_range.stop - byte_range.start)
    headers["Content-Range"] = byte_range.content_range(size)
    if request.method == "HEAD":
        return Response(status_code=206, media_type=media_type, headers=headers)
    chunks = store.iter_chunks(key, start=byte_range.start, stop=byte_range.stop)
    return StreamingResponse(chunks, status_code=206, media_type=media_type, headers=headers)
