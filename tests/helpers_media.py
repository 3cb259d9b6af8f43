"""Small audio made with ffmpeg's lavfi sources, and assets ingested from local files."""

from pathlib import Path

from ingest_worker import pipeline
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Source, save_manifest
from tests.video_clips import ffmpeg

TAGS = {"title": "Night Train", "artist": "The Sleepers", "album": "Timetables"}


def sine(seconds: float = 2) -> list[str]:
    """ffmpeg input options: a 440 Hz tone (at -18 dBFS) lasting `seconds`."""
    return ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]


def tag_args() -> list[str]:
    return [arg for k, v in TAGS.items() for arg in ("-metadata", f"{k}={v}")]


def ten_hour_flac(folder: Path) -> Path:
    """Ten real hours of silence at 1 kHz: about 3 MB on disk, 2 s to make."""
    path = folder / "ten_hours.flac"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=1000:cl=mono", "-t", "36000", "-c:a", "flac", path)
    return path


def overstated_flac(folder: Path) -> Path:
    """One second of silence whose STREAMINFO claims ten hours: 8 KB on disk."""
    path = folder / "overstated.flac"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "1", path)
    data = bytearray(path.read_bytes())
    fields = int.from_bytes(data[18:26], "big")  # rate, channels, bits, 36-bit sample count
    fields = (fields & ~((1 << 36) - 1)) | (10 * 3600 * 8000)
    data[18:26] = fields.to_bytes(8, "big")
    path.write_bytes(data)
    return path


def upload(store, data: bytes, name: str, pre_render_sizes: bool = True) -> str:
    """An uploaded original and its queued manifest, as the API leaves them."""
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), data)
    source = Source(filename=name, size=len(data), sha256="0" * 64)
    save_manifest(store, Manifest(id=asset_id, source=source, pre_render_sizes=pre_render_sizes))
    return asset_id


def ingest(store, settings, path: Path) -> Manifest:
    """A ready asset from a local file, through the whole pipeline."""
    m = pipeline.process(upload(store, path.read_bytes(), path.name), settings, store)
    assert m.status == "ready", m.error
    return m
