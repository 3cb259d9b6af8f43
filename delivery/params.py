"""Render parameters: parsed and validated into one normalised request.

Every parameter is checked; unknown or repeated ones are refused, because each distinct
query string is a distinct CDN cache key. The canonical form (defaults dropped, fixed
order) keys ETags and the result store, so equal requests in other spellings share them.
"""

import re
import unicodedata
from collections.abc import Iterable
from typing import Literal

from pydantic import ConfigDict, Field, ValidationError, field_validator

from delivery.edit_params import EditFields
from shared.errors import PicshaError
from shared.ids import ALPHABET, ID_LENGTH, is_valid_id

Fit = Literal["inside", "cover", "contain", "fill"]
Format = Literal["jpeg", "png", "webp", "avif", "gif", "auto"]
Gravity = Literal[
    "center", "north", "south", "east", "west", "ne", "nw", "se", "sw",
    "face", "attention", "entropy",
]  # fmt: skip
Position = Literal["center", "north", "south", "east", "west", "ne", "nw", "se", "sw"]
Font = Literal["sans", "serif", "mono"]

MAX_TEXT_LENGTH = 200
# A static bound on `t` (a week of video) so a huge number is a 400 at parse time; the
# asset's own duration is checked once its manifest is read (delivery/frames.py).
MAX_SECONDS = 604_800.0
# A static bound far above any output limit (PICSHA_RENDER_MAX_SIDE is checked later, after
# dpr): a side of hundreds of digits is refused here, before any arithmetic can overflow.
MAX_SIDE = 100_000

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_HEX = set("0123456789abcdef")
# Unicode categories refused in `txt`: controls, surrogates, line and paragraph separators
# (Pango wraps the text itself). Spaces and format characters (the ZWJ of emoji sequences,
# RTL marks) are allowed; unassigned code points too, as Python's Unicode may be older.
_UNDRAWABLE = {"Cc", "Cs", "Zl", "Zp"}
# What `_hex` and `_asset_id` accept, advertised in OpenAPI (the validators keep the
# friendlier messages).
_HEX_SCHEMA = {"pattern": "^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"}
_ID_SCHEMA = {"pattern": f"^[{re.escape(ALPHABET)}]{{{ID_LENGTH}}}$"}
_NOT_FINITE = {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


class RenderParams(EditFields):  # edit, prompt, mask: delivery/edit_params.py
    model_config = ConfigDict(extra="forbid", frozen=True)

    wd: int | None = Field(None, ge=1, le=MAX_SIDE, description="target width in px")
    ht: int | None = Field(None, ge=1, le=MAX_SIDE, description="target height in px")
    crop: bool = Field(False, description="fill exactly wd x ht, cropping (= fit=cover)")
    fit: Fit = Field("inside", description="inside | cover | contain | fill")
    up: bool = Field(False, description="allow upscaling")
    g: Gravity = Field("center", description="crop gravity")
    fm: Format | None = Field(None, description="output format; auto negotiates from Accept")
    q: int | None = Field(None, ge=1, le=100, description="quality 1-100")
    dpr: float = Field(1.0, ge=1, le=4, description="device pixel ratio, multiplies wd/ht")
    bg: str | None = Field(
        None, description="background hex colour (RGB or RRGGBB)", json_schema_extra=_HEX_SCHEMA
    )
    blur: float | None = Field(None, ge=0.3, le=100, description="gaussian blur sigma")
    sharpen: float | None = Field(None, ge=0.3, le=10, description="sharpen sigma")
    gray: bool = Field(False, description="grayscale output")
    rot: Literal[0, 90, 180, 270] = Field(0, description="rotate clockwise by degrees")
    flip: Literal["h", "v"] | None = Field(None, description="mirror horizontally or vertically")
    wm: str | None = Field(
        None, description="watermark: id of another image asset", json_schema_extra=_ID_SCHEMA
    )
    wm_pos: Position = Field("se", description="watermark position")
    wm_scale: float = Field(0.25, gt=0, le=1, description="watermark width / output width")
    wm_opacity: float = Field(0.6, ge=0, le=1, description="watermark opacity")
    txt: str | None = Field(
        None, min_length=1, max_length=MAX_TEXT_LENGTH, description="text drawn on the image"
    )
    txt_size: int = Field(32, ge=4, le=400, description="text size in output px")
    txt_color: str = Field(
        "ffffff", description="text colour, hex RGB or RRGGBB", json_schema_extra=_HEX_SCHEMA
    )
    txt_pos: Position = Field("south", description="text position")
    txt_font: Font = Field("sans", description="font family: sans, serif or mono")
    t: float | None = Field(
        None,
        ge=0,
        le=MAX_SECONDS,
        description="video assets only: render the frame at t seconds (before the end) "
        "instead of the poster",
    )
    sig: str | None = Field(None, description="URL signature when signing is enabled")

    @field_validator("crop", "up", "gray", mode="before")
    @classmethod
    def _bool(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError("must be true or false")
        return value

    @field_validator("fm", "fit", "g", "wm_pos", "txt_pos", "txt_font", "flip", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.lower()
            return {"jpg": "jpeg", "centre": "center"}.get(value, value)
        return value

    @field_validator("bg", "txt_color")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.lower().lstrip("#")
        if len(text) not in (3, 6) or not set(text) <= _HEX:
            raise ValueError("must be a hex colour like ff8800 or f80")
        return text if len(text) == 6 else "".join(c * 2 for c in text)

    @field_validator("dpr", "blur", "sharpen", "wm_scale", "wm_opacity", "t", mode="before")
    @classmethod
    def _finite(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in _NOT_FINITE:
            raise ValueError("must be a finite number")
        return value

    @field_validator("rot", mode="before")
    @classmethod
    def _int_rot(cls, value: object) -> object:
        return int(value) if isinstance(value, str) and value.isdigit() else value

    @field_validator("wm")
    @classmethod
    def _asset_id(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_id(value):
            raise ValueError("must be an asset id")
        return value

    @field_validator("txt")
    @classmethod
    def _drawable(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if any(unicodedata.category(c) in _UNDRAWABLE for c in value):
            raise ValueError("must be text without control or line-break characters")
        if all(c.isspace() or unicodedata.category(c) == "Cf" for c in value):
            raise ValueError("must contain a visible character, not only spaces or format marks")
        return value

    @property
    def effective_fit(self) -> Fit:
        return "cover" if self.crop else self.fit

    @property
    def is_transform(self) -> bool:
        """False when nothing but a signature is asked: the answer is the original."""
        return bool(self.model_dump(exclude_defaults=True, exclude={"sig"}))

    def canonical(self) -> str:
        """Stable text of what is asked: defaults dropped, names sorted, crop folded into fit."""
        data = self.model_dump(exclude_defaults=True, exclude={"sig", "crop"})
        if self.crop:
            data["fit"] = "cover"
        return "&".join(f"{k}={_fmt(v)}" for k, v in sorted(data.items()))


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse(items: Iterable[tuple[str, str]]) -> RenderParams:
    """Query items → RenderParams, or a 400 PicshaError naming the bad parameter."""
    raw: dict[str, str] = {}
    for name, value in items:
        if name in raw:
            raise PicshaError(400, "repeated_parameter", f"parameter {name!r} is given twice")
        raw[name] = value
    unknown = sorted(set(raw) - set(RenderParams.model_fields))
    if unknown:
        raise PicshaError(400, "unknown_parameter", f"unknown parameter {unknown[0]!r}")
    try:
        return RenderParams.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        raise PicshaError(400, "invalid_parameter", f"{name}: {first['msg']}") from exc
