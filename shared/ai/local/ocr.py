"""OCR with RapidOCR (PP-OCR detection + recognition ONNX models inside the wheel)."""

import logging

import numpy as np

MIN_SCORE = 0.7
# Photos without text yield stray one-letter boxes (fur, leaves); real words are longer.
MIN_ALNUM = 2


class TextReader:
    def __init__(self) -> None:
        from rapidocr import RapidOCR

        self._engine = RapidOCR()
        # RapidOCR logs every model path, and "no text found" as a warning; neither is news.
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)

    def __call__(self, rgb: np.ndarray) -> str:
        out = self._engine(np.ascontiguousarray(rgb[..., ::-1]))  # it expects BGR (OpenCV)
        texts = getattr(out, "txts", None) or ()
        scores = getattr(out, "scores", None) or ()
        kept = [
            t.strip()
            for t, s in zip(texts, scores, strict=False)
            if s >= MIN_SCORE and sum(c.isalnum() for c in t) >= MIN_ALNUM
        ]
        return " ".join(kept).strip()
