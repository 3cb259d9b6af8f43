"""thumbor's own order, for URLs with operations /render lacks: decode → trim → manual crop
→ crop to the target's aspect around the focal points, or fit-in → resize → flips → the
filters in URL order (fill, watermark, rotate... each on the result of the one before).

Sizes are checked against the output limits before anything is decoded (`final_size`) and
again as the filters run, since trim() changes them.
"""

from collections.abc import Callable, Iterator

import pyvips

from delivery.thumbor import compose, convolve, geometry, pixels, tone
from delivery.thumbor.filters import Filter
from delivery.thumbor.url import ThumborUrl, Trim
from delivery.transform import Job, Source, Watermark
from shared import imaging

Check = Callable[[int, int], None]  # raises a 4xx when an image of that size is too big

# Filters that act before the transform, or on the output only: not pixel steps here.
NOT_PIXELS = {
    "autojpg", "cover", "extract_focal", "focal", "format", "max_age", "max_bytes",
    "no_upscale", "quality", "stretch", "strip_exif", "strip_icc",
}  # fmt: skip


def upscale_size(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int] | None:
    """upscale(): fit into the request's box when smaller on both sides (sides truncated)."""
    (w, h), (bw, bh) = size, box
    if w >= bw or h >= bh:
        return None
    if w / bw >= h / bh:
        return bw, int(h * bw / w)
    return int(w * bh / h), bh


def proportion_size(size: tuple[int, int], factor: float) -> tuple[int, int] | None:
    """proportion(): scale by a factor in (0, 1]; others, or under a pixel, do nothing."""
    if not 0 < factor <= 1:
        return None
    w, h = size[0] * factor, size[1] * factor
    return (int(w), int(h)) if w >= 1 and h >= 1 else None


def filter_size(size: tuple[int, int], f: Filter, box: tuple[int, int]) -> tuple[int, int]:
    """The image's size after one filter."""
    if f.name == "fill":
        return box[0] or size[0], box[1] or size[1]
    if f.name == "upscale":
        return upscale_size(size, box) or size
    if f.name == "proportion":
        return proportion_size(size, float(f.args[0])) or size
    if f.name == "rotate" and int(f.args[0]) % 180 == 90:
        return size[1], size[0]
    return size


def final_size(width: int, height: int, url: ThumborUrl, check: Check) -> tuple[int, int]:
    """Every size the URL would make of a `width` x `height` source, checked; the last."""
    plan = geometry.plan(width, height, url)
    size = plan.size
    for step in plan.steps:
        if isinstance(step, geometry.Resize):
            check(step.width, step.height)
    for f in url.filters:
        size = filter_size(size, f, plan.box)
        check(*size)
    return size


def render(job: Job, url: ThumborUrl, check: Check) -> pyvips.Image:
    plan = _plan(job.info.width, job.info.height, url, job.faces)
    attention = url.smart and not job.faces and not geometry.focal_points(url)
    for step in plan.steps:
        if isinstance(step, geometry.Resize):
            check(step.width, step.height)
    shrunk = None if url.trim or attention else _shrink_on_load(job, plan.steps)
    if shrunk:
        image, steps = shrunk
    else:
        image = _load(job)
        if url.trim:
            image, offset = trim(image, url.trim)
            url = _shift_crop(url, offset)
            plan = _plan(image.width, image.height, url, job.faces, offset)
            for step in plan.steps:
                if isinstance(step, geometry.Resize):
                    check(step.width, step.height)
        steps = plan.steps
    image = _steps(image, steps, attention)
    if url.debug:
        image = debug(image, plan.focus)
    marks = iter(job.marks)
    for f in url.filters:
        if f.name not in NOT_PIXELS:
            check(*filter_size((image.width, image.height), f, plan.box))
            image = _apply(image, f, plan.box, marks, check)
    if job.fmt == "jpeg" and image.hasalpha():
        # As PIL converts to RGB: clear pixels show their stored colour (thumbor's
        # fill(transparent) pads black, a transparent round_corner shows its colour).
        image = image.extract_band(0, n=image.bands - 1)
    return imaging.in_memory(image)


