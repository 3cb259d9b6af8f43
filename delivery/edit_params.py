"""The `edit=` render parameters (issue 20): which AI edit, its prompt and its mask.

RenderParams inherits these fields, so they are validated, refused when unknown, and part of
the canonical request: the ETag, the stored render and the CDN key all cover an edit.
"""

import unicodedata
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

EditOp = Literal["bg_remove", "inpaint", "outpaint", "replace_bg", "variation"]
# Titan Image Generator takes at most 512 characters of text.
MAX_PROMPT_LENGTH = 512
GENERATIVE = frozenset({"inpaint", "outpaint", "replace_bg", "variation"})
_NEEDS_PROMPT = frozenset({"inpaint", "outpaint", "replace_bg"})
_TAKES_MASK = frozenset({"inpaint", "outpaint"})
_BOX_SCHEMA = {"pattern": r"^(subject|[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+)$"}


class EditFields(BaseModel):
    edit: EditOp | None = Field(
        None, description="AI edit: bg_remove | inpaint | outpaint | replace_bg | variation"
    )
    prompt: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_PROMPT_LENGTH,
        description="what the edit paints: inpaint, outpaint, replace_bg (variation: optional)",
        validate_default=True,  # so that a missing prompt meets the check below
    )
    mask: str | None = Field(
        None,
        description="where inpaint/outpaint act: `subject`, or a box `left,top,width,height` "
        "as fractions of the image (inpaint repaints it; outpaint keeps it)",
        json_schema_extra=_BOX_SCHEMA,
        validate_default=True,
    )

    @field_validator("edit", mode="before")
    @classmethod
    def _lower_edit(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("prompt")
    @classmethod
    def _prompt_text(cls, value: str | None, info: ValidationInfo) -> str | None:
        edit = info.data.get("edit")
        if value is None:
            if edit in _NEEDS_PROMPT:
                raise ValueError(f"the {edit} edit needs a prompt")
            return None
        if edit is None or edit == "bg_remove":
            raise ValueError(f"takes an edit that paints, not {edit or 'none'}")
        if any(unicodedata.category(c) in ("Cc", "Cs", "Co") for c in value):
            raise ValueError("must be plain text without control characters")
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("mask")
    @classmethod
    def _mask(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        edit = info.data.get("edit")
        if edit not in _TAKES_MASK:
            raise ValueError(f"only inpaint and outpaint take a mask, not {edit or 'none'}")
        if value.lower() == "subject":
            return "subject"
        box = parse_box(value)
        if box is None:
            raise ValueError("must be `subject` or left,top,width,height fractions in 0..1")
        return ",".join(f"{v:g}" for v in box)


def parse_box(text: str) -> tuple[float, float, float, float] | None:
    """`left,top,width,height` fractions, inside the image and not empty, or None."""
    try:
        left, top, width, height = (float(v) for v in text.split(","))
    except ValueError:
        return None
    values = (left, top, width, height)
    if not all(0 <= v <= 1 for v in values) or width <= 0 or height <= 0:
        return None
    if left + width > 1 + 1e-9 or top + height > 1 + 1e-9:
        return None
    return values
