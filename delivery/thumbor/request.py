"""A thumbor URL as a render. One whose operations /render has (sizes, crops to an aspect,
flips, format, quality) becomes /render's parameters, computed with thumbor's arithmetic
for the source at hand, so it shares /render's ETag, CDN key and pipeline; any other runs
thumbor's own pipeline, keyed apart by `canonical_extra`."""

from dataclasses import dataclass
from functools import partial

import pyvips

from delivery import compass
from delivery.params import RenderParams
from delivery.source import RenderSource
from delivery.thumbor import geometry, pipeline
from delivery.thumbor.url import ThumborUrl
from delivery.transform import Recipe, target_geometry
from shared import imaging
from shared.settings import Settings

# thumbor's format() names; heic/heif (not served here) leave the source's format, as in a
# thumbor without HEIF support. An unknown name resets an earlier format() (thumbor).
FORMATS = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg", "gif": "gif", "webp": "webp",
           "avif": "avif"}  # fmt: skip
# Filters /render's parameters express exactly (or that only steer the geometry).
PLAIN = {
    "autojpg", "extract_focal", "focal", "format", "max_age", "no_upscale", "quality",
    "stretch", "strip_exif", "strip_icc", "upscale",
}  # fmt: skip
# Filters that do not change pixels (or are in the parameters): left out of the key.
OUTPUT_ONLY = {"autojpg", "format", "max_age", "quality", "strip_exif", "strip_icc"}


@dataclass(frozen=True)
class ThumborRequest:
    url: ThumborUrl

    @property
    def asset_id(self) -> str:
        return self.url.image

    @property
    def params(self) -> RenderParams:
        """The output's format and quality: each format()/quality() overrides the last."""
        fm, q = None, None
        for f in self.url.filters:
            if f.name == "format":
                fm = FORMATS.get(str(f.args[0]).lower())
            elif f.name == "quality":
                q = max(1, min(int(f.args[0]), 100))
        return RenderParams(fm=fm, q=q)

    def recipe(self, src: RenderSource, settings: Settings) -> Recipe:
        """The render for this source; sizes beyond the output limits answer 4xx here."""

        def check(width: int, height: int) -> None:
            # Unvalidated: target_geometry itself refuses sides of any magnitude.
            size = RenderParams.model_construct(wd=max(1, width), ht=max(1, height))
            target_geometry(size, src, settings)

        url = self.url
        pipeline.final_size(src.width, src.height, url, check)
        max_bytes = _max_bytes(url)
        encode = partial(encode_within, max_bytes=max_bytes) if max_bytes else None
        cache_control = _cache_control(url)
        if plain := self._plain(src):
            key = f"|max_bytes={max_bytes}" if max_bytes else ""
            return Recipe(plain, key, encode=encode, cache_control=cache_control)
        return Recipe(
            self.params.model_copy(update={"g": "face" if url.smart else "center"}),
            canonical_extra=f"|thumbor={self.key}",
            pipeline=partial(pipeline.render, url=url, check=check),
            marks=tuple(str(f.args[0]) for f in url.filters if f.name == "watermark"),
            encode=encode,
            cache_control=cache_control,
        )

    @property
    def key(self) -> str:
        """Everything of the URL that changes pixels, in one normalised spelling."""
        u = self.url
        filters = ":".join(str(f) for f in u.filters if f.name not in OUTPUT_ONLY)
        trim = f"{u.trim.corner}:{u.trim.tolerance}" if u.trim else ""
        flips = f"{'-' if u.flip_h else ''}x{'-' if u.flip_v else ''}"
        return (
            f"crop={u.crop};fit={int(u.fit_in)}{int(u.adaptive)}{int(u.full)};"
            f"size={u.width}x{u.height};flip={flips};align={u.halign},{u.valign};"
            f"smart={int(u.smart)};trim={trim};debug={int(u.debug)};filters={filters}"
        )

    def _plain(self, src: RenderSource) -> RenderParams | None:
        """/render's parameters for this URL and source, or None when it needs thumbor's
        pipeline. Dimensions come from thumbor's arithmetic; a crop to the target's aspect
        is /render's cover with the matching compass gravity (or faces for smart/)."""
        u = self.url
        if u.trim or u.debug or geometry.focal_points(u):
            return None
        if src.has_alpha and self.params.fm == "jpeg":
            return None  # thumbor drops the alpha (PIL's RGB); /render flattens on white
        if any(f.name not in PLAIN for f in u.filters):
            return None
        plan = geometry.plan(src.width, src.height, u)
        if any(isinstance(s, geometry.Crop) and not s.auto for s in plan.steps):
            return None  # a manual crop
        size = plan.size
        for f in u.filters:  # of these, only upscale() changes the size
            size = pipeline.filter_size(size, f, plan.box)
        cropped = any(isinstance(s, geometry.Crop) for s in plan.steps)
        q: dict = self.params.model_dump(exclude_defaults=True) | {"up": True}
        if u.flip_h and u.flip_v:
            q["rot"] = 180
        elif u.flip_h or u.flip_v:
            q["flip"] = "h" if u.flip_h else "v"
        if cropped or size != (src.width, src.height):
            q |= {"wd": size[0], "ht": size[1], "fit": "cover" if cropped else "fill"}
            if cropped:
                q["g"] = "face" if u.smart else compass.named(u.halign, u.valign)
        return RenderParams.model_validate(q)

    def meta(self, src: RenderSource, frames: int) -> dict:
        """thumbor's `meta/` answer: the operations and the resulting size, as JSON."""
        plan = geometry.plan(src.width, src.height, self.url, geometry.focal_points(self.url))
        operations: list[dict] = []
        for step in plan.steps:
            if isinstance(step, geometry.Crop):
                box = {"left": step.left, "top": step.top, "right": step.right,
                       "bottom": step.bottom}  # fmt: skip
                operations.append({"type": "crop", **box})
            elif isinstance(step, geometry.Resize):
                operations.append({"type": "resize", "width": step.width, "height": step.height})
            else:
                name = "flip_horizontally" if step.horizontal else "flip_vertically"
                operations.append({"type": name})
        source = {"url": self.asset_id, "width": src.width, "height": src.height,
                  "frameCount": frames}  # fmt: skip
        target = {"width": plan.size[0], "height": plan.size[1]}
        return {"thumbor": {"source": source, "operations": operations, "target": target}}


def _max_bytes(url: ThumborUrl) -> int | None:
    values = [int(f.args[0]) for f in url.filters if f.name == "max_bytes"]
    return values[-1] if values and values[-1] > 0 else None


def _cache_control(url: ThumborUrl) -> str | None:
    values = [int(f.args[0]) for f in url.filters if f.name == "max_age"]
    return f"max-age={values[-1]},public" if values else None


def encode_within(
    image: pyvips.Image, fmt: str, quality: int | None, background: list[float], max_bytes: int
) -> bytes:
    """max_bytes(n): JPEG and WebP re-encoded at 3/4 of the quality until they fit; if even
    quality 10 does not, the first encoding stands (thumbor's search)."""
    first = imaging.encode(image, fmt, quality, background)  # type: ignore[arg-type]
    if fmt not in ("jpeg", "webp") or len(first) <= max_bytes:
        return first
    q = quality or imaging.DEFAULT_QUALITY[fmt]
    body = first
    while len(body) > max_bytes:
        q = int(q * 0.75)
        if q < 10:
            return first
        body = imaging.encode(image, fmt, q, background)  # type: ignore[arg-type]
    return body
