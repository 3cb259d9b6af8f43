"""`picsha reindex` and `picsha search`: on a data folder of manifests, and on a server."""

import json
import time

import pytest
from typer.testing import CliRunner

from picsha.cli import app
from shared.ids import new_id
from shared.manifest import Manifest, Source, save_manifest
from shared.storage.local import LocalStore
from tests.helpers import free_port, make_jpeg, wait_for
from tests.picsha.test_cli import assert_one_clean_line, picsha


def test_reindex_then_search_prints_a_table(tmp_path):
    data = tmp_path / "data"
    store = LocalStore(data / "objects")
    asset = Manifest(
        id=new_id(),
        status="ready",
        kind="image",
        source=Source(filename="lighthouse_at_dusk.jpg", size=1, sha256="0" * 64),
        analysis={"status": "done", "labels": [{"name": "beacon, lighthouse", "confidence": 0.8}]},
    )
    save_manifest(store, asset)
    save_manifest(store, Manifest(id=new_id(), source=Source(filename="q.jpg", size=1, sha256="1")))
    runner = CliRunner()
    result = runner.invoke(app, ["reindex", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "indexed 1 ready assets of 2" in result.output
    result = runner.invoke(app, ["search", "lighthouse", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert asset.id in result.output and "beacon" in result.output
    assert "1 result for 'lighthouse'" in result.output
    # Why it matched, not the fused rank score (0.0164 = "first in one list" means nothing).
    header = next(line for line in result.output.splitlines() if " id " in line)
    assert "matched" in header and "score" not in header
    result = runner.invoke(app, ["search", 'NEAR("*', "--data-dir", str(data)])
    assert result.exit_code == 0 and "No results for 'NEAR(\"*'" in result.output


def test_search_asks_the_server_and_says_when_none_answers():
    result = picsha("search", "cat", "--server", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 3, result
    assert_one_clean_line(result)
    assert "cannot reach a Picsha server" in result.stderr
    both = picsha("search", "cat", "--server", "http://x", "--data-dir", "d")
    assert both.returncode == 2 and "not both" in both.stderr


@pytest.mark.slow
def test_search_honours_server_and_api_key(served, tmp_path):
    photo = make_jpeg(tmp_path / "quayside-bollard.jpg", 64, 48)
    with served.client() as client, photo.open("rb") as f:
        asset_id = client.post("/v1/assets", files={"file": (photo.name, f)}).json()["id"]
        assert wait_for(lambda: client.get(f"/v1/assets/{asset_id}").json())["status"] == "ready"
        for _ in range(100):  # indexed by file name right after it is ready
            if client.get("/v1/search", params={"q": "bollard"}).json()["total"]:
                break
            time.sleep(0.1)
    found = picsha(
        "search", "quayside bollard", "--json", "--server", served.base, "--api-key", served.key
    )
    assert found.returncode == 0, found.stderr
    body = json.loads(found.stdout)
    assert [h["id"] for h in body["items"]] == [asset_id] and body["total"] == 1
    none = picsha("search", "zxqv", "--server", served.base, "--api-key", served.key)
    assert none.returncode == 0 and none.stdout.strip() == "No results for 'zxqv'"
    refused = picsha("search", "bollard", "--server", served.base, "--api-key", "wrong")
    assert refused.returncode == 4
    assert_one_clean_line(refused)


def test_search_filters_recordings_by_codec_and_duration(tmp_path):
    data = tmp_path / "data"
    store = LocalStore(data / "objects")
    songs = {}
    for name, codec, seconds in [("ballad.mp3", "mp3", 200.0), ("jingle.m4a", "aac", 15.0)]:
        m = Manifest(
            id=new_id(), status="ready", kind="audio",
            source=Source(filename=name, size=1, sha256="0" * 64),
            media={"duration": seconds, "audio_codec": codec},
        )  # fmt: skip
        save_manifest(store, m)
        songs[name] = m.id
    runner = CliRunner()
    assert runner.invoke(app, ["reindex", "--data-dir", str(data)]).exit_code == 0

    def found(*args: str) -> set[str]:
        result = runner.invoke(app, ["search", "", "--data-dir", str(data), "--json", *args])
        assert result.exit_code == 0, result.output
        return {item["id"] for item in json.loads(result.output)["items"]}

    assert found("--codec", "MP3") == {songs["ballad.mp3"]}
    assert found("--max-duration", "60") == {songs["jingle.m4a"]}
    assert found("--min-duration", "10", "--kind", "audio") == set(songs.values())
    assert found("--min-duration", "300") == set()
