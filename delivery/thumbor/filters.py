"""thumbor's `filters:` list, parsed as leniently as thumbor: a filter whose name is unknown or
whose arguments do not match its signature is skipped and the rest still run.

The list splits on `):`; each filter's arguments must match its signature from the start
(trailing text after the closing parenthesis is ignored, as in thumbor). Numbers far beyond
any image's range are capped so they behave as "very large" instead of overflowing.
"""

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from shared.errors import PicshaError

Arg = int | float | bool | str


@dataclass(frozen=True)
class Filter:
    name: str
    args: tuple[Arg, ...] = ()

    def __str__(self) -> str:
        return f"{self.name}({','.join(str(a) for a in self.args)})"


@dataclass(frozen=True)
class _Type:
    regex: str
    parse: Callable[[str], Arg]


def _int(text: str) -> int:
    digits = text.lstrip("-")
    value = 10**9 if len(digits) > 9 else int(digits)
    return -value if text.startswith("-") else value


def _float(text: str) -> float:
    value = float(text)
    return max(-1e9, min(value, 1e9)) if math.isfinite(value) else math.copysign(1e9, value)


POSITIVE = _Type(r"\d+", _int)
NON_ZERO = _Type(r"\d*[1-9]\d*", _int)
NUMBER = _Type(r"-?\d+", _int)
DECIMAL = _Type(r"-?(?:\d+\.?\d*|\d*\.?\d+)", _float)
BOOLEAN = _Type(r"[Tt]rue|[Ff]alse|1|0", lambda v: v in ("true", "True", "1"))
STRING = _Type(r"'.+?'|[^,]+?", lambda v: v[1:-1] if len(v) > 2 and v[0] == v[-1] == "'" else v)
WORD = _Type(r"\w+", str)
RADIUS = _Type(r"\d+(?:\|\d+)?", str)  # round_corner's a|b radii
POSITION = _Type(r"-?\d+p?|center|repeat", str)  # watermark x, y
RATIO = _Type(r"-?\d+|none", str)  # watermark width / height ratio in %
MATRIX = _Type(r"-?\d+(?:\.\d*)?(?:;-?\d+(?:\.\d*)?)*", str)
CURVE = _Type(r"\[(?:\(\d+,\d+\),?)*\]", str)

# name -> (argument types, how many are required); the rest are optional, from the end.
SIGNATURES: dict[str, tuple[tuple[_Type, ...], int]] = {
    "autojpg": ((BOOLEAN,), 0),
    "background_color": ((WORD,), 1),
    "blur": ((NON_ZERO, DECIMAL), 1),
    "brightness": ((NUMBER,), 1),
    "colorize": ((POSITIVE, POSITIVE, POSITIVE, STRING), 4),
    "contrast": ((NUMBER,), 1),
    "convolution": ((MATRIX, NON_ZERO, BOOLEAN), 2),
    "cover": ((), 0),
    "curve": ((CURVE, CURVE, CURVE, CURVE), 4),
    "equalize": ((), 0),
    "extract_focal": ((), 0),
    "fill": ((WORD, BOOLEAN), 1),
    "focal": ((STRING,), 1),
    "format": ((STRING,), 1),
    "frame": ((STRING,), 1),
    "gifv": ((STRING,), 0),
    "grayscale": ((), 0),
    "max_age": ((POSITIVE,), 1),
    "max_bytes": ((POSITIVE,), 1),
    "no_upscale": ((), 0),
    "noise": ((POSITIVE, POSITIVE), 1),
    "proportion": ((DECIMAL,), 1),
    "quality": ((POSITIVE,), 1),
    "redeye": ((), 0),
    "rgb": ((NUMBER, NUMBER, NUMBER), 3),
    "rotate": ((NUMBER,), 1),
    "round_corner": ((RADIUS, POSITIVE, POSITIVE, POSITIVE, BOOLEAN), 4),
    "saturation": ((DECIMAL,), 1),
    "sharpen": ((DECIMAL, DECIMAL, BOOLEAN), 3),
    "stretch": ((), 0),
    "strip_exif": ((), 0),
    "strip_icc": ((), 0),
    "upscale": ((), 0),
    "watermark": ((STRING, POSITION, POSITION, POSITIVE, RATIO, RATIO), 4),
}

# Known to thumbor but not served here, each for a reason docs/delivery.md gives.
UNSUPPORTED = {
    "frame": "frame() (nine-patch frames) is not supported",
    "redeye": "redeye() needs thumbor's OpenCV eye detector, which Picsha does not run",
    "gifv": "gifv() answers a video; Picsha renders images only",
}


def _signature_regex(name: str, types: tuple[_Type, ...], required: int) -> re.Pattern[str]:
    parts = []
    for i, kind in enumerate(types):
        comma = "," if i else ""
        parts.append(f"(?:{comma}\\s*({kind.regex})\\s*){'?' if i >= required else ''}")
    return re.compile(f"{name}\\({''.join(parts)}\\)")


_REGEXES = {name: _signature_regex(name, *sig) for name, sig in SIGNATURES.items()}


def _parse_one(name: str, text: str) -> Filter | None:
    match = _REGEXES[name].match(text)
    if not match:
        return None
    types = SIGNATURES[name][0]
    args = tuple(t.parse(v) for t, v in zip(types, match.groups(), strict=True) if v)
    return Filter(name, args)


def parse_filters(text: str) -> tuple[Filter, ...]:
    """The filters thumbor would run, in URL order; a 400 for ones it runs and we cannot."""
    if not text:
        return ()
    parts = text.split("):")
    found = []
    for i, part in enumerate(parts):
        name = part.split("(")[0]
        if name not in SIGNATURES:
            continue
        parsed = _parse_one(name, part if i == len(parts) - 1 else part + ")")
        if parsed is None:
            continue
        if name in UNSUPPORTED:
            raise PicshaError(400, "unsupported_filter", UNSUPPORTED[name])
        found.append(parsed)
    return tuple(found)
