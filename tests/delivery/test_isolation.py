"""Delivery's tests stand on `delivery` and `shared` alone, as delivery itself does: importing
every module under tests/delivery (conftests included) must not import `ingest_worker`."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def test_delivery_tests_never_import_the_ingest_worker():
    modules = sorted(
        ".".join(path.relative_to(REPO).with_suffix("").parts)
        for path in HERE.rglob("*.py")
        if path.name != "__init__.py"
    )
    assert "tests.delivery.conftest" in modules and "tests.delivery.test_app" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] == 'ingest_worker')\n"
        "assert not leaked, leaked\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
