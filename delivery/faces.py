"""Faces for `g=face`: the boxes analysis stored in the manifest, else detected at render
time with the offline CPU detector of the `ai` extra (MediaPipe BlazeFace).

Without the extra, or when nothing is found, the caller falls back to attention crop.
"""

import threading
from functools import lru_cache

from cachetools import LRUCache

from delivery import transform
from delivery.source import RenderSource
from shared import imaging
from shared.ai.prepare import image_rgb_array
from shared.manifest import Manifest

DETECT_SIDE = 640  # BlazeFace full-range looks at 192 px; more only costs time

_lock = threading.Lock()  # MediaPipe graphs are not safe to call from two threads
_found: LRUCache[str, list[transform.Box]] = LRUCache(maxsize=2048)


@lru_cache(maxsize=1)
def _detector():
    try:
        from shared.ai.local.faces import FaceDetector

        return FaceDetector()
    except Exception:  # the `ai` extra is not installed, or the model cannot load here
        return None


def detector_available() -> bool:
    return _detector() is not None


def from_manifest(manifest: Manifest) -> list[transform.Box] | None:
    """Boxes in displayed-image pixels; None when analysis has not looked for faces."""
    if manifest.analysis is None or manifest.analysis.faces is None:
        return None
    width = manifest.image.width if manifest.image else 0
    height = manifest.image.height if manifest.image else 0
    return [face.box.pixels(width, height) for face in manifest.analysis.faces]


def detect(
    manifest: Manifest, source: transform.Source, src: RenderSource, at: float | None = None
) -> list[transform.Box]:
    """Detect on a small shrink-on-load decode; remembered per asset version (and video
    frame: `at` seconds)."""
    cache_key = f"{manifest.id}:{manifest.version}:{at}"
    if cache_key in _found:
        return _found[cache_key]
    detector = _detector()
    if detector is None:
        return []
    image = imaging.thumbnail(source, DETECT_SIDE, DETECT_SIDE, to_srgb=src.has_icc)
    pixels = image_rgb_array(image)
    with _lock:
        faces = detector(pixels)
    boxes = [
        (f.box[0] * src.width, f.box[1] * src.height, f.box[2] * src.width, f.box[3] * src.height)
        for f in faces
    ]
    _found[cache_key] = boxes
    return boxes
