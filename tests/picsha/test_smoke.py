"""`picsha doctor --server`: the post-deploy smoke test, against a real `picsha serve`."""

import json

import pytest

from tests.picsha.conftest import NO_ANALYSIS, start_server, stop_server
from tests.picsha.test_cli import picsha

pytestmark = pytest.mark.slow

SIGNING_KEY = "smoke-signing-key"
STEPS = ["server", "api key", "upload", "ingest", "render", "original", "delete"]


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory):
    """What a deployed stack is by default: render URLs must be signed."""
    env = {**NO_ANALYSIS, "PICSHA_SIGNING_KEY": SIGNING_KEY}
    server = start_server(tmp_path_factory.mktemp("smoke"), env)
    try:
        yield server
    finally:
        stop_server(server.proc)


def doctor(served, *args: str):
    result = picsha("doctor", "--server", served.base, "--json", *args)
    report = json.loads(result.stdout)
    return result.returncode, {c["name"]: c for c in report["checks"]}


def assets(served) -> list[dict]:
    return served.client().get("/v1/assets").json()["items"]


def test_every_step_passes_and_the_test_asset_is_gone(signed_server):
    code, checks = doctor(signed_server, "--api-key", signed_server.key,
                          "--signing-key", SIGNING_KEY)  # fmt: skip
    assert list(checks) == STEPS
    assert all(c["status"] == "ok" for c in checks.values()), checks
    assert code == 0
    assert "48 x 32 webp" in checks["render"]["detail"]
    assert assets(signed_server) == []


def test_unsigned_render_fails_with_the_fix_and_still_cleans_up(signed_server):
    code, checks = doctor(signed_server, "--api-key", signed_server.key)
    assert code == 1
    render = checks["render"]
    assert render["status"] == "fail" and "signature_required" in render["detail"]
    assert "--signing-key" in render["fix"]
    original = checks["original"]  # it runs though the render failed, and fails alike
    assert original["status"] == "fail" and "signature_required" in original["detail"]
    assert checks["delete"]["status"] == "ok"
    assert assets(signed_server) == []


def test_a_refused_key_skips_the_rest_and_uploads_nothing(signed_server):
    code, checks = doctor(signed_server, "--api-key", "not-the-key")
    assert code == 1
    assert checks["server"]["status"] == "ok"
    assert checks["api key"]["status"] == "fail" and "refused" in checks["api key"]["detail"]
    assert [checks[s]["status"] for s in STEPS[2:]] == ["skip"] * 5
    assert assets(signed_server) == []


def test_the_table_says_pass(signed_server):
    result = picsha("doctor", "--server", signed_server.base, "--api-key", signed_server.key,
                    env={"PICSHA_SIGNING_KEY": SIGNING_KEY})  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ ")]
    assert [row.split("│")[1].strip() for row in rows if row.split("│")[1].strip()] == STEPS
    assert all(row.split("│")[2].strip() in ("ok", "") for row in rows)
    assert result.stdout.strip().endswith("PASS")
