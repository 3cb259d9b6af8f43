"""Background removal offline: MediaPipe's selfie segmentation, whose weights ship inside the
mediapipe wheel (modules/selfie_segmentation/selfie_segmentation.tflite, 250 KB).

The model sees 256x256 and was trained on people near the camera: it cuts out people well,
and anything else (products, animals, buildings) poorly or not at all (docs/delivery.md).
"""

import threading

import numpy as np

MODEL = "mediapipe/selfie_segmentation"
# The model's own input is 256x256: a larger input only costs the graph its resize, so the
# mask is computed on at most this side and scaled up to the image (alpha edges stay soft).
MASK_SIDE = 512
# Probabilities between these become partial alpha; below, fully transparent; above, opaque.
# A soft ramp keeps hair and edges from stair-stepping; the ends make the background truly 0.
LOW, HIGH = 0.3, 0.7


class Segmenter:
    """One MediaPipe graph per process; a graph runs one image at a time, hence the lock."""

    def __init__(self) -> None:
        from mediapipe.python.solutions.selfie_segmentation import SelfieSegmentation

        self._graph = SelfieSegmentation(model_selection=0)
        self._lock = threading.Lock()

    def probability(self, rgb: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 → HxW float32 in 0..1, the chance each pixel is a person."""
        with self._lock:
            result = self._graph.process(np.ascontiguousarray(rgb))
        return np.asarray(result.segmentation_mask, dtype=np.float32)


def alpha_from(probability: np.ndarray) -> np.ndarray:
    """Person probability → uint8 alpha with a soft ramp between LOW and HIGH."""
    ramp = np.clip((probability - LOW) / (HIGH - LOW), 0.0, 1.0)
    return (ramp * 255.0 + 0.5).astype(np.uint8)


def cut_out(segmenter: Segmenter, rgb: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 → HxWx4: the image with the person's probability as its alpha."""
    import pyvips

    height, width = rgb.shape[:2]
    image = pyvips.Image.new_from_array(rgb, interpretation="srgb")
    scale = min(1.0, MASK_SIDE / max(width, height))
    small = image.resize(scale) if scale < 1 else image
    probability = segmenter.probability(_array(small))
    mask = pyvips.Image.new_from_array(probability)
    if (mask.width, mask.height) != (width, height):  # bilinear: a soft edge, not blocks
        mask = mask.resize(width / mask.width, vscale=height / mask.height, kernel="linear")
    alpha = alpha_from(_array(mask)[..., 0].astype(np.float32))
    return np.dstack([rgb, alpha])


def _array(image) -> np.ndarray:
    return np.asarray(image.numpy()).reshape(image.height, image.width, image.bands)
