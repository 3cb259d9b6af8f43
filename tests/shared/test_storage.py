"""One contract, two backends: the local folder and S3 over HTTP (moto's server)."""

import io

import pytest

from shared.storage import HashingReader, ObjectNotFound, UploadTooLarge
from shared.storage.local import LocalStore
from shared.storage.s3 import S3Store


@pytest.fixture(params=["local", "s3"])
def any_store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "objects")
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Store(bucket, endpoint_url=endpoint)


def test_put_get_size_exists_delete(any_store):
    any_store.put_bytes("assets/a/original", b"hello", "text/plain")
    any_store.put_fileobj("assets/a/thumb.webp", io.BytesIO(b"x" * 3_000_000))
    assert any_store.get_bytes("assets/a/original") == b"hello"
    assert any_store.size("assets/a/thumb.webp") == 3_000_000
    assert any_store.exists("assets/a/original")
    assert not any_store.exists("assets/a/missing")
    with any_store.local_copy("assets/a/original") as path:
        assert path.read_bytes() == b"hello"
    assert b"".join(any_store.iter_chunks("assets/a/thumb.webp", 1 << 20)) == b"x" * 3_000_000
    assert any_store.delete_prefix("assets/a/") == 2
    assert not any_store.exists("assets/a/original")
    with pytest.raises(ObjectNotFound):
        any_store.get_bytes("assets/a/original")


def test_list_children_is_sorted_and_pages_with_start_after(any_store):
    names = ["b" * 21, "a" * 21, "c" * 21, "a" * 20 + "b"]
    for n in names:
        any_store.put_bytes(f"assets/{n}/manifest.json", b"{}")
        any_store.put_bytes(f"assets/{n}/original", b"x")
    first = any_store.list_children("assets", None, 2)
    assert first == sorted(names)[:2]
    rest = any_store.list_children("assets", first[-1], 10)
    assert rest == sorted(names)[2:]
    assert any_store.list_children("assets", sorted(names)[-1], 10) == []


def test_list_names_lists_objects_not_folders_and_pages_with_start_after(any_store):
    names = ["0002.b", "0001.z", "0003.a"]
    for n in names:
        any_store.put_bytes(f"newest/{n}", b"")
    any_store.put_bytes("newest/folder/inner", b"x")
    first = any_store.list_names("newest", None, 2)
    assert first == ["0001.z", "0002.b"]
    assert any_store.list_names("newest", first[-1], 10) == ["0003.a"]
    assert any_store.list_names("newest", "0003.a", 10) == []
    assert any_store.list_names("elsewhere", None, 10) == []


def test_missing_object_raises_not_found(any_store):
    with pytest.raises(ObjectNotFound):
        any_store.open("assets/nope/original")
    with pytest.raises(ObjectNotFound), any_store.local_copy("assets/nope/original"):
        pass


def test_local_store_refuses_keys_that_escape(tmp_path):
    store = LocalStore(tmp_path / "objects")
    with pytest.raises(ValueError):
        store.put_bytes("../outside", b"x")
    assert not (tmp_path / "outside").exists()


def test_failed_write_leaves_no_object(tmp_path):
    store = LocalStore(tmp_path / "objects")

    class Broken(io.RawIOBase):
        def readinto(self, b):
            raise OSError("disk went away")

    with pytest.raises(OSError):
        store.put_fileobj("assets/x/original", Broken())
    assert not store.exists("assets/x/original")
    assert list((tmp_path / "objects" / "assets" / "x").iterdir()) == []


def test_hashing_reader_counts_hashes_and_stops_at_limit():
    import hashlib

    data = b"abc" * 1000
    reader = HashingReader(io.BytesIO(data), limit=5000)
    assert reader.read() == data
    assert reader.size == 3000 and reader.sha256 == hashlib.sha256(data).hexdigest()
    with pytest.raises(UploadTooLarge):
        HashingReader(io.BytesIO(data), limit=100).read(200)


def test_s3_presigned_url_fetches_the_object(s3_endpoint, s3_bucket):
    import httpx

    store = S3Store(s3_bucket, endpoint_url=s3_endpoint)
    store.put_bytes("assets/p/original", b"payload")
    url = store.presigned_url("assets/p/original", "photo.jpg")
    assert url and url.startswith(s3_endpoint)
    assert httpx.get(url).content == b"payload"


@pytest.mark.parametrize(
    ("start", "stop"), [(0, None), (0, 1), (1_000_000, 1_000_010), (2_999_999, None), (5, 5)]
)
def test_iter_chunks_reads_a_byte_range(any_store, start, stop):
    data = bytes(range(256)) * 11_719  # 3 000 064 bytes: ranges across chunk borders
    any_store.put_bytes("assets/a/proxy.mp4", data)
    chunks = list(any_store.iter_chunks("assets/a/proxy.mp4", 1 << 16, start, stop))
    assert b"".join(chunks) == data[start:stop]
    assert all(len(c) <= 1 << 16 for c in chunks)


def test_iter_chunks_of_a_missing_object_raises(any_store):
    with pytest.raises(ObjectNotFound):
        list(any_store.iter_chunks("assets/a/missing", start=10, stop=20))
