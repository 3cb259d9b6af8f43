"""g=face: manifest boxes first; otherwise the offline detector runs at render time."""

import pytest
import pyvips

from delivery import faces
from tests.helpers import load

skimage_data = pytest.importorskip("skimage.data", reason="scikit-image (ai/test extra)")


@pytest.fixture
def portrait_on_the_right(ingest, tmp_path):
    """The astronaut portrait (512x512) at the far right of a wide grey canvas."""
    astronaut = skimage_data.astronaut()
    face = pyvips.Image.new_from_memory(astronaut.tobytes(), 512, 512, 3, "uchar")
    canvas = pyvips.Image.black(1600, 512, bands=3).linear([1, 1, 1], [128, 128, 128])
    image = canvas.insert(face, 1088, 0).cast("uchar").copy(interpretation="srgb")
    path = tmp_path / "wide.jpg"
    image.jpegsave(str(path), Q=92)
    return ingest(path.read_bytes(), "wide.jpg")


def _faces_in(data: bytes) -> int:
    from shared.ai.local.faces import FaceDetector

    img = load(data)
    import numpy as np

    pixels = np.ndarray(buffer=img.write_to_memory(), dtype=np.uint8,
                        shape=(img.height, img.width, img.bands))  # fmt: skip
    return len(FaceDetector()(np.ascontiguousarray(pixels[..., :3])))


@pytest.mark.skipif(not faces.detector_available(), reason="face detector needs the ai extra")
def test_render_time_detection_keeps_the_face_in_frame(client, portrait_on_the_right):
    asset = portrait_on_the_right
    assert asset.analysis is None or asset.analysis.faces is None
    face = client.get(f"/render/{asset.id}?wd=300&ht=300&crop=true&g=face&fm=png")
    centre = client.get(f"/render/{asset.id}?wd=300&ht=300&crop=true&fm=png")
    assert face.status_code == 200 and load(face.content).width == 300
    assert _faces_in(face.content) == 1
    assert _faces_in(centre.content) == 0  # the centre of the canvas is plain grey


def test_manifest_faces_win_over_detection(portrait_on_the_right, store):
    from shared.manifest import Analysis, load_manifest

    m = load_manifest(store, portrait_on_the_right.id)
    assert faces.from_manifest(m) is None
    m.analysis = Analysis(faces=[{"box": [0.0, 0.0, 0.1, 0.5], "confidence": 0.9}])
    assert faces.from_manifest(m) == [(0.0, 0.0, 160.0, 256.0)]
    m.analysis = Analysis(faces=[])
    assert faces.from_manifest(m) == []
