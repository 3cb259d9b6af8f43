"""`./dev`: installs print a line per step, the tools' output goes to a log, and a failing
step shows that log's end. apt and pip are stood in for (no packages are missing from the
empty list, and `.venv/bin/python` is a script); what is tested is `./dev` itself."""

import shutil
import subprocess
from pathlib import Path

from tests.helpers import REPO

FAKE_PYTHON = """#!/usr/bin/env bash
case "$*" in
  *"install -e"*)
    for i in $(seq 1 500); do echo "Collecting chatter-$i"; done
    if [ -n "${FAIL_PIP:-}" ]; then echo "ERROR: no distribution for imaginary" >&2; exit 3; fi
    ;;
  -c*) echo "$PWD/.venv" ;;
  *--target*) mkdir -p "$PWD/.venv/libvips-bundle"; echo "Installing pyvips-binary" ;;
  *) for i in $(seq 1 200); do echo "Requirement already satisfied: pip-$i"; done ;;
esac
"""


def checkout(tmp_path: Path) -> Path:
    """`./dev` and its scripts in a folder of their own, with an empty package list."""
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "dev", root / "dev")
    for script in ("system-packages.sh", "libvips-bundle.sh"):
        shutil.copy(REPO / "scripts" / script, root / "scripts" / script)
    (root / "system-packages.txt").write_text("# package  group  why\n")
    python = root / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return root


def dev(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(root / "dev"), *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
        check=False,
    )


def test_setup_prints_a_line_per_step_and_logs_the_rest(tmp_path):
    root = checkout(tmp_path)
    result = dev(root, "setup")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "==> system packages: all 0 installed"
    assert lines[1].startswith("==> pip install -e '.[ai,test,infra]' into .venv … ok (")
    assert lines[2].startswith("==> libvips bundle for delivery … ok (")
    assert lines[-1] == "installed; full log: .dev-logs/install.log"
    assert len(lines) == 4 and result.stderr == ""
    log = (root / ".dev-logs" / "install.log").read_text()
    assert "Collecting chatter-500" in log and "Requirement already satisfied: pip-1" in log


def test_a_failing_step_says_so_with_the_end_of_the_log_and_its_exit_code(tmp_path):
    root = checkout(tmp_path)
    result = dev(root, "setup", FAIL_PIP="1")
    assert result.returncode == 3
    assert result.stdout.splitlines()[-1].endswith("into .venv … FAILED (exit 3)")
    assert "ERROR: no distribution for imaginary" in result.stderr
    assert "Collecting chatter-500" in result.stderr  # the log's end ...
    assert "Collecting chatter-1\n" not in result.stderr  # ... not all of it
    assert "full log: .dev-logs/install.log" in result.stderr
    assert "libvips bundle" not in result.stdout  # nothing runs after a failure
