"""The `picsha` CLI as a user runs it: a real process, against a real `picsha serve`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from delivery import app as delivery_app
from ingest_worker import pipeline
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Source, load_manifest, save_manifest
from shared.storage.local import LocalStore
from tests.helpers import HALF_LOGO_SVG, corpus_file, free_port, load, make_jpeg


def picsha(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    base = {k: v for k, v in os.environ.items() if not k.startswith("PICSHA_")}
    base["COLUMNS"] = "200"  # keep table rows on one line for the asserts
    return subprocess.run(
        [sys.executable, "-m", "picsha.cli", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd,
        check=False,
    )


def assert_one_clean_line(result) -> None:
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# -- without a server -------------------------------------------------------------------


def test_missing_path_is_one_line_and_exit_2(tmp_path):
    result = picsha("ingest", str(tmp_path / "nope.jpg"))
    assert result.returncode == 2
    assert_one_clean_line(result)
    assert "no such file or folder" in result.stderr


def test_folder_needs_recursive(tmp_path):
    result = picsha("ingest", str(tmp_path))
    assert result.returncode == 2
    assert "--recursive" in result.stderr


def test_unreachable_server_is_one_line_and_exit_3(tmp_path):
    photo = make_jpeg(tmp_path / "a.jpg", 40, 30)
    url = f"http://127.0.0.1:{free_port()}"
    for args in (("ingest", str(photo)), ("status", "V1StGXR8_Z5jdHi6B-myT")):
        result = picsha(*args, "--server", url)
        assert result.returncode == 3, result
        assert_one_clean_line(result)
        assert "cannot reach a Picsha server" in result.stderr


def test_reprocess_needs_ids_or_a_selection():
    result = picsha("reprocess")
    assert result.returncode == 2
    assert_one_clean_line(result)
    assert "--all" in result.stderr
    result = picsha("reprocess", "--kind", "vectors")
    assert result.returncode == 2 and "'vectors' is not one of" in result.stderr


def test_sign_gives_render_and_thumbor_urls_the_delivery_app_accepts(settings, store, tmp_path):
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), make_jpeg(tmp_path / "p.jpg", 400, 300).read_bytes())
    save_manifest(store, Manifest(id=asset_id, source=Source(filename="p.jpg", size=1, sha256="0")))
    assert pipeline.process(asset_id, settings, store).status == "ready"
    settings.signing_key = "s3cret"
    delivery = TestClient(delivery_app.create_app(settings, store))
    cases = [
        (f"/render/{asset_id}?wd=120&fm=png", 120),
        (f"/thumbor/unsafe/fit-in/100x100/{asset_id}", 100),
        (f"https://cdn.example.com/thumbor/unsafe/80x60/filters:format(png)/{asset_id}", 80),
    ]
    for url, width in cases:
        assert delivery.get(url.removeprefix("https://cdn.example.com")).status_code == 403
        result = picsha("sign", url, env={"PICSHA_SIGNING_KEY": "s3cret"})
        assert result.returncode == 0, result.stderr
        signed = result.stdout.strip()
        r = delivery.get(signed.removeprefix("https://cdn.example.com"))
        assert r.status_code == 200, (signed, r.text)
        assert load(r.content).width == width
    refused = picsha(
        "sign", f"/thumbor/unsafe/9x9/{asset_id}?x=1", env={"PICSHA_SIGNING_KEY": "s3cret"}
    )
    assert refused.returncode == 2 and "no query" in refused.stderr
    assert_one_clean_line(refused)


def test_sign_without_a_key_says_so():
    result = picsha("sign", "/render/x?wd=1")
    assert result.returncode == 2
    assert_one_clean_line(result)
    assert "PICSHA_SIGNING_KEY" in result.stderr


def test_doctor_json_reports_every_check(tmp_path):
    result = picsha("doctor", "--json", env={"PICSHA_DATA_DIR": str(tmp_path / "d")})
    report = json.loads(result.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert {
        "libvips",
        "exiftool",
        "libreoffice",
        "ffmpeg",
        "imagemagick",
        "broker",
        "storage",
        "search index",
        "ai provider",
    } <= set(checks)
    assert checks["libvips"]["status"] == "ok" and "libvips 8." in checks["libvips"]["detail"]
    assert checks["exiftool"]["status"] == "ok"
    assert checks["storage"]["status"] == "ok"
    failed = [c for c in checks.values() if c["status"] == "fail"]
    assert result.returncode == (1 if failed else 0)
    assert all(c["fix"] for c in failed), "a failing check says how to fix it"


def test_doctor_reports_an_unreachable_server(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    result = picsha(
        "doctor", "--json", "--server", url, env={"PICSHA_DATA_DIR": str(tmp_path / "d")}
    )
    server = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "server")
    assert server["status"] == "fail" and result.returncode == 1


# -- against a real server --------------------------------------------------------------


@pytest.mark.slow
def test_serve_prints_the_console_url_and_an_export_line(served):
    lines = served.log.read_text().splitlines()
    assert f"console: {served.base}/console" in lines
    export = f"export PICSHA_URL={served.base}"
    assert export in lines
    env = {"PICSHA_URL": export.split("=", 1)[1], "PICSHA_API_KEY": served.key}
    asked = picsha("search", "nothing-here-zxqv", env=env)  # the exported URL is enough
    assert asked.returncode == 0 and "No results" in asked.stdout
    r = httpx.get(f"{served.base}/", follow_redirects=True)
    assert r.status_code == 200 and "Picsha console" in r.text


@pytest.mark.slow
def test_ingest_reports_ready_and_failed_with_codes(served, tmp_path):
    photo = corpus_file("jpeg/canon_eos40d.jpg")
    second = make_jpeg(tmp_path / "second.jpg", 320, 200)
    junk = tmp_path / "junk.jpg"  # a "JPEG" that is not one
    junk.write_bytes(os.urandom(4096))
    result = picsha(
        "ingest",
        str(photo),
        str(second),
        str(junk),
        "--json",
        "--concurrency",
        "2",
        "--pre-render-sizes",
        "--server",
        served.base,
        "--api-key",
        served.key,
    )
    assert result.returncode == 1, result.stderr  # one of them failed
    outcomes = {Path(o["path"]).name: o for o in json.loads(result.stdout)}
    assert outcomes["canon_eos40d.jpg"]["status"] == "ready"
    assert outcomes["second.jpg"]["status"] == "ready"
    assert outcomes["junk.jpg"]["status"] == "failed"
    assert outcomes["junk.jpg"]["code"] == "unsupported_type"

    status = picsha(
        "status",
        outcomes["second.jpg"]["id"],
        "--json",
        "--server",
        served.base,
        "--api-key",
        served.key,
    )
    assert status.returncode == 0
    manifest = json.loads(status.stdout)
    assert manifest["image"]["width"] == 320 and set(manifest["derivatives"]) >= {"thumb"}

    failed = picsha(
        "status", outcomes["junk.jpg"]["id"], "--server", served.base, "--api-key", served.key
    )
    assert failed.returncode == 1 and "unsupported_type" in failed.stdout


@pytest.mark.slow
def test_ingest_folder_recursively_with_progress_and_table(served, tmp_path):
    folder = tmp_path / "shoot" / "day1"
    folder.mkdir(parents=True)
    make_jpeg(folder / "one.jpg", 200, 100)
    make_jpeg(folder.parent / "two.jpg", 100, 200)
    (folder / ".DS_Store").write_bytes(b"junk")  # hidden files are skipped
    # The dev key is found in PICSHA_DATA_DIR, as on the machine that runs `picsha serve`.
    result = picsha(
        "ingest",
        "-r",
        str(tmp_path / "shoot"),
        "--server",
        served.base,
        env={"PICSHA_DATA_DIR": str(served.data)},
    )
    assert result.returncode == 0, result.stderr
    assert "2/2" in result.stderr  # the progress bar's count
    rows = [line for line in result.stdout.splitlines() if ".jpg" in line]
    assert len(rows) == 2 and all("ready" in row for row in rows)


@pytest.mark.slow
def test_status_of_unknown_asset_and_wrong_key(served):
    unknown = picsha(
        "status", "V1StGXR8_Z5jdHi6B-myT", "--server", served.base, "--api-key", served.key
    )
    assert unknown.returncode == 5
    assert_one_clean_line(unknown)
    assert "asset_not_found" in unknown.stderr

    refused = picsha(
        "status", "V1StGXR8_Z5jdHi6B-myT", "--server", served.base, "--api-key", "wrong"
    )
    assert refused.returncode == 4
    assert_one_clean_line(refused)


@pytest.mark.slow
def test_reprocess_gives_older_assets_what_a_newer_picsha_derives(served, tmp_path):
    logo, photo = tmp_path / "logo.svg", make_jpeg(tmp_path / "photo.jpg", 120, 80)
    logo.write_bytes(HALF_LOGO_SVG)
    auth = ("--server", served.base, "--api-key", served.key)
    ingested = picsha("ingest", str(logo), str(photo), "--json", *auth)
    ids = {Path(o["path"]).name: o["id"] for o in json.loads(ingested.stdout)}
    # As an asset ingested before transparent proxies existed would be:
    store = LocalStore(served.data / "objects")
    old = load_manifest(store, ids["logo.svg"])
    del old.derivatives["proxy_alpha"]
    save_manifest(store, old)

    result = picsha("reprocess", "--kind", "vector", "--json", *auth)
    assert result.returncode == 0, result.stderr
    outcomes = {o["id"]: o for o in json.loads(result.stdout)}
    assert outcomes[ids["logo.svg"]]["status"] == "ready"
    assert outcomes[ids["logo.svg"]]["path"] == "logo.svg"  # named by its file
    assert ids["photo.jpg"] not in outcomes  # not a vector
    again = load_manifest(store, ids["logo.svg"])
    assert "proxy_alpha" in again.derivatives and again.attempts == old.attempts + 1

    by_id = picsha("reprocess", ids["photo.jpg"], *auth)
    assert by_id.returncode == 0 and "1/1" in by_id.stderr and "ready" in by_id.stdout


def test_status_table_names_the_camera_once():
    from rich.console import Console

    from picsha.cli import _manifest_table

    def camera_row(camera: dict) -> list[str]:
        console = Console(width=120, record=True)
        console.print(_manifest_table({"status": "ready", "metadata": {"camera": camera}}))
        return [line for line in console.export_text().splitlines() if "camera" in line]

    named = {"make": "Canon", "model": "Canon EOS 6D", "name": "Canon EOS 6D"}
    assert "Canon EOS 6D" in camera_row(named)[0] and "Canon Canon" not in camera_row(named)[0]
    assert "NIKON D70" in camera_row({"make": "NIKON", "model": "D70"})[0]  # older manifest
