"""`picsha doctor --server URL`: a post-deploy smoke test of a running Picsha.

One tiny generated PNG takes the whole path a real upload takes — the API, the queue, the
worker, storage, delivery — and is deleted again: upload, wait until ready, render it
(format checked by magic bytes, pixel size by decoding), fetch the original back, delete.
Each step is a `Check`; after a failure the later steps are skipped, but the test asset is
always deleted when it was created.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pyvips

from picsha.client import CliError, PicshaClient, Target, error_of
from picsha.doctor import FAIL, OK, Check
from shared import imaging, signing

SKIP = "skip"
WIDTH, HEIGHT = 96, 64  # the uploaded image
RENDER = {"wd": "48", "fm": "webp"}  # what is asked of delivery: 48 x 32 WebP


class StepFailed(Exception):
    def __init__(self, detail: str, fix: str | None = None) -> None:
        super().__init__(detail)
        self.detail, self.fix = detail, fix


# What to do when a step fails for a reason the step itself cannot name better.
FIXES = {
    "server": "check the URL; start a local server with `picsha serve`",
    "api key": "pass --api-key or set PICSHA_API_KEY (a deployed stack: its GetApiKeyCommand)",
    "upload": "see the server's log for the request",
    "ingest": "see the worker's log for this asset id",
    "render": "see delivery's log; `picsha doctor` on the server checks libvips",
    "original": "check storage (PICSHA_STORAGE, the bucket and its CDN route)",
    "delete": "delete the asset by hand: DELETE /v1/assets/{id}",
}


def smoke_image() -> bytes:
    """A small PNG: a diagonal gradient, with noise in blue so that every run uploads
    different bytes (a server may answer a byte-identical upload with the earlier asset)."""
    xy = pyvips.Image.xyz(WIDTH, HEIGHT)
    gradient = (xy[0] + xy[1]) * (255 / (WIDTH + HEIGHT))
    noise = pyvips.Image.gaussnoise(WIDTH, HEIGHT, mean=128, sigma=40)
    rgb = gradient.bandjoin([255 - gradient, noise]).cast("uchar")
    return rgb.copy(interpretation="srgb").pngsave_buffer()


@dataclass
class Smoke:
    client: PicshaClient
    public: httpx.Client  # the public routes, without the API key, as a browser asks them
    signing_key: str | None
    timeout: float
    asset_id: str | None = None
    sent: bytes = field(default=b"", repr=False)

    def server(self) -> str:
        health = self.client.ping()
        facts = ", ".join(f"{k}={v}" for k, v in health.items() if isinstance(v, str | int))
        return f"{self.client.target.server} answers /healthz ({facts})"

    def api_key(self) -> str:
        r = self.client.http.get("/v1/assets", params={"limit": 1})
        if r.status_code in (401, 403):  # 403: API Gateway's answer to a wrong key
            raise StepFailed(f"{r.status_code}: the server refused the key", FIXES["api key"])
        if r.status_code != 200:
            raise StepFailed(f"GET /v1/assets: {r.status_code} {_error(r)}")
        return "GET /v1/assets accepts the key"

    def upload(self) -> str:
        self.sent = smoke_image()
        answer = self.client.request(
            "POST",
            "/v1/assets",
            files={"file": ("picsha-doctor.png", self.sent, "image/png")},
            data={"pre_render_sizes": "false"},
        ).json()
        self.asset_id = answer["id"]
        return f"POST /v1/assets: {len(self.sent)} bytes, asset {self.asset_id}"

    def ingest(self) -> str:
        started = time.monotonic()
        while True:
            manifest = self.client.manifest(self.require_id())
            if manifest.get("status") in ("ready", "failed"):
                break
            if time.monotonic() - started > self.timeout:
                raise StepFailed(
                    f"still {manifest.get('status')} after {self.timeout:.0f} s",
                    "is a worker running and reading the queue? (or pass a longer --timeout)",
                )
            time.sleep(0.5)
        if manifest["status"] == "failed":
            error = manifest.get("error") or {}
            raise StepFailed(f"failed: {error.get('stage')}/{error.get('code')}: "
                             f"{error.get('message')}", FIXES["ingest"])  # fmt: skip
        image = manifest.get("image") or {}
        if (image.get("width"), image.get("height")) != (WIDTH, HEIGHT):
            raise StepFailed(f"ready, but the manifest says {image.get('width')} x "
                             f"{image.get('height')}, not {WIDTH} x {HEIGHT}")  # fmt: skip
        return f"ready, a {WIDTH} x {HEIGHT} image"

    def render(self) -> str:
        path = f"/render/{self.require_id()}?{'&'.join(f'{k}={v}' for k, v in RENDER.items())}"
        r = self.signed_get(path, headers={"accept": "image/webp,*/*"})
        if r.status_code != 200:
            raise StepFailed(f"GET {path}: {r.status_code} {_error(r)}", FIXES["render"])
        fmt = imaging.sniff_format(r.content)
        if fmt != RENDER["fm"]:
            raise StepFailed(f"asked for {RENDER['fm']}, the bytes are {fmt or 'unknown'} "
                             f"({r.headers.get('content-type')})", FIXES["render"])  # fmt: skip
        out = pyvips.Image.new_from_buffer(r.content, "")
        want = (int(RENDER["wd"]), round(int(RENDER["wd"]) * HEIGHT / WIDTH))
        if (out.width, out.height) != want:
            raise StepFailed(f"{out.width} x {out.height} px, expected {want[0]} x {want[1]}",
                             FIXES["render"])  # fmt: skip
        return f"{out.width} x {out.height} {fmt}, {len(r.content)} bytes"

    def original(self) -> str:
        r = self.signed_get(f"/original/{self.require_id()}")
        if r.status_code != 200:
            raise StepFailed(f"GET /original: {r.status_code} {_error(r)}", FIXES["original"])
        if r.content != self.sent:
            raise StepFailed(f"{len(r.content)} bytes that are not the upload", FIXES["original"])
        return f"the uploaded bytes come back ({len(r.content)} bytes)"

    def signed_get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """GET a delivery URL, signed when a key is given (delivery checks /render's and
        /original's alike); a 403 for the signature fails with how to fix it."""
        if self.signing_key:
            path = signing.sign_url(self.signing_key, path)
        r = self.public.get(path, headers=headers)
        if r.status_code == 403 and "signature" in r.text:
            raise StepFailed(
                f"403 {_error(r)}",
                "the server signs delivery URLs: pass --signing-key or set PICSHA_SIGNING_KEY "
                "(a deployed stack: its SigningKeySecretArn)",
            )
        return r

    def delete(self) -> str:
        asset_id = self.require_id()
        self.client.request("DELETE", f"/v1/assets/{asset_id}")
        gone = self.client.http.get(f"/v1/assets/{asset_id}").status_code
        if gone != 404:
            raise StepFailed(f"deleted, yet GET /v1/assets/{asset_id} answers {gone}")
        return f"asset {asset_id} deleted"

    def require_id(self) -> str:
        if self.asset_id is None:
            raise StepFailed("no asset was uploaded")
        return self.asset_id


def run(target: Target, signing_key: str | None = None, timeout: float = 120) -> list[Check]:
    with (
        PicshaClient(target, pool=1, timeout=30) as client,
        httpx.Client(base_url=target.server, timeout=30, follow_redirects=True) as public,
    ):
        smoke = Smoke(client, public, signing_key, timeout)
        # Each step needs every one before it, except that render and original need only
        # a ready asset, not each other.
        steps: list[tuple[str, Callable[[], str]]] = [
            ("server", smoke.server),
            ("api key", smoke.api_key),
            ("upload", smoke.upload),
            ("ingest", smoke.ingest),
            ("render", smoke.render),
            ("original", smoke.original),
        ]
        checks: list[Check] = []
        try:
            for name, step in steps:
                failed = next((c.name for c in checks[:4] if c.status != OK), None)
                if failed:
                    checks.append(Check(name, SKIP, f"not run: {failed} failed"))
                else:
                    checks.append(_step(name, step))
        finally:  # also on Ctrl-C: leave no test asset behind
            if smoke.asset_id is not None:
                checks.append(_step("delete", smoke.delete))
            else:
                checks.append(Check("delete", SKIP, "nothing was uploaded"))
    return checks


def _step(name: str, step: Callable[[], str]) -> Check:
    started = time.monotonic()
    try:
        detail = step()
    except StepFailed as exc:
        return Check(name, FAIL, exc.detail, exc.fix or FIXES[name])
    except CliError as exc:
        return Check(name, FAIL, exc.message, FIXES[name])
    except (httpx.HTTPError, pyvips.Error, ValueError, KeyError) as exc:
        return Check(name, FAIL, f"{type(exc).__name__}: {exc}", FIXES[name])
    return Check(name, OK, f"{detail} [{time.monotonic() - started:.1f} s]")


def _error(response: httpx.Response) -> str:
    return "{}: {}".format(*error_of(response))
