"""Difference hash: a 64-bit picture fingerprint that near-duplicates share but for few bits."""


def dhash(rgb) -> str:
    """64-bit difference hash (hex) of an HxWx3 uint8 array."""
    import numpy as np
    import pyvips

    grey = pyvips.Image.new_from_array(np.ascontiguousarray(rgb)).colourspace("b-w")
    small = grey.resize(9 / grey.width, vscale=8 / grey.height, kernel="linear")
    px = np.ndarray(buffer=small.write_to_memory(), dtype=np.uint8, shape=(8, 9, small.bands))
    bits = (px[:, 1:, 0] > px[:, :-1, 0]).flatten()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def distance(a: str, b: str) -> int:
    """Bits that differ between two hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
