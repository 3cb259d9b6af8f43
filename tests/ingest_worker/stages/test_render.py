import pytest

from ingest_worker.errors import StageError
from ingest_worker.stages import render
from tests.helpers import corpus_file, load, make_jpeg


def test_samples_are_webp_of_the_right_size_and_orientation(tmp_path, settings, store):
    path = make_jpeg(tmp_path / "big.jpg", 3000, 4000, orientation=8)
    info, header = render.inspect(path, settings, None)
    assert (info.width, info.height, info.orientation) == (4000, 3000, 8)
    out, _ = render.make_samples("a" * 21, path, header, settings, store, pre_render_sizes=True)
    opt = load(store.get_bytes(out["optimized"].key))
    thumb = load(store.get_bytes(out["thumb"].key))
    assert store.get_bytes(out["optimized"].key)[8:12] == b"WEBP"
    assert (opt.width, opt.height) == (2048, 1536)  # fit inside 2048x2048, rotated upright
    assert thumb.width == 150 and thumb.height in (112, 113)
    assert out["thumb"].bytes == len(store.get_bytes(out["thumb"].key))


def test_no_upscaling_and_no_samples_unless_asked(tmp_path, settings, store):
    path = make_jpeg(tmp_path / "small.jpg", 300, 200)
    _, header = render.inspect(path, settings, None)
    assert render.make_samples("b" * 21, path, header, settings, store, False)[0] == {}
    out, _ = render.make_samples("b" * 21, path, header, settings, store, True)
    assert (out["optimized"].width, out["optimized"].height) == (300, 200)


@pytest.mark.parametrize(
    "relpath",
    ["hostile/truncated_jpeg.jpg", "hostile/truncated.png", "hostile/corrupt_data_stream.png"],
)
def test_truncated_or_corrupt_pixels_fail_with_decode_error(relpath, settings, store):
    path = corpus_file(relpath)
    with pytest.raises(StageError) as err:
        _, header = render.inspect(path, settings, None)
        render.make_samples("c" * 21, path, header, settings, store, False)
    assert err.value.code == "decode_error"


def test_bomb_is_refused_before_decoding(settings):
    with pytest.raises(StageError) as err:
        render.inspect(corpus_file("hostile/bomb_16384x16384.png"), settings, None)
    assert err.value.code == "too_many_pixels"


@pytest.mark.parametrize("pre_render_sizes", [True, False])
def test_the_pyramid_comes_from_the_samples_decode_upright(
    tmp_path, settings, store, pre_render_sizes
):
    path = make_jpeg(tmp_path / "big.jpg", 3000, 2000, orientation=6)
    _, header = render.inspect(path, settings, None)
    out, base = render.make_samples(
        "d" * 21, path, header, settings, store, pre_render_sizes, pyramid_of="f" * 64
    )
    info = out["pyramid"]
    data = store.get_bytes(info.key)
    assert info.key.endswith("/pyramid.tif") and data[:4] == b"II*\x00"
    assert (info.width, info.height, info.levels) == (1000, 1500, 4)  # rotated upright
    assert info.bytes == len(data) and info.source_sha256 == "f" * 64
    page = load(data)
    assert (page.width, page.height, page.get("n-pages")) == (1000, 1500, 4)
    assert max(base.width, base.height) == (2048 if pre_render_sizes else render.CHECK_SIDE)


def test_no_pyramid_for_small_images_unless_asked_or_when_switched_off(tmp_path, settings, store):
    small = make_jpeg(tmp_path / "small.jpg", 1000, 700)
    _, header = render.inspect(small, settings, None)
    assert render.make_samples("e" * 21, small, header, settings, store, False, "f" * 64)[0] == {}
    big = make_jpeg(tmp_path / "big.jpg", 1600, 1200)
    _, header = render.inspect(big, settings, None)
    assert render.make_samples("e" * 21, big, header, settings, store, False)[0] == {}
    settings.render_pyramid = False
    assert render.make_samples("e" * 21, big, header, settings, store, False, "f" * 64)[0] == {}
