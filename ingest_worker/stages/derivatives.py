"""Which derivatives an asset gets, by family, and the one image they all come from.

web images: samples from the original · complex images and vectors: proxy.jpg (+ proxy.png
with transparency), then samples from the proxy · documents: document.pdf (unless a PDF
was uploaded) + poster.jpg, then samples from the poster · video and audio: poster.jpg +
web proxies (stages/media.py), then samples from the poster. Placeholders come from the
samples' decode in every case.
"""

import mimetypes
import tempfile
from pathlib import Path
from typing import Any

from ingest_worker.errors import StageError
from ingest_worker.stages import documents, media, metadata, placeholders, proxy, render
from ingest_worker.stages.sniff import Sniffed
from shared import imaging
from shared.keys import Derivative, derivative_key
from shared.manifest import DerivativeInfo, ImageInfo, Manifest, Progress, save_manifest
from shared.settings import Settings
from shared.storage import ObjectStore


def build(
    manifest: Manifest,
    path: Path,
    sniffed: Sniffed,
    tags: dict[str, Any],
    settings: Settings,
    store: ObjectStore,
) -> None:
    """Write the derivatives' objects; fill manifest.image, .derivatives, .placeholders."""
    _refuse_declared_bomb(tags, settings)
    icc = metadata.icc_description(tags)
    out: dict[str, DerivativeInfo] = {}
    with tempfile.TemporaryDirectory(prefix="picsha-ingest-") as tmp:
        workdir = Path(tmp)
        if sniffed.family == "web":
            manifest.image, header = render.inspect(path, settings, icc)
            visual = path
        elif sniffed.kind == "document":
            doc = documents.render(sniffed, path, workdir, settings)
            if doc.pdf is not None:
                out["document"] = _put(store, manifest.id, "document", doc.pdf, None)
            out["poster"] = _put(store, manifest.id, "poster", doc.poster, doc)
            manifest.image = ImageInfo(width=doc.width, height=doc.height, pages=doc.pages)
            visual = doc.poster
        elif sniffed.family == "media":
            made = media.make(sniffed, path, workdir, settings, _reporter(manifest, store))
            manifest.kind, manifest.media, manifest.progress = made.kind, made.info, None
            for name, local in made.files.items():
                out[name] = _put(store, manifest.id, name, local, None)
                out[name].width, out[name].height = made.sizes.get(name, (None, None))
            out["poster"] = _put(store, manifest.id, "poster", made.poster, None)
            out["poster"].width, out["poster"].height = made.poster_width, made.poster_height
            manifest.image = ImageInfo(width=made.poster_width, height=made.poster_height)
            visual = made.poster
        else:
            made = proxy.make(sniffed, path, workdir, settings)
            out["proxy"] = _put(store, manifest.id, "proxy", made.path, made)
            if made.alpha_path:
                out["proxy_alpha"] = _put(store, manifest.id, "proxy_alpha", made.alpha_path, made)
            manifest.image = ImageInfo(
                width=made.width,
                height=made.height,
                orientation=made.orientation,
                has_alpha=made.has_alpha,
                pages=made.pages,
                animated=made.animated,
                icc=icc or ("embedded" if made.has_icc else None),
            )
            visual = made.alpha_path or made.path  # transparent samples for a logo
        if visual != path:  # our own sRGB JPEG or PNG: its header is cheap and trusted
            header = imaging.probe(visual, settings.max_source_pixels)
        samples, base = render.make_samples(
            manifest.id, visual, header, settings, store, manifest.pre_render_sizes,
            pyramid_of=None if manifest.image.animated else manifest.source.sha256,
        )  # fmt: skip
        out.update(samples)
        manifest.placeholders = placeholders.compute(base)
    manifest.derivatives = out
    if manifest.metadata and manifest.metadata.pages is None and manifest.image.pages > 1:
        manifest.metadata.pages = manifest.image.pages  # multi-page TIFF: the IFD count


def _refuse_declared_bomb(tags: dict[str, Any], settings: Settings) -> None:
    """Second guard, before any decoder runs: the size ExifTool read from the header.

    Catches bombs whose own decoder would only fail vaguely (libheif's "security limit").
    """
    width, height = tags.get("File:ImageWidth"), tags.get("File:ImageHeight")
    size = tags.get("Composite:ImageSize")
    if not isinstance(width, int) and isinstance(size, str) and size.count(" ") == 1:
        width, height = (int(float(v)) for v in size.split())
    limit = settings.max_source_pixels
    if isinstance(width, int) and isinstance(height, int) and width * height > limit:
        raise StageError(
            render.STAGE, "too_many_pixels", str(imaging.TooManyPixels(width, height, limit))
        )


def _reporter(manifest: Manifest, store: ObjectStore) -> media.Report:
    """Progress of a long stage in the manifest, saved at most every 5 %."""

    def report(stage: str, fraction: float) -> None:
        last = manifest.progress
        if last is None or last.stage != stage or fraction - last.fraction >= 0.05:
            manifest.progress = Progress(stage=stage, fraction=min(max(fraction, 0.0), 1.0))
            save_manifest(store, manifest)

    return report


def _put(
    store: ObjectStore, asset_id: str, name: Derivative, local: Path, size: object
) -> DerivativeInfo:
    key = derivative_key(asset_id, name)
    content_type, _ = mimetypes.guess_type(key)  # .jpg, .png, .pdf: in Python's own table
    store.put_file(key, local, content_type)
    return DerivativeInfo(
        key=key,
        width=getattr(size, "width", None),
        height=getattr(size, "height", None),
        bytes=local.stat().st_size,
    )
