"""Videos and audio in the console: poster, running time, hover preview, players, details.

The assets are written straight to the store (real ffmpeg clips, ffprobe's facts), as
ingest's video and audio stages write them; `/media/{id}/{name}` (delivery) is answered
by the test from the same files, so the players load real media.
"""

from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pyvips
from playwright.sync_api import Page, Route, expect

from shared import imaging, newest
from shared.ids import new_id
from shared.keys import DERIVATIVE_FILES, derivative_key, original_key
from shared.manifest import (
    DerivativeInfo,
    Manifest,
    MediaTags,
    Progress,
    Source,
    save_manifest,
)
from shared.media import probe
from shared.storage.local import LocalStore
from tests.helpers import make_jpeg
from tests.picsha.console.test_console import sign_in
from tests.video_clips import ffmpeg

pytestmark = pytest.mark.slow


@dataclass
class Stored:
    id: str
    name: str
    files: dict[str, Path]  # /media/{id}/<name> → the file behind it


def store_media_asset(served, folder: Path, name: str, kind: str, files: dict[str, Path],
                      poster: Path, tags: MediaTags | None = None) -> Stored:  # fmt: skip
    """A ready video/audio asset as ingest leaves it: original, poster, web proxies."""
    store = LocalStore(served.data / "objects")
    asset_id = new_id()
    original = files["proxy.mp4" if kind == "video" else "proxy.m4a"]
    store.put_bytes(original_key(asset_id), original.read_bytes())
    media = probe(original)
    media.tags = tags
    derivatives = {}
    by_file = {v: k for k, v in DERIVATIVE_FILES.items()}
    for file_name, path in {"poster.jpg": poster, **files}.items():
        derivative = by_file[file_name]
        store.put_bytes(derivative_key(asset_id, derivative), path.read_bytes())
        size = (None, None)
        if derivative == "poster":
            image = pyvips.Image.new_from_file(str(path))
            size = (image.width, image.height)
        elif derivative != "proxy_audio":
            size = (media.width, media.height)
        derivatives[derivative] = DerivativeInfo(key=derivative_key(asset_id, derivative),
                                                 width=size[0], height=size[1],
                                                 bytes=path.stat().st_size)  # fmt: skip
    manifest = Manifest(id=asset_id, status="ready", kind=kind, media=media,
                        source=Source(filename=name, size=original.stat().st_size,
                                      sha256="0" * 64, mime=f"{kind}/mp4"),
                        derivatives=derivatives)  # fmt: skip
    save_manifest(store, manifest)
    newest.remember(store, manifest)
    return Stored(asset_id, name, files)


@pytest.fixture(scope="module")
def media_assets(served, tmp_path_factory) -> dict[str, Stored]:
    folder = tmp_path_factory.mktemp("media")
    clip, preview, song = folder / "clip.mp4", folder / "preview.mp4", folder / "song.m4a"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:duration=2:rate=25", "-f", "lavfi",
           "-i", "sine=duration=2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
           "-movflags", "+faststart", str(clip))  # fmt: skip
    ffmpeg("-i", str(clip), "-an", "-t", "1", "-c:v", "copy", "-movflags", "+faststart",
           str(preview))  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "aac", str(song))
    poster = folder / "poster.jpg"
    ffmpeg("-i", str(clip), "-frames:v", "1", str(poster))
    cover = make_jpeg(folder / "cover.jpg", 300, 300)
    video = store_media_asset(served, folder, "holiday clip.mov", "video",
                              {"proxy.mp4": clip, "preview.mp4": preview}, poster)  # fmt: skip
    audio = store_media_asset(served, folder, "a song.flac", "audio", {"proxy.m4a": song},
                              cover, MediaTags(title="Sine", artist="Lavfi"))  # fmt: skip
    return {"video": video, "audio": audio}


def serve_media(page: Page, assets: dict[str, Stored]) -> list[str]:
    """Answer /media/{id}/{name} from the stored files; the paths the page asked for."""
    files = {f"/media/{a.id}/{n}": p for a in assets.values() for n, p in a.files.items()}
    asked: list[str] = []

    def fulfil(route: Route) -> None:
        path = httpx.URL(route.request.url).path
        asked.append(path)
        if path in files:
            kind = "audio/mp4" if path.endswith(".m4a") else "video/mp4"
            route.fulfill(status=200, body=files[path].read_bytes(), content_type=kind)
        else:
            route.fulfill(status=404)

    page.route("**/media/**", fulfil)
    return asked


