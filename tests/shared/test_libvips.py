"""shared/libvips.py: delivery processes load the bundled libvips, others the system one.

Each case runs in a fresh interpreter: a process can load only one libvips, and this test
process already has the system one.
"""

import json
import os
import subprocess
import sys

import pytest

from shared.libvips import bundle_dir

BUNDLE_ENV = "PICSHA_LIBVIPS_BUNDLE"  # Settings.libvips_bundle

PROBE = """
import json, sys
from shared.libvips import use_bundled, describe
chose = use_bundled()
import pyvips
from shared import imaging
webp = imaging.encode(pyvips.Image.black(64, 48).copy(interpretation="srgb"), "webp")
print(json.dumps({"chose": chose, "describe": describe(), "minor": pyvips.version(1),
                  "heif": bool(pyvips.type_find("VipsOperation", "heifsave")),
                  "magick": bool(pyvips.type_find("VipsOperation", "magickload")),
                  "webp_exif": b"EXIF" in webp}))
"""

needs_bundle = pytest.mark.skipif(
    bundle_dir() is None, reason="bundle not installed (scripts/libvips-bundle.sh)"
)


def _probe(code: str = PROBE, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k != BUNDLE_ENV} | env
    out = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@needs_bundle
def test_delivery_process_runs_on_the_bundled_libvips():
    got = _probe()
    assert got["chose"] is True
    assert got["minor"] >= 15 and "(bundled)" in got["describe"]
    assert got["heif"]  # AVIF output
    assert not got["webp_exif"]  # keep=none: no EXIF chunk in WebP answers


def test_switched_off_stays_on_the_system_libvips():
    got = _probe(**{BUNDLE_ENV: "0"})
    assert got["chose"] is False and "(system)" in got["describe"]
    assert got["magick"]  # the system build keeps the loaders ingest needs


@needs_bundle
def test_a_late_call_cannot_switch_a_loaded_libvips():
    late = "import pyvips\n" + PROBE
    got = _probe(late)
    assert got["chose"] is False and "(system)" in got["describe"]


def test_a_process_that_never_asks_runs_on_the_system_libvips():
    got = _probe(PROBE.replace("chose = use_bundled()", "chose = None"))
    assert got["chose"] is None and "(system)" in got["describe"] and got["magick"]
