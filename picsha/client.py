"""The CLI's HTTP client for a Picsha server (local or remote), and its exit codes.

Every failure a user can cause or meet (bad path, server down, wrong key, unknown asset)
becomes a `CliError` with one clear line and an exit code; the CLI prints it, no traceback.
"""

import mimetypes
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import httpx

from shared.settings import ClientSettings, Settings

DEFAULT_SERVER = "http://127.0.0.1:8000"
TERMINAL = ("ready", "failed")
# `503 queue_unavailable`: the server kept nothing, so an upload is sent again after its
# Retry-After (bounded: a server that says an hour is not waited for), a few times.
UPLOAD_ATTEMPTS = 4
MAX_RETRY_AFTER = 30.0


class Exit(IntEnum):
    """Exit codes that scripts can branch on (documented in docs/console-and-cli.md)."""

    OK = 0
    FAILED = 1  # the command ran, but an asset failed or a doctor check did not pass
    USAGE = 2  # bad arguments or a missing path (Typer/Click use 2 for usage errors too)
    UNREACHABLE = 3  # no Picsha server answered at the URL
    REFUSED = 4  # the server refused: wrong API key, or an API error
    NOT_FOUND = 5  # no such asset


class CliError(Exception):
    def __init__(self, code: Exit, message: str, fatal: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fatal = fatal  # no point going on with other files (server down, wrong key)


@dataclass
class Target:
    server: str
    api_key: str | None


def resolve_target(server: str | None, api_key: str | None) -> Target:
    """--server / PICSHA_URL, and --api-key / PICSHA_API_KEY / the local dev key file."""
    env = ClientSettings()
    url = (server or env.url or DEFAULT_SERVER).rstrip("/")
    if "://" not in url:
        url = "http://" + url
    key = api_key or env.api_key
    if not key:  # a local server's own keys, then its dev key file
        settings = Settings()
        dev_key = settings.data_dir / "dev-api-key"
        if settings.api_keys:
            key = settings.api_keys[0]
        elif dev_key.is_file():
            key = dev_key.read_text().strip()
    return Target(url, key)


class PicshaClient:
    def __init__(
        self,
        target: Target,
        pool: int = 8,
        timeout: float = 120,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.target = target
        self.sleep = sleep
        headers = {"x-api-key": target.api_key} if target.api_key else {}
        limits = httpx.Limits(max_connections=pool + 2, max_keepalive_connections=pool + 2)
        self.http = httpx.Client(
            base_url=target.server, headers=headers, timeout=timeout, limits=limits
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "PicshaClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.checked(self.send(method, path, **kwargs))

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise CliError(
                Exit.UNREACHABLE,
                f"cannot reach a Picsha server at {self.target.server} ({_reason(exc)}); "
                "start one with `picsha serve` or pass --server",
                fatal=True,
            ) from None

    def checked(self, response: httpx.Response) -> httpx.Response:
        if response.status_code == 401:
            raise CliError(
                Exit.REFUSED,
                f"{self.target.server} refused the API key; pass --api-key or set PICSHA_API_KEY",
                fatal=True,
            )
        if response.status_code >= 400:
            code, message = error_of(response)
            exit_code = Exit.NOT_FOUND if response.status_code == 404 else Exit.REFUSED
            raise CliError(exit_code, f"{code}: {message}")
        return response

    def ping(self) -> dict:
        return self.request("GET", "/healthz").json()

    def upload(self, path: Path, pre_render_sizes: bool, presigned: bool = False) -> dict:
        if presigned:
            return self.upload_presigned(path, pre_render_sizes)
        # One key for every attempt: should an attempt reach the server after all, its
        # retry answers the same asset instead of making a second one.
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        data = {"pre_render_sizes": "true" if pre_render_sizes else "false"}
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            with path.open("rb") as f:
                response = self.send(
                    "POST", "/v1/assets", files={"file": (path.name, f)}, data=data, headers=headers
                )
            if attempt == UPLOAD_ATTEMPTS or not _queue_unavailable(response):
                break
            self.sleep(_retry_after(response))
        return self.checked(response).json()

    def upload_presigned(self, path: Path, pre_render_sizes: bool) -> dict:
        """Past an API gateway's body limit: the server hands out a form for the bucket
        (`POST /v1/assets/presigned`, S3 mode only), the bytes go straight to the bucket,
        and the bucket's upload event starts ingest (docs/deploy.md)."""
        body = {
            "filename": path.name,
            "content_type": mimetypes.guess_type(path.name)[0],
            "pre_render_sizes": pre_render_sizes,
        }
        created = self.request("POST", "/v1/assets/presigned", json=body).json()
        form = created["upload"]
        try:
            with path.open("rb") as f:  # not self.http: the API key stays with the API
                sent = httpx.post(
                    form["url"],
                    data=form["fields"],
                    files={"file": (path.name, f)},
                    timeout=self.http.timeout,
                )
        except httpx.TransportError as exc:
            raise CliError(
                Exit.UNREACHABLE, f"cannot reach the bucket at {form['url']} ({_reason(exc)})"
            ) from None
        if sent.status_code >= 300:
            code = _xml_field(sent.text, "Code") or f"http_{sent.status_code}"
            message = _xml_field(sent.text, "Message") or sent.reason_phrase
            raise CliError(Exit.REFUSED, f"the bucket refused {path.name}: {code}: {message}")
        return created

    def reprocess(self, asset_id: str) -> dict:
        return self.request("POST", f"/v1/assets/{asset_id}/reprocess").json()

    def assets(self, page: int = 200) -> Iterator[dict]:
        """Every asset's manifest, in id order, a page at a time."""
        cursor: str | None = None
        while True:
            params = {"limit": page} | ({"cursor": cursor} if cursor else {})
            body = self.request("GET", "/v1/assets", params=params).json()
            yield from body["items"]
            cursor = body.get("next_cursor")
            if not cursor:
                return

    def search(self, params: dict[str, Any]) -> dict:
        return self.request("GET", "/v1/search", params=params).json()

    def manifest(self, asset_id: str) -> dict:
        return self.request("GET", f"/v1/assets/{asset_id}").json()

    def wait(self, asset_id: str, interval: float = 0.2) -> dict:
        """Poll until the asset is ready or failed (no limit: the user can Ctrl-C)."""
        while True:
            manifest = self.manifest(asset_id)
            if manifest.get("status") in TERMINAL:
                return manifest
            time.sleep(interval)
            interval = min(interval * 1.5, 2.0)


def error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return f"http_{response.status_code}", response.text[:200] or response.reason_phrase


def _queue_unavailable(response: httpx.Response) -> bool:
    return response.status_code == 503 and error_of(response)[0] == "queue_unavailable"


def _retry_after(response: httpx.Response) -> float:
    """Retry-After in seconds (the server sends seconds, not an HTTP date), bounded."""
    try:
        seconds = float(response.headers.get("retry-after", "1"))
    except ValueError:
        seconds = 1.0
    if seconds != seconds:  # NaN
        seconds = 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _xml_field(text: str, name: str) -> str | None:
    """A field of S3's XML error body (<Error><Code>EntityTooLarge</Code>…)."""
    found = re.search(rf"<{name}>([^<]*)</{name}>", text)
    return found.group(1) if found else None


def _reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return type(exc).__name__
