"""AI edits in /render (`edit=`): who may ask, which provider runs them, and where.

Where: inside the render pipeline (delivery/transform.py `render`), after geometry and
rotation (the model sees the pixels the output shows, at output size: a 12 MP photo asked
at 1024 px is segmented at 1024 px) and before padding, tone, watermark and text (which
the edit must not repaint). Each edit's result is always kept in the result store, so a
CDN miss in another edge is served the stored render, never a second model run.

Who: an edit that costs money (every generative edit, and any edit by a paid provider)
is served only on signed URLs, so it needs PICSHA_SIGNING_KEY; every model run takes a
token from its client's bucket (delivery/ratelimit.py).
"""

import contextlib
import hashlib
import math
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import quote

import pyvips
from fastapi import Request

from delivery import transform
from delivery.edit_params import GENERATIVE, parse_box
from delivery.overload import RenderGate
from delivery.params import RenderParams
from delivery.ratelimit import RateLimiter
from shared.ai import (
    AIProvider,
    CapabilityMissing,
    ProviderError,
    ProviderUnavailable,
    open_provider,
)
from shared.ai.types import EditRequest, ProviderRejected, ProviderThrottled, ProviderTimeout
from shared.errors import PicshaError
from shared.manifest import Manifest
from shared.settings import Settings

EDITABLE_KINDS = ("image", "complex_image", "vector")
MAX_SEED = 2_147_483_647  # Titan's seeds are 0..2147483646
AUDIT_HEADER = "Picsha-Edit"
# Which provider runs what, for the 501 of a provider that cannot.
SUPPORTED_BY = {"bg_remove": "local or bedrock", "inpaint": "bedrock", "outpaint": "bedrock",
                "replace_bg": "bedrock", "variation": "bedrock"}  # fmt: skip


def makes_alpha(params: RenderParams) -> bool:
    """The edit leaves a transparent background (so PNG, not the source's JPEG, by default)."""
    return params.edit == "bg_remove" and params.bg is None


