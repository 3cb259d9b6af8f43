#!/usr/bin/env python3
"""LibreOffice converter service: headless `soffice` behind a small HTTP API (stdlib only).

    POST /convert?to=pdf     body: the document; header X-Filename: report.docx
        200 application/pdf  the converted document
        400 bad request · 413 too large · 422 LibreOffice could not convert it
        503 all converter slots busy · 504 conversion timed out
        errors are JSON {"error": {"code", "message"}}, as in the Picsha APIs
    GET /healthz             200 {"status": "ok"}

It runs beside the ingest worker (same Fargate task, localhost:2002) so a LibreOffice crash
or memory blow-up stays in its own container. Each conversion gets a wall-clock limit and
its own process group (killed whole on timeout); at most CONVERTER_CONCURRENCY run at once,
each slot with its own LibreOffice profile (one profile cannot be shared by two processes).
The conversion itself is the worker's (ingest_worker/converters/libreoffice.py).

Environment: CONVERTER_HOST (0.0.0.0), CONVERTER_PORT (2002), CONVERTER_TIMEOUT_SECONDS
(120), CONVERTER_MAX_BYTES (268435456), CONVERTER_CONCURRENCY (2), SOFFICE (soffice).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import sys
import tempfile
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

# The picsha package is installed in the image (docker/libreoffice/Dockerfile): the
# hardening settings, soffice arguments and import-filter choice are the worker's own.
from ingest_worker.converters import libreoffice
from shared import process

TARGETS = {"pdf": "application/pdf"}
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


@dataclass
class Settings:
    host: str = "0.0.0.0"
    port: int = 2002
    timeout: float = 120.0
    max_bytes: int = 256 * 1024 * 1024
    concurrency: int = 2
    soffice: str = "soffice"

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            host=env.get("CONVERTER_HOST", cls.host),
            port=int(env.get("CONVERTER_PORT", cls.port)),
            timeout=float(env.get("CONVERTER_TIMEOUT_SECONDS", cls.timeout)),
            max_bytes=int(env.get("CONVERTER_MAX_BYTES", cls.max_bytes)),
            concurrency=int(env.get("CONVERTER_CONCURRENCY", cls.concurrency)),
            soffice=env.get("SOFFICE", cls.soffice),
        )


class ConversionError(Exception):
    def __init__(self, status: HTTPStatus, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Converter:
    settings: Settings
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="converter-")))

    def __post_init__(self) -> None:
        self._profiles: queue.Queue[Path] = queue.Queue()
        for slot in range(max(1, self.settings.concurrency)):
            profile = self.root / f"profile-{slot}"
            libreoffice.write_profile(profile)  # the worker's hardening settings
            self._profiles.put(profile)

    def convert(self, data: bytes, filename: str, target: str) -> bytes:
        if target not in TARGETS:
            raise ConversionError(
                HTTPStatus.BAD_REQUEST, "bad_target", f"cannot convert to {target!r}"
            )
        name = filename if _SAFE_NAME.match(filename) and "." in filename else "document"
        try:
            profile = self._profiles.get(timeout=self.settings.timeout)
        except queue.Empty:
            raise ConversionError(
                HTTPStatus.SERVICE_UNAVAILABLE, "busy", "all slots busy"
            ) from None
        try:
            with tempfile.TemporaryDirectory(dir=self.root) as work:
                source = Path(work) / name
                source.write_bytes(data)
                return self._run(source, Path(work) / "out", profile).read_bytes()
        finally:
            self._profiles.put(profile)

    def _run(self, source: Path, out: Path, profile: Path) -> Path:
        """The worker's own conversion (arguments, import filter, process-group bound)."""
        try:
            return libreoffice.convert(
                source, out, profile, self.settings.timeout, self.settings.soffice
            )
        except process.ConverterTimeout:
            raise ConversionError(
                HTTPStatus.GATEWAY_TIMEOUT,
                "timeout",
                f"conversion took longer than {self.settings.timeout:g} s",
            ) from None
        except libreoffice.ConversionFailed as exc:
            raise ConversionError(
                HTTPStatus.UNPROCESSABLE_ENTITY, "conversion_failed", str(exc)
            ) from exc


def make_handler(converter: Converter) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "picsha-converter"

        def do_GET(self) -> None:
            if urlsplit(self.path).path == "/healthz":
                self._json(HTTPStatus.OK, {"status": "ok"})
            else:
                self._error(HTTPStatus.NOT_FOUND, "not_found", "no such route")

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/convert":
                self._error(HTTPStatus.NOT_FOUND, "not_found", "no such route")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0:
                self._error(HTTPStatus.BAD_REQUEST, "empty_body", "send the document as the body")
                return
            if length > converter.settings.max_bytes:
                self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large", "document too large")
                self.close_connection = True
                return
            data = self.rfile.read(length)
            target = parse_qs(url.query).get("to", ["pdf"])[0].lower()
            try:
                body = converter.convert(data, self.headers.get("X-Filename", ""), target)
            except ConversionError as exc:
                self._error(exc.status, exc.code, exc.message)
                return
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", TARGETS[target])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: HTTPStatus, code: str, message: str) -> None:
            self._json(status, {"error": {"code": code, "message": message}})

        def _json(self, status: HTTPStatus, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            sys.stderr.write(f"converter: {self.address_string()} {format % args}\n")

    return Handler


def make_server(settings: Settings) -> ThreadingHTTPServer:
    return ThreadingHTTPServer((settings.host, settings.port), make_handler(Converter(settings)))


def main() -> int:
    settings = Settings.from_env()
    server = make_server(settings)
    print(f"converter: listening on {settings.host}:{settings.port}", file=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