def debug(image: pyvips.Image, points: tuple[geometry.Focus, ...]) -> pyvips.Image:
    """debug/: instead of the transform, each focal point outlined in white (10 px at least),
    as PIL draws rectangles: both corners inclusive."""
    for p in points:
        w, h = (p.width if p.width > 1 else 10), (p.height if p.height > 1 else 10)
        ink = [255] * image.bands
        image = image.draw_rect(ink, p.x - w // 2, p.y - h // 2, w + 1, h + 1, fill=False)
    return image


def _plan(
    width: int, height: int, url: ThumborUrl, faces: list, offset: tuple[int, int] = (0, 0)
) -> geometry.Plan:
    """The steps, focal points from focal() filters and, for smart/, the faces."""
    focus = geometry.focal_points(url) + [
        geometry.Focus.square(round(x) - offset[0], round(y) - offset[1], round(w), round(h))
        for x, y, w, h in faces
    ]
    return geometry.plan(width, height, url, focus)


def _shrink_on_load(
    job: Job, steps: tuple[geometry.Step, ...]
) -> tuple[pyvips.Image, tuple[geometry.Step, ...]] | None:
    """Crops followed by a resize that does not enlarge, done as one shrink-on-load resize
    of the whole source (by the window's scale) and a cut of the window from it: the same
    size and window as thumbor's crop-then-resize, with one resampling and no full decode.
    None when the first resize enlarges (cut first, then resize) or there is none."""
    left, top, right, bottom = 0, 0, job.info.width, job.info.height
    i = 0
    while i < len(steps) and isinstance(step := steps[i], geometry.Crop):
        left, top = left + step.left, top + step.top
        right, bottom = left + step.right - step.left, top + step.bottom - step.top
        i += 1
    if i == len(steps) or not isinstance(resize := steps[i], geometry.Resize):
        return None
    width, height = right - left, bottom - top
    if resize.width > width or resize.height > height:
        return None
    sx, sy = resize.width / width, resize.height / height
    whole_w = max(resize.width, round(job.info.width * sx))
    whole_h = max(resize.height, round(job.info.height * sy))
    image = _load(job, whole_w, whole_h)
    x = min(round(left * sx), image.width - resize.width)
    y = min(round(top * sy), image.height - resize.height)
    return image.crop(x, y, resize.width, resize.height), steps[i + 1 :]


def _load(job: Job, width: int | None = None, height: int | None = None) -> pyvips.Image:
    """The source as 8-bit sRGB, upright, first frame: at `width` x `height` exactly when
    given (shrink-on-load), else whole."""
    if width and height:
        image = imaging.thumbnail(job.data, width, height, size="force", to_srgb=job.info.has_icc)
    else:
        image = decode(job.data)
    return imaging.in_memory(pixels.rgb(image))


def decode(data: Source) -> pyvips.Image:
    try:
        if isinstance(data, bytes):
            image = pyvips.Image.new_from_buffer(data, "")
        else:
            image = pyvips.Image.new_from_file(str(data))
        return imaging.in_memory(imaging.to_srgb(image.autorot()))
    except pyvips.Error as exc:
        raise imaging.ImageDecodeError(str(exc).strip()) from exc


def load_mark(mark: Watermark, size: tuple[int, int] | None = None) -> pyvips.Image:
    """A watermark at its natural size, or exactly `size`."""
    if size:
        image = imaging.thumbnail(mark.data, *size, size="force", to_srgb=mark.info.has_icc)
    else:
        image = decode(mark.data)
    return imaging.in_memory(pixels.rgba(image))


def trim(image: pyvips.Image, spec: Trim) -> tuple[pyvips.Image, tuple[int, int]]:
    """Cut the border whose colour is within `tolerance` (euclidean, over all bands) of the
    top-left or bottom-right pixel; a one-colour image stays whole."""
    x, y = (0, 0) if spec.corner == "top-left" else (image.width - 1, image.height - 1)
    reference = image.getpoint(x, y)
    distance = ((image - reference) ** 2).bandmean() * image.bands
    columns, rows = (distance > spec.tolerance**2).project()
    xs = [i for i, v in enumerate(columns.tolist()[0]) if v]
    ys = [i for i, row in enumerate(rows.tolist()) if row[0]]
    if not xs:
        return image, (0, 0)
    box = (xs[0], ys[0], xs[-1] + 1 - xs[0], ys[-1] + 1 - ys[0])
    return image.crop(*box), (xs[0], ys[0])


def _shift_crop(url: ThumborUrl, offset: tuple[int, int]) -> ThumborUrl:
    """thumbor moves a manual crop with the trimmed border."""
    if not url.crop or offset == (0, 0):
        return url
    left, top, right, bottom = url.crop
    dx, dy = offset
    crop = (left - dx, top - dy, right - dx, bottom - dy)
    return ThumborUrl(**{**url.__dict__, "crop": crop})


def _steps(image: pyvips.Image, steps: tuple[geometry.Step, ...], attention: bool) -> pyvips.Image:
    for step in steps:
        if isinstance(step, geometry.Crop):
            width, height = step.right - step.left, step.bottom - step.top
            if attention and step.auto:  # smart/ with no faces: libvips' attention
                image = image.smartcrop(width, height, interesting="attention")
            else:
                image = image.crop(step.left, step.top, width, height)
        elif isinstance(step, geometry.Resize):
            image = pixels.resize(image, step.width, step.height)
        else:
            image = image.flip("horizontal" if step.horizontal else "vertical")
    return image


def _apply(
    image: pyvips.Image,
    f: Filter,
    box: tuple[int, int],
    marks: Iterator[Watermark],
    check: Check,
) -> pyvips.Image:
    a = f.args
    match f.name:
        case "brightness" | "contrast" | "rgb" | "colorize" | "saturation" | "curve":
            return getattr(tone, f.name)(image, *a)
        case "grayscale" | "equalize":
            return getattr(tone, f.name)(image)
        case "noise":
            return tone.noise(image, *a)
        case "blur" | "convolution" | "sharpen":
            return getattr(convolve, f.name)(image, *a)
        case "fill":
            return compose.fill(image, str(a[0]), bool(a[1:] and a[1]), box)
        case "background_color":
            return compose.background_color(image, str(a[0]))
        case "round_corner":
            return compose.round_corner(image, *a)  # type: ignore[arg-type]
        case "watermark":
            return _watermark(image, f, next(marks), check)
        case "rotate":
            turn = {90: "d270", 180: "d180", 270: "d90"}  # thumbor turns counter-clockwise
            angle = int(a[0]) % 360 if int(a[0]) % 90 == 0 else 0
            return image.rot(turn[angle]) if angle else image
        case "upscale":
            size = upscale_size((image.width, image.height), box)
            return pixels.resize(image, *size) if size else image
        case "proportion":
            size = proportion_size((image.width, image.height), float(a[0]))
            return pixels.resize(image, *size) if size else image
    raise AssertionError(f"no pixel step for {f.name}()")


def _watermark(image: pyvips.Image, f: Filter, mark: Watermark, check: Check) -> pyvips.Image:
    _, x, y, alpha, *ratios = f.args
    w_ratio, h_ratio = (compose.ratio(str(r)) for r in [*ratios, "none", "none"][:2])
    size = None
    if w_ratio or h_ratio:
        natural = (mark.info.width, mark.info.height)
        size = compose.watermark_size((image.width, image.height), natural, w_ratio, h_ratio)
        check(*size)
    return compose.watermark(image, load_mark(mark, size), str(x), str(y), int(alpha))
