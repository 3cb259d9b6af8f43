"""Browser tests: pytest-playwright driving Debian's Chromium against a real `picsha serve`.

Never a downloaded browser (`playwright install` is not run): the system package
`chromium` (system-packages.txt, group test) is launched by path.
"""

import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("chromium is not installed (system-packages.txt, group test)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def artefacts(tmp_path: Path) -> Path:
    """Where a test's screenshots go (kept with pytest's tmp dirs after the run)."""
    folder = tmp_path / "artefacts"
    folder.mkdir()
    return folder


@pytest.fixture
def browser_context_args(browser_context_args: dict) -> dict:
    # Playwright's polling predicates run as page script, which the console's strict CSP
    # forbids; bypassing it in tests also means the XSS test proves the escaping alone
    # (the CSP header itself is asserted in tests/picsha/test_console_http.py).
    # A fixed locale and zone: dates and sizes read the same on every machine.
    return {**browser_context_args, "bypass_csp": True, "locale": "en-US", "timezone_id": "UTC"}
