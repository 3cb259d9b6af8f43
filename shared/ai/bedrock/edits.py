"""Titan Image Generator v2 edits: the request body of each task type, and its errors.

One attempt, no retries: an edit runs inside an HTTP request that has a deadline, and the
client (or the CDN) retries a 429 or 504 itself. Errors keep their meaning for the caller:
throttling → ProviderThrottled, a refused input or prompt → ProviderRejected, the model
out of time → ProviderTimeout, anything else → ProviderError.
"""

import base64
import json
from typing import Any

import numpy as np
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, ReadTimeoutError

from shared.ai.types import (
    EditRequest,
    ProviderError,
    ProviderRejected,
    ProviderThrottled,
    ProviderTimeout,
)

# Titan's editing limits: sides 256..1408 px (the caller scales into them), text <= 512.
MIN_SIDE, MAX_SIDE = 256, 1408
MAX_PROMPT = 512
SUBJECT_MASK_PROMPT = "the main subject"  # what Titan masks for `mask=subject`
TASKS = {
    "bg_remove": "BACKGROUND_REMOVAL",
    "inpaint": "INPAINTING",
    "outpaint": "OUTPAINTING",
    "replace_bg": "OUTPAINTING",  # keep the subject, generate everything around it
    "variation": "IMAGE_VARIATION",
}
THROTTLED = frozenset({"ThrottlingException", "ServiceQuotaExceededException",
                       "TooManyRequestsException"})  # fmt: skip
REJECTED = frozenset({"ValidationException"})
TIMED_OUT = frozenset({"ModelTimeoutException"})


def body(request: EditRequest, png: bytes, width: int, height: int) -> dict[str, Any]:
    """The InvokeModel body for `request` on an image (PNG bytes of width x height)."""
    image = base64.b64encode(png).decode()
    task = TASKS[request.op]
    if request.op == "bg_remove":
        return {"taskType": task, "backgroundRemovalParams": {"image": image}}
    config = {"numberOfImages": 1, "quality": "standard", "cfgScale": 8.0, "seed": request.seed}
    params: dict[str, Any]
    if request.op == "variation":
        params = {"images": [image], "similarityStrength": 0.7}
        if request.prompt:
            params["text"] = request.prompt
        return {"taskType": task, "imageVariationParams": params,
                "imageGenerationConfig": config}  # fmt: skip
    params = {"image": image, "text": request.prompt or ""}
    mask = "subject" if request.op == "replace_bg" else request.mask or "subject"
    if mask == "subject":
        params["maskPrompt"] = SUBJECT_MASK_PROMPT
    else:
        params["maskImage"] = base64.b64encode(box_mask(mask, width, height)).decode()  # type: ignore[arg-type]
    if task == "OUTPAINTING":
        params["outPaintingMode"] = "PRECISE" if request.op == "replace_bg" else "DEFAULT"
        key = "outPaintingParams"
    else:
        key = "inPaintingParams"
    return {"taskType": task, key: params, "imageGenerationConfig": config}


def scale_into_limits(width: int, height: int) -> float:
    """The resize that brings both sides within MIN_SIDE..MAX_SIDE (the long side wins)."""
    if max(width, height) > MAX_SIDE:
        return MAX_SIDE / max(width, height)
    if min(width, height) < MIN_SIDE:
        return min(MIN_SIDE / min(width, height), MAX_SIDE / max(width, height))
    return 1.0


def box_mask(box: tuple[float, float, float, float], width: int, height: int) -> bytes:
    """Titan's mask image: black (0,0,0) inside the box, white outside, as PNG."""
    import pyvips

    left, top, w, h = box
    x0, y0 = round(left * width), round(top * height)
    x1, y1 = max(x0 + 1, round((left + w) * width)), max(y0 + 1, round((top + h) * height))
    mask = np.full((height, width, 3), 255, dtype=np.uint8)
    mask[y0:y1, x0:x1] = 0
    return pyvips.Image.new_from_array(mask, interpretation="srgb").pngsave_buffer()


def invoke(runtime: Any, model: str, payload: dict[str, Any]) -> bytes:
    """One InvokeModel call → the first image's bytes, errors mapped as the module says."""
    try:
        out = runtime.invoke_model(
            modelId=model,
            body=json.dumps(payload).encode(),
            contentType="application/json",
            accept="application/json",
        )
        answer = json.loads(out["body"].read())
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "") or str(exc)
        if code in THROTTLED:
            raise ProviderThrottled(f"{code}: {message}") from exc
        if code in REJECTED:
            raise ProviderRejected(message) from exc
        if code in TIMED_OUT:
            raise ProviderTimeout(f"{code}: {message}") from exc
        raise ProviderError(f"{code}: {message}") from exc
    except ReadTimeoutError as exc:
        raise ProviderTimeout(str(exc)) from exc
    except (ConnectionError, BotoCoreError, ValueError) as exc:
        raise ProviderError(str(exc)) from exc
    if answer.get("error") or not answer.get("images"):
        raise ProviderError(answer.get("error") or f"{model} returned no image")
    return base64.b64decode(answer["images"][0])
