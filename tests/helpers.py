"""Helpers the tests share (not fixtures): waiting on assets, reading images back."""

import csv
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import pyvips

from shared.manifest import Manifest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("PICSHA_CORPUS", REPO.parent / "shared" / "corpus"))
FIXTURES = REPO / "fixtures"
API_KEY = "test-key"
# 200x100 user units: the left half solid red, the right half clear.
HALF_LOGO_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">'
    b'<rect x="0" y="0" width="100" height="100" fill="#ff0000"/></svg>'
)
# The delivery tests ingest in-process; on the bundled libvips (PICSHA_TEST_LIBVIPS=bundled)
# that lacks the worker's HEIC (HEVC) and PDF loaders, which production never asks of it.
needs_worker_libvips = pytest.mark.skipif(
    os.environ.get("PICSHA_TEST_LIBVIPS") == "bundled",
    reason="ingesting this format needs the worker's (Debian's) libvips",
)


def corpus_rows() -> list[dict[str, str]]:
    """The corpus' MANIFEST.tsv rows (path, format, width, height, …); [] without it."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with open(manifest, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def corpus_file(relpath: str) -> Path:
    """A file of ../shared/corpus, or a clean skip when the corpus is not there."""
    path = CORPUS / relpath
    if not path.is_file():
        pytest.skip(f"corpus file {relpath} not present")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_jpeg(
    path: Path, width: int, height: int, orientation: int | None = None, q: int = 90
) -> Path:
    """A JPEG with texture (noise over a gradient) so it compresses like a photo."""
    base = pyvips.Image.xyz(width, height)
    r = base[0] * (255 / max(width, 1))
    g = base[1] * (255 / max(height, 1))
    b = pyvips.Image.gaussnoise(width, height, sigma=30, mean=128)
    image = r.bandjoin([g, b]).cast("uchar").copy(interpretation="srgb")
    if orientation:
        image = image.copy()
        image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    image.jpegsave(str(path), Q=q)
    return path


def make_png_alpha(path: Path, width: int, height: int) -> Path:
    rgb = pyvips.Image.black(width, height, bands=3).linear([1, 1, 1], [200, 30, 30])
    alpha = pyvips.Image.xyz(width, height)[0] * (255 / width)
    rgb.bandjoin(alpha).cast("uchar").copy(interpretation="srgb").pngsave(str(path))
    return path


TERMINAL = ("ready", "failed")


def wait_for(
    get: Callable[[], Manifest | dict | None], timeout: float = 60, interval: float = 0.1
) -> dict:
    """Poll until the asset is ready or failed; the bound only stops a broken run."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = get()
        if isinstance(last, Manifest):
            last = last.model_dump(mode="json", by_alias=True)
        if last and last.get("status") in TERMINAL:
            return last
        time.sleep(interval)
    raise AssertionError(f"asset never finished; last seen: {last}")


def load(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")
