"""Which derivatives an asset gets, through the real pipeline: a transparent vector keeps
its alpha in proxy.png and in the samples made from it."""

import pyvips

from ingest_worker import pipeline
from shared import imaging
from shared.ids import new_id
from shared.keys import derivative_key, original_key
from shared.manifest import Manifest, Source, save_manifest

# A red disc on a clear 300x300 canvas.
DISC = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300">'
    b'<circle cx="150" cy="150" r="100" fill="#ff0000"/></svg>'
)


def _ingest(store, settings, data: bytes, name: str) -> Manifest:
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), data)
    source = Source(filename=name, size=len(data), sha256="0" * 64)
    save_manifest(store, Manifest(id=asset_id, pre_render_sizes=True, source=source))
    return pipeline.process(asset_id, settings, store)


def test_a_transparent_vector_keeps_alpha_in_its_proxy_png_and_samples(settings, store):
    m = _ingest(store, settings, DISC, "disc.svg")
    assert m.status == "ready", m.error
    assert set(m.derivatives) == {"proxy", "proxy_alpha", "optimized", "thumb", "pyramid"}
    proxy_jpeg = store.get_bytes(derivative_key(m.id, "proxy"))
    assert imaging.sniff_format(proxy_jpeg) == "jpeg"
    for name, side in (("proxy_alpha", 2048), ("optimized", None), ("thumb", 150)):
        data = store.get_bytes(m.derivatives[name].key)
        assert imaging.sniff_format(data) == ("png" if name == "proxy_alpha" else "webp")
        image = pyvips.Image.new_from_buffer(data, "")
        assert image.bands == 4, name
        if side:
            assert image.width == image.height == side
        corner, centre = image.getpoint(2, 2), image.getpoint(image.width // 2, image.height // 2)
        assert corner[3] == 0 and centre[3] == 255 and centre[0] > 240, name
        assert m.derivatives[name].bytes == len(data)


def test_an_opaque_vector_gets_the_jpeg_proxy_only(settings, store):
    square = DISC.replace(b"<circle", b'<rect width="300" height="300" fill="#00f"/><circle')
    m = _ingest(store, settings, square, "square.svg")
    assert m.status == "ready", m.error
    assert set(m.derivatives) == {"proxy", "optimized", "thumb", "pyramid"}
    assert not m.image.has_alpha
    thumb = pyvips.Image.new_from_buffer(store.get_bytes(m.derivatives["thumb"].key), "")
    assert thumb.bands == 3
