"""The CloudFront Function, run in Node: equivalent render URLs get one cache key."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from tests.infra.conftest import CDK_DIR

SOURCE = CDK_DIR / "picsha_infra" / "functions" / "normalise_query.js"

# Evaluates the function source as CloudFront does (a script defining `handler`), then
# runs it on each event read from stdin and prints the results.
HARNESS = """
const fs = require('fs');
const handler = new Function(fs.readFileSync(process.argv[1], 'utf8') + '\\nreturn handler;')();
const events = JSON.parse(fs.readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(events.map((e) => handler(e))));
"""


def _qs(**values: Any) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        if isinstance(value, list):
            out[name] = {"value": value[0], "multiValue": [{"value": v} for v in value]}
        else:
            out[name] = {"value": value}
    return out


def _event(querystring: dict[str, Any], accept: str | None = None) -> dict[str, Any]:
    headers = {"accept": {"value": accept}} if accept is not None else {}
    return {
        "version": "1.0",
        "request": {
            "method": "GET",
            "uri": "/render/abc",
            "querystring": querystring,
            "headers": headers,
        },
    }


@pytest.fixture(scope="module")
def run() -> Any:
    if not shutil.which("node"):
        pytest.skip("needs Node.js (system-packages.txt, group infra)")

    def run_events(*events: dict[str, Any]) -> list[dict[str, Any]]:
        result = subprocess.run(
            ["node", "-e", HARNESS, str(SOURCE)],
            input=json.dumps(list(events)),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return json.loads(result.stdout)

    return run_events


def _key(request: dict[str, Any]) -> list[tuple[str, Any]]:
    """What the cache key sees: the query in order, with each value list."""
    return [
        (
            name,
            [v["value"] for v in entry["multiValue"]] if "multiValue" in entry else entry["value"],
        )
        for name, entry in request["querystring"].items()
    ]


def test_names_sorted_lower_cased_and_empty_values_dropped(run: Any) -> None:
    a, b = run(
        _event(_qs(WD="500", ht="300", crop="true", blur="")),
        _event(_qs(crop="true", ht="300", wd="500")),
    )
    assert _key(a) == _key(b) == [("crop", "true"), ("ht", "300"), ("wd", "500")]


def test_repeated_names_keep_every_value(run: Any) -> None:
    (out,) = run(_event(_qs(wm=["a", "b"], Q="80")))
    assert _key(out) == [("q", "80"), ("wm", ["a", "b"])]


def test_accept_only_matters_for_fm_auto(run: Any) -> None:
    chrome = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"
    safari = "image/webp,image/png,image/*;q=0.8"
    old = "image/png,image/*;q=0.8,*/*;q=0.5"
    results = run(
        _event(_qs(fm="auto", wd="100"), chrome),
        _event(_qs(fm="auto", wd="100"), safari),
        _event(_qs(fm="auto", wd="100"), old),
        _event(_qs(fm="auto", wd="100"), "image/avif;q=0, image/webp"),
        _event(_qs(fm="auto", wd="100")),
        _event(_qs(fm="webp", wd="100"), chrome),
        _event(_qs(wd="100"), safari),
    )
    accepts = [r["headers"]["accept"]["value"] for r in results]
    assert accepts == [
        "image/avif,image/webp",
        "image/webp",
        "*/*",
        "image/webp",
        "*/*",
        "*/*",
        "*/*",
    ]


def test_an_empty_query_stays_empty(run: Any) -> None:
    (out,) = run(_event({}))
    assert out["querystring"] == {}
