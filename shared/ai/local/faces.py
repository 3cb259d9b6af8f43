"""Face detection with MediaPipe BlazeFace, full-range model (`model_selection=1`)."""

import threading

import numpy as np

from shared.ai.types import Face

# Full-range BlazeFace works on 192x192 internally; larger input only costs time.
DETECT_SIDE = 1024


class FaceDetector:
    def __init__(self, min_confidence: float = 0.5) -> None:
        import mediapipe as mp

        self._detector = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=min_confidence
        )
        self._lock = threading.Lock()  # a MediaPipe graph must not run on two threads at once

    def __call__(self, rgb: np.ndarray) -> list[Face]:
        with self._lock:
            result = self._detector.process(np.ascontiguousarray(rgb))
        faces = []
        for det in result.detections or []:
            box = det.location_data.relative_bounding_box
            x, y = max(0.0, box.xmin), max(0.0, box.ymin)
            w, h = min(1.0 - x, box.width), min(1.0 - y, box.height)
            faces.append(
                Face(box=[round(v, 4) for v in (x, y, w, h)], confidence=round(det.score[0], 4))
            )
        return faces
