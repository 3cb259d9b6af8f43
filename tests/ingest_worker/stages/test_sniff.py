import pytest

from ingest_worker.errors import StageError
from ingest_worker.stages.sniff import sniff
from tests.helpers import corpus_file, make_jpeg


@pytest.mark.parametrize(
    ("relpath", "mime"),
    [
        ("jpeg/canon_eos40d.jpg", "image/jpeg"),
        ("png/rgba_alpha_transparent.png", "image/png"),
        ("webp/lossy_alpha.webp", "image/webp"),
        ("gif/animated_cogs.gif", "image/gif"),
        ("hostile/webp_looks_like_svg.webp", "image/webp"),
    ],
)
def test_web_native_images_by_magic_bytes(relpath, mime):
    result = sniff(corpus_file(relpath))
    assert (result.mime, result.kind) == (mime, "image")


def test_the_extension_is_never_trusted(tmp_path):
    path = make_jpeg(tmp_path / "photo.png", 20, 20)
    assert sniff(path).mime == "image/jpeg"
    with pytest.raises(StageError) as err:
        sniff(corpus_file("hostile/json_named_webp.webp"))
    assert err.value.code == "unsupported_type"
    assert "application/json" in err.value.message


def test_zero_bytes_is_its_own_error():
    with pytest.raises(StageError) as err:
        sniff(corpus_file("hostile/zero_bytes.heic"))
    assert err.value.code == "empty_file"
