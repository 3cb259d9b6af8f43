"""thumbor-compatible URLs, mapped onto the same render pipeline as `/render`.

Grammar (thumbor's): /thumbor/{unsafe|HMAC}/[trim/][AxB:CxD/][fit-in/][-]WxH[-]/[halign/]
[valign/][smart/][filters:f(a)[:g(b)...]/]{asset id}

Not supported (answered 400): trim, adaptive-fit-in/full-fit-in, debug/meta, filters other
than the listed ones, `fill(auto|blur)`, rotations that are not multiples of 90.
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import unquote

from pydantic import ValidationError

from delivery.params import RenderParams
from delivery.transform import Extras
from shared.errors import PicshaError

_URL = re.compile(
    r"^(?:(?P<trim>trim(?::[a-z-]+)?(?::\d+)?)/)?"
    r"(?:(?P<crop>\d+x\d+:\d+x\d+)/)?"
    r"(?:(?P<fit>(?:adaptive-|full-)?fit-in)/)?"
    r"(?:(?P<size>-?\d*x-?\d*)/)?"
    r"(?:(?P<halign>left|right|center)/)?"
    r"(?:(?P<valign>top|bottom|middle)/)?"
    r"(?:(?P<smart>smart)/)?"
    r"(?:filters:(?P<filters>.+?\))/)?"
    r"(?P<image>[^/]+)$"
)
_FILTER = re.compile(r"([a-z_]+)\(([^()]*)\)")
_NAMED = {"white": "ffffff", "black": "000000", "red": "ff0000", "green": "008000",
          "blue": "0000ff", "yellow": "ffff00", "gray": "808080", "grey": "808080"}  # fmt: skip
_GRAVITY = {
    ("left", "top"): "nw", ("center", "top"): "north", ("right", "top"): "ne",
    ("left", "middle"): "west", ("center", "middle"): "center", ("right", "middle"): "east",
    ("left", "bottom"): "sw", ("center", "bottom"): "south", ("right", "bottom"): "se",
}  # fmt: skip


@dataclass(frozen=True)
class ThumborRequest:
    asset_id: str
    params: RenderParams
    extras: Extras

    @property
    def canonical_extra(self) -> str:
        e = self.extras
        if e == Extras():
            return ""  # plain thumbor URLs share ETags with the equal /render request
        return f"|region={e.region}|b={e.brightness}|c={e.contrast}|r={e.radius}"


def thumbor_signature(key: str, url_part: str) -> str:
    digest = hmac.new(key.encode(), url_part.encode(), hashlib.sha1).digest()
    return base64.urlsafe_b64encode(digest).decode()


def check_security(path: str, signing_key: str | None) -> str:
    """Strip `unsafe/` or a valid HMAC; returns the rest of the URL."""
    head, _, rest = path.partition("/")
    if head == "unsafe":
        if signing_key:
            raise PicshaError(403, "signature_required", "unsafe thumbor URLs are disabled")
        return rest
    if not signing_key:
        raise PicshaError(403, "bad_signature", "thumbor URL signing is not configured")
    expected = thumbor_signature(signing_key, rest)
    if not hmac.compare_digest(expected.rstrip("="), head.rstrip("=")):
        raise PicshaError(403, "bad_signature", "the thumbor URL signature does not match")
    return rest


def _bad(message: str) -> PicshaError:
    return PicshaError(400, "invalid_thumbor_url", message)


def _colour(value: str) -> str:
    value = value.strip().lower()
    if value in _NAMED:
        return _NAMED[value]
    if re.fullmatch(r"#?([0-9a-f]{3}|[0-9a-f]{6})", value):
        return value.lstrip("#")
    raise _bad(f"unsupported colour {value!r}")


def _int(value: str, name: str) -> int:
    try:
        return int(value.strip())
    except ValueError as exc:
        raise _bad(f"{name}: {value!r} is not a whole number") from exc


def _float(value: str, name: str) -> float:
    try:
        number = float(value.strip())
    except ValueError as exc:
        raise _bad(f"{name}: {value!r} is not a number") from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise _bad(f"{name}: must be a finite number")
    return number


def parse_url(rest: str) -> ThumborRequest:
    match = _URL.match(rest)
    if not match:
        raise _bad("not a thumbor URL")
    g = match.groupdict()
    if g["trim"]:
        raise PicshaError(400, "unsupported_operation", "trim is not supported")
    if g["fit"] and g["fit"] != "fit-in":
        raise PicshaError(400, "unsupported_operation", f"{g['fit']} is not supported")
    q: dict[str, object] = {"up": True}  # thumbor enlarges unless no_upscale()
    extras: dict[str, object] = {}

    if g["size"]:
        w_text, _, h_text = g["size"].partition("x")
        flip_h, flip_v = w_text.startswith("-"), h_text.startswith("-")
        w, h = abs(int(w_text or 0)), abs(int(h_text or 0))
        if w:
            q["wd"] = w
        if h:
            q["ht"] = h
        if flip_h and flip_v:
            q["rot"] = 180
        elif flip_h or flip_v:
            q["flip"] = "h" if flip_h else "v"
        if w and h:
            q["fit"] = "inside" if g["fit"] else "cover"
    if g["crop"]:
        a, b = g["crop"].split(":")
        left, top = (int(v) for v in a.split("x"))
        right, bottom = (int(v) for v in b.split("x"))
        if right <= left or bottom <= top:
            raise _bad("manual crop must be AxB:CxD with C > A and D > B")
        extras["region"] = (left, top, right, bottom)
    if g["smart"]:
        q["g"] = "face"  # thumbor: faces first, then features; ours falls back to attention
    elif g["halign"] or g["valign"]:
        q["g"] = _GRAVITY[(g["halign"] or "center", g["valign"] or "middle")]
    if g["filters"]:
        _apply_filters(g["filters"], q, extras)

    asset_id = unquote(g["image"])
    try:
        params = RenderParams.model_validate(q)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _bad(f"{where}: {first['msg']}") from exc
    return ThumborRequest(asset_id, params, Extras(**extras))  # type: ignore[arg-type]


def _apply_filters(text: str, q: dict[str, object], extras: dict[str, object]) -> None:
    consumed = 0
    for m in _FILTER.finditer(text):
        if text[consumed : m.start()].strip(":"):
            raise _bad(f"cannot parse filters near {text[consumed : m.start()]!r}")
        consumed = m.end()
        name, args = m.group(1), [a for a in m.group(2).split(",")] if m.group(2) else []
        if name == "blur":
            radius = _float(args[0], "blur") if args else 0
            sigma = _float(args[1], "blur") if len(args) > 1 else radius
            if sigma > 0:
                q["blur"] = min(max(sigma, 0.3), 100)
        elif name == "grayscale":
            q["gray"] = True
        elif name == "quality":
            q["q"] = _int(args[0], "quality") if args else 80
        elif name == "format":
            q["fm"] = (args[0] if args else "").strip().lower()
        elif name == "fill":
            colour = (args[0] if args else "white").strip().lower()
            if colour != "transparent":  # no bg: an alpha source pads clear, others white
                q["bg"] = _colour(colour)
            if q.get("fit") == "inside":
                q["fit"] = "contain"
        elif name == "rotate":
            angle = _int(args[0], "rotate") % 360 if args else 0
            if angle % 90:
                raise PicshaError(400, "unsupported_operation", "rotate takes multiples of 90")
            q["rot"] = (360 - angle) % 360  # thumbor rotates counter-clockwise
        elif name == "watermark":
            _watermark(args, q)
        elif name in ("brightness", "contrast"):
            value = _int(args[0], name) if args else 0
            extras[name] = max(-100, min(100, value))
        elif name == "round_corner":
            radius = args[0].split("|")[0] if args else "0"
            extras["radius"] = max(0, min(_int(radius, "round_corner"), 2000))
            if len(args) >= 4:
                q["bg"] = "".join(f"{max(0, min(_int(v, 'colour'), 255)):02x}" for v in args[1:4])
        elif name in ("strip_exif", "strip_icc"):
            pass  # renders never carry metadata
        elif name == "no_upscale":
            q["up"] = False
        else:
            raise PicshaError(400, "unsupported_filter", f"filter {name}() is not supported")
    if text[consumed:].strip(":"):
        raise _bad(f"cannot parse filters near {text[consumed:]!r}")


def _watermark(args: list[str], q: dict[str, object]) -> None:
    """watermark(image, x, y, alpha[, w_ratio]) — positions snap to the nine gravities."""
    if len(args) < 4:
        raise _bad("watermark(image,x,y,alpha) needs four arguments")
    q["wm"] = unquote(args[0].strip())
    x, y = args[1].strip(), args[2].strip()
    col = "center" if x == "center" else ("left" if not x.startswith("-") else "right")
    row = "middle" if y == "center" else ("top" if not y.startswith("-") else "bottom")
    q["wm_pos"] = _GRAVITY[(col, row)]
    q["wm_opacity"] = 1 - max(0, min(_int(args[3], "alpha"), 100)) / 100
    if len(args) >= 5 and args[4].strip() not in ("", "none"):
        q["wm_scale"] = max(1, min(_int(args[4], "w_ratio"), 100)) / 100