class Editor:
    def __init__(
        self, settings: Settings, gate: RenderGate | None = None, provider: AIProvider | None = None
    ) -> None:
        self.settings = settings
        self.gate = gate  # the render slot a remote model call gives back while it waits
        self._provider = provider
        self._lock = threading.Lock()
        self.limiter = RateLimiter(settings.edit_rate_per_minute, settings.edit_rate_burst)
        # Model calls run here so a request can stop waiting at the timeout; a call that
        # overruns still ends at the client's own timeout (botocore read_timeout).
        self._pool = ThreadPoolExecutor(max(2, settings.render_concurrency),
                                        thread_name_prefix="edit")  # fmt: skip

    @property
    def provider(self) -> AIProvider:
        with self._lock:
            if self._provider is None:
                try:
                    self._provider = open_provider(self.settings)
                except ProviderUnavailable as exc:
                    raise PicshaError(503, "edit_unavailable", f"edits cannot run: {exc}") from exc
            return self._provider

    def check(self, params: RenderParams, manifest: Manifest) -> dict[str, str]:
        """Refuse what must not run (before any decoding); the audit header if it may."""
        op = params.edit or ""
        provider = self.provider
        if op not in provider.edit_ops:
            raise PicshaError(
                501,
                "edit_not_supported",
                f"edit={op} needs the {SUPPORTED_BY[op]} AI provider (PICSHA_AI); this "
                f"server runs {provider.name!r}",
            )
        costly = op in GENERATIVE or provider.name != "local"
        if costly and not self.settings.signing_key:
            raise PicshaError(
                403,
                "signed_url_required",
                f"edit={op} is served only on signed URLs; the server has no signing key "
                "(PICSHA_SIGNING_KEY)",
            )
        if params.prompt and any(
            re.search(rf"\b{re.escape(word)}\b", params.prompt, re.IGNORECASE)
            for word in self.settings.edit_prompt_denylist
        ):
            raise PicshaError(400, "prompt_refused", "prompt: contains a refused word")
        if manifest.status == "ready":  # not ready: the render's own 409/422 says so
            if manifest.kind not in EDITABLE_KINDS:
                raise PicshaError(
                    400,
                    "edit_unsupported_source",
                    f"edits apply to images, not to a {manifest.kind}'s poster",
                )
            if manifest.image and manifest.image.animated:
                raise PicshaError(
                    400,
                    "edit_unsupported_source",
                    "edits apply to still images; this one is animated (an edit per frame "
                    "is not offered)",
                )
        audit = f"op={op}; provider={provider.name}; model={provider.edit_model(op)}"
        if params.prompt:  # header values are Latin-1: the prompt goes percent-encoded
            audit += f"; prompt={quote(params.prompt, safe='')}"
        return {AUDIT_HEADER: audit}

    def recipe(self, params: RenderParams, client: str) -> transform.Recipe:
        """/render's own pipeline, with the edit run at its point (module docstring)."""

        def edit(image: pyvips.Image) -> pyvips.Image:
            return self.apply(image, params, client)

        return transform.Recipe(params, edit=edit)

    def apply(self, image: pyvips.Image, params: RenderParams, client: str) -> pyvips.Image:
        from shared.ai.prepare import image_rgb_array

        wait = self.limiter.take(client)
        if wait:
            raise PicshaError(429, "rate_limited", "too many edits from this client; retry later",
                              headers={"Retry-After": str(math.ceil(wait))})  # fmt: skip
        request = EditRequest(
            op=params.edit or "",
            prompt=params.prompt,
            mask=params.mask if params.mask in (None, "subject") else parse_box(params.mask),
            seed=int(hashlib.sha256(params.canonical().encode()).hexdigest()[:8], 16) % MAX_SEED,
        )
        rgb = image_rgb_array(image)
        provider = self.provider
        remote = self.gate is not None and provider.name != "local"
        waiting = self.gate.released() if self.gate and remote else contextlib.nullcontext()
        future = self._pool.submit(provider.edit_image, rgb, request)
        try:
            with waiting:
                out = future.result(timeout=self.settings.edit_timeout_seconds)
        except FutureTimeout as exc:
            raise PicshaError(504, "edit_timeout", f"the {request.op} edit took longer than "
                              f"{self.settings.edit_timeout_seconds:g}s") from exc  # fmt: skip
        except Exception as exc:
            raise _http_error(exc, request.op) from exc
        edited = pyvips.Image.new_from_array(out, interpretation="srgb")
        if edited.hasalpha() and params.bg is not None:
            edited = edited.flatten(background=transform.background_rgb(params))
        return edited


def _http_error(exc: Exception, op: str) -> PicshaError:
    """A provider's failure as the JSON error a client can act on; a model error is never
    a 500 (the request was fine, the model was not)."""
    if isinstance(exc, CapabilityMissing):
        return PicshaError(501, "edit_not_supported", str(exc))
    if isinstance(exc, ProviderThrottled):
        return PicshaError(429, "edit_throttled", f"the model is busy ({exc}); retry later",
                           headers={"Retry-After": "5"})  # fmt: skip
    if isinstance(exc, ProviderRejected):
        return PicshaError(400, "edit_rejected", f"the model refused this {op} edit: {exc}")
    if isinstance(exc, ProviderTimeout):
        return PicshaError(504, "edit_timeout", f"the model did not answer in time: {exc}")
    if isinstance(exc, ProviderUnavailable):
        return PicshaError(503, "edit_unavailable", f"edits cannot run: {exc}")
    detail = str(exc) if isinstance(exc, ProviderError) else type(exc).__name__
    return PicshaError(502, "edit_failed", f"the {op} edit failed: {detail}")


def client_key(request: Request, settings: Settings) -> str:
    """Whom the rate limit counts: the viewer address a trusted CDN forwards (only from the
    configured header: any client could send one), else the connecting address."""
    if settings.edit_client_header:
        # The first address of a list (X-Forwarded-For), without a trailing port
        # (CloudFront-Viewer-Address is ip:port, IPv6 too): one viewer, one bucket. An IPv6
        # address without a port may lose its last group: a coarser bucket, never a finer.
        given = request.headers.get(settings.edit_client_header, "").split(",")[0].strip()
        host, _, port = given.rpartition(":")
        if host and port.isdigit():
            given = host.strip("[]")
        if given:
            return given
    return request.client.host if request.client else "unknown"
