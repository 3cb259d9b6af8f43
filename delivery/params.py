"""Render parameters: parsed and validated into one normalised request.

Every parameter is checked; unknown or repeated ones are refused, because each distinct
query string is a distinct CDN cache key. The canonical form (defaults dropped, fixed
order) keys ETags and the result store, so equal requests in other spellings share them.
"""

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.errors import PicshaError

Fit = Literal["inside", "cover", "contain", "fill"]
Format = Literal["jpeg", "png", "webp", "avif", "gif", "auto"]
Gravity = Literal["center", "north", "south", "east", "west", "ne", "nw", "se", "sw"]

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_HEX = set("0123456789abcdef")


class RenderParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    wd: int | None = Field(None, ge=1, description="target width in px")
    ht: int | None = Field(None, ge=1, description="target height in px")
    crop: bool = Field(False, description="fill exactly wd x ht, cropping (= fit=cover)")
    fit: Fit = Field("inside", description="inside | cover | contain | fill")
    up: bool = Field(False, description="allow upscaling")
    g: Gravity = Field("center", description="crop gravity")
    fm: Format | None = Field(None, description="output format; auto negotiates from Accept")
    q: int | None = Field(None, ge=1, le=100, description="quality 1-100")
    dpr: float = Field(1.0, ge=1, le=4, description="device pixel ratio, multiplies wd/ht")
    bg: str | None = Field(None, description="background hex colour (RGB or RRGGBB)")
    sig: str | None = Field(None, description="URL signature when signing is enabled")

    @field_validator("crop", "up", mode="before")
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

    @field_validator("fm", "fit", "g", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.lower()
            return {"jpg": "jpeg", "centre": "center"}.get(value, value)
        return value

    @field_validator("bg")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.lower().lstrip("#")
        if len(text) not in (3, 6) or not set(text) <= _HEX:
            raise ValueError("must be a hex colour like ff8800 or f80")
        return text if len(text) == 6 else "".join(c * 2 for c in text)

    @field_validator("dpr")
    @classmethod
    def _finite(cls, value: float) -> float:
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
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
