"""Embedded mode end to end: `picsha serve` as a user runs it (real HTTP, real worker
process, filesystem broker, local data folder, dev API key printed at start-up)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ingest_worker.queue.beat import BEAT_NAME
from shared import imaging
from shared.libvips import bundle_dir
from tests.faults import data_dir_processes
from tests.helpers import corpus_file, free_port, load, make_jpeg, wait_for
from tests.helpers_media import ffmpeg, sine
from tests.video_clips import clip

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path):
    port = free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICSHA_")}
    # stderr: the logs; stdout: what `picsha serve` prints for the user (URL, dev key).
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    out = open(tmp_path / "serve.out", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "picsha.cli", "serve", "--port", str(port),
         "--data-dir", str(data), "--workers", "1"],
        env=env, stdout=out, stderr=log, cwd=tmp_path,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        key = (data / "dev-api-key").read_text().strip()
        yield base, key, proc, tmp_path / "serve.log"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        log.close()
        out.close()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_upload_then_render_on_embedded_defaults(server, tmp_path):
    base, key, _, log = server
    banner = log.with_suffix(".out").read_text()
    assert key in banner  # the dev key is printed for the user
    client = httpx.Client(base_url=base, headers={"x-api-key": key}, timeout=30)

    def upload(path: Path, **form: str) -> str:
        with open(path, "rb") as f:
            r = client.post("/v1/assets", files={"file": (path.name, f)}, data=form)
        assert r.status_code == 202, r.text
        return r.json()["id"]

    def manifest(asset_id: str) -> dict:
        return client.get(f"/v1/assets/{asset_id}").json()

    photo = corpus_file("jpeg/progressive_canon_eos6d.jpg")
    asset_id = upload(photo, pre_render_sizes="true")
    m = wait_for(lambda: manifest(asset_id))
    assert m["status"] == "ready", m
    assert set(m["derivatives"]) == {"optimized", "thumb", "pyramid"}  # 1500x1000: a pyramid
    assert m["metadata"]["camera"]["model"] == "Canon EOS 6D"

    r = httpx.get(f"{base}/render/{asset_id}?wd=500&ht=500&crop=true&fm=webp")
    assert r.status_code == 200 and imaging.sniff_format(r.content) == "webp"
    assert (load(r.content).width, load(r.content).height) == (500, 500)
    if bundle_dir() is not None:  # ./dev installs it: delivery renders on libvips 8.18 ...
        assert "(bundled)" in banner
        assert b"EXIF" not in r.content  # ... whose keep=none leaves no EXIF chunk at all

    # Formats only Debian's libvips reads (HEVC HEIC, PSD through ImageMagick): the worker
    # makes their proxy.jpg, and delivery, on the bundled libvips, renders from it.
    for name in ("heif/iphone_xs_gps_p3.heic", "psd/text_layers_cs5.psd"):
        complex_id = upload(corpus_file(name), pre_render_sizes="false")
        done = wait_for(lambda cid=complex_id: manifest(cid))
        assert done["status"] == "ready" and "proxy" in done["derivatives"], (name, done)
        r = httpx.get(f"{base}/render/{complex_id}?wd=200&fm=webp")
        assert r.status_code == 200 and imaging.sniff_format(r.content) == "webp", name
        assert load(r.content).width == 200

    # A phone clip and a song: poster, web proxies, a frame at t=, byte ranges for <video>.
    vid = upload(clip(tmp_path / "IMG_0002.MOV", seconds=2.0), pre_render_sizes="true")
    v = wait_for(lambda: manifest(vid))
    assert v["status"] == "ready" and v["kind"] == "video", v
    r = httpx.get(f"{base}/media/{vid}/proxy.mp4", headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.content[4:8] == b"ftyp" and len(r.content) == 100
    size = v["derivatives"]["proxy_video"]["bytes"]
    assert r.headers["content-range"] == f"bytes 0-99/{size}"
    r = httpx.get(f"{base}/render/{vid}?t=1.5&wd=160&fm=jpeg")
    assert r.status_code == 200 and imaging.sniff_format(r.content) == "jpeg"
    assert load(r.content).width == 160
    song = tmp_path / "song.mp3"
    ffmpeg(*sine(2), "-metadata", "title=Night Train", "-c:a", "libmp3lame", song)
    aid = upload(song)
    a = wait_for(lambda: manifest(aid))
    assert a["status"] == "ready" and a["kind"] == "audio", a
    assert a["media"]["tags"]["title"] == "Night Train"
    r = httpx.get(f"{base}/media/{aid}/proxy.m4a")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/mp4"

    # A hostile file fails cleanly, and the same worker goes on with the next upload.
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    bad_id = upload(empty)
    bad = wait_for(lambda: manifest(bad_id))
    assert bad["status"] == "failed" and bad["error"]["code"] == "empty_file"
    good = upload(make_jpeg(tmp_path / "after.jpg", 300, 200), pre_render_sizes="false")
    assert wait_for(lambda: manifest(good))["status"] == "ready"

    assert client.get("/v1/assets", headers={"x-api-key": "nope"}).status_code == 401


def test_sigterm_stops_the_worker_too(server):
    _, _, proc, _ = server
    children = _children(proc.pid)
    assert children, "picsha serve runs its Celery worker as a child process"
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{c}") for c in children):
        time.sleep(0.1)
    alive = [c for c in children if os.path.exists(f"/proc/{c}")]
    zombies = [c for c in alive if "Z" in Path(f"/proc/{c}/stat").read_text().split()[2]]
    assert alive == zombies, "the worker outlived picsha serve"


def test_a_worker_that_dies_is_started_again(server, tmp_path):
    """kill -9 the Celery worker: `picsha serve` starts another, and uploads go on."""
    base, key, proc, log = server
    workers = _children(proc.pid)
    assert len(workers) == 1
    os.kill(workers[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and set(_children(proc.pid)) <= set(workers):
        time.sleep(0.1)
    assert set(_children(proc.pid)) - set(workers), "no new worker after the kill"
    client = httpx.Client(base_url=base, headers={"x-api-key": key}, timeout=30)
    with open(make_jpeg(tmp_path / "after-crash.jpg", 300, 200), "rb") as f:
        r = client.post("/v1/assets", files={"file": ("after-crash.jpg", f)})
    assert r.status_code == 202, r.text
    asset_id = r.json()["id"]
    done = wait_for(lambda: client.get(f"/v1/assets/{asset_id}").json())
    assert done["status"] == "ready", done
    assert "the Celery worker exited with code -9" in Path(log).read_text()


@pytest.mark.faults
def test_kill_minus_nine_of_picsha_serve_takes_the_worker_and_beat_along(server, tmp_path):
    """Nothing supervises them any more: left running, the next `picsha serve` on this data
    folder would add a second worker and a second beat."""
    _, _, proc, _ = server
    data = tmp_path / "data"
    deadline = time.monotonic() + 60

    def names() -> list[str]:
        return [p.name for p in data_dir_processes(data).values()]

    while time.monotonic() < deadline and BEAT_NAME not in names():
        time.sleep(0.1)
    assert BEAT_NAME in names()
    proc.kill()
    proc.wait(10)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and data_dir_processes(data):
        time.sleep(0.1)
    assert data_dir_processes(data) == {}


def test_every_log_line_is_a_json_object(server):
    """Celery's start-up, kombu, Python warnings and the C/C++ libraries under the worker
    (LibRaw, TF-Lite/absl in mediapipe) all log as JSON lines on stderr, like our own code."""
    base, key, _, log = server
    client = httpx.Client(base_url=base, headers={"x-api-key": key}, timeout=30)

    def upload(name: str) -> str:
        with open(corpus_file(name), "rb") as f:
            r = client.post("/v1/assets", files={"file": (Path(name).name, f)})
        assert r.status_code == 202, r.text
        return r.json()["id"]

    def manifest(asset_id: str) -> dict:
        return client.get(f"/v1/assets/{asset_id}").json()

    photo = upload("jpeg/progressive_canon_eos6d.jpg")  # analysis loads the TF-Lite models
    raw = upload("raw/nikon_d70.nef")  # LibRaw prints "data corrupted at …" on fd 2
    assert wait_for(lambda: manifest(raw))["status"] == "failed"
    wait_for(lambda: manifest(photo) if manifest(photo)["analysis"] else None, timeout=120)

    lines = log.read_text().splitlines()
    not_json = [line for line in lines if not _json_object(line)]
    assert not not_json, "\n".join(not_json)
    events = [json.loads(line) for line in lines]
    assert any(e["logger"] == "celery.apps.worker" for e in events)  # the worker did log
    # stdout is the few lines `picsha serve` prints for the user, nothing from the worker.
    assert "celery@" not in log.with_suffix(".out").read_text()
    assert any("data corrupted" in e["msg"] for e in events)  # LibRaw's own words, kept
    # The fs broker URL names a host: no "No hostname was supplied" warning per upload.
    assert not [e for e in events if e["logger"] == "kombu.connection"]


def _json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False