def test_video_tile_badge_hover_preview_and_player(page: Page, served, media_assets):
    video = media_assets["video"]
    asked = serve_media(page, media_assets)
    sign_in(page, served)
    tile = page.locator("#grid li", has_text=video.name)
    expect(tile.locator(".badge")).to_have_text("0:02")
    # The poster, rendered by /render like a document's first page.
    page.wait_for_function("i => i.complete && i.naturalWidth > 0",
                           arg=tile.locator("img").element_handle())  # fmt: skip

    tile.locator(".tile").hover()
    clip = tile.locator("video.hover-preview")
    expect(clip).to_have_attribute("src", f"/media/{video.id}/preview.mp4")
    expect(clip).to_have_js_property("muted", True)
    page.wait_for_function("v => v.currentTime > 0", arg=clip.element_handle())  # it plays
    page.mouse.move(0, 0)
    expect(clip).to_have_count(0)

    tile.locator("a").click()
    player = page.locator("#player")
    expect(player).to_be_visible()
    expect(player).to_have_attribute("src", f"/media/{video.id}/proxy.mp4")
    expect(player).to_have_attribute("preload", "metadata")
    assert player.get_attribute("controls") is not None
    poster = player.get_attribute("poster")
    assert poster == f"/render/{video.id}?wd=1200&fm=webp"
    rendered = httpx.get(served.base + poster)
    assert rendered.status_code == 200 and imaging.sniff_format(rendered.content) == "webp"
    page.wait_for_function("v => v.readyState >= 1", arg=player.element_handle())
    assert player.evaluate("v => [v.videoWidth, v.videoHeight]") == [320, 240]
    assert abs(player.evaluate("v => v.duration") - 2) < 0.1
    expect(page.locator("#preview")).to_be_hidden()
    assert f"/media/{video.id}/proxy.mp4" in asked

    details = page.locator("#details")
    for text in ("resolution320 \u00d7 240", "duration0:02", "frame rate25 fps",
                 "video codech264", "audio codecaac"):  # fmt: skip
        expect(details).to_contain_text(text)


def test_audio_page_shows_its_cover_and_plays(page: Page, served, media_assets):
    audio = media_assets["audio"]
    serve_media(page, media_assets)
    sign_in(page, served)
    tile = page.locator("#grid li", has_text=audio.name)
    expect(tile.locator(".badge")).to_have_text("0:03")
    tile.locator(".tile").hover()
    expect(tile.locator("video")).to_have_count(0)  # no preview clip for audio

    tile.locator("a").click()
    listen = page.locator("#listen")
    expect(listen).to_have_attribute("src", f"/media/{audio.id}/proxy.m4a")
    page.wait_for_function("a => a.readyState >= 1", arg=listen.element_handle())
    assert abs(listen.evaluate("a => a.duration") - 3) < 0.1
    expect(page.locator("#preview")).to_have_js_property("naturalWidth", 300)  # the cover
    expect(page.locator("#player")).to_be_hidden()
    details = page.locator("#details")
    for text in ("duration0:03", "audio codecaac", "titleSine", "artistLavfi"):
        expect(details).to_contain_text(text)
    expect(details).not_to_contain_text("video codec")


def test_a_long_transcode_shows_its_progress(page: Page, served, tmp_path):
    store = LocalStore(served.data / "objects")
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), b"\x00" * 64)
    manifest = Manifest(
        id=asset_id,
        status="processing",
        kind="video",
        progress=Progress(stage="transcode", fraction=0.45),
        source=Source(filename="long_take.mov", size=64, sha256="0" * 64),
    )
    save_manifest(store, manifest)
    newest.remember(store, manifest)
    sign_in(page, served)
    tile = page.locator("#grid li", has_text="long_take.mov")
    expect(tile).to_contain_text("processing · transcode 45 %")
    tile.locator("a").click()
    expect(page.locator("#asset-status")).to_have_text("processing · transcode 45 %")
