"""Every image installs its system packages from system-packages.txt (through
scripts/system-packages.sh) and the Python package from pyproject.toml — nothing else."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.conftest import REPO

DOCKERFILES = {
    "delivery": REPO / "docker" / "delivery" / "Dockerfile",
    "worker": REPO / "docker" / "worker" / "Dockerfile",
    "libreoffice": REPO / "docker" / "libreoffice" / "Dockerfile",
}
# What each image's final stage must install from the list.
RUNTIME_GROUPS = {
    "delivery": {"runtime"},
    "worker": {"runtime", "documents"},
    "libreoffice": {"runtime", "documents"},
}
LIST_GROUPS = re.compile(r"\$\(scripts/system-packages\.sh ([a-z ]+)\)")


def _instructions(path: Path) -> list[str]:
    """Dockerfile instructions with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        current = f"{current} {line.rstrip(chr(92)).strip()}".strip()
        if not line.endswith("\\"):
            lines.append(current)
            current = ""
    return lines


def _stages(path: Path) -> list[list[str]]:
    stages: list[list[str]] = []
    for instruction in _instructions(path):
        if instruction.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _groups_in_list() -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in (REPO / "system-packages.txt").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 2 and not fields[0].startswith("#"):
            counts[fields[1]] = counts.get(fields[1], 0) + 1
    return counts


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_every_stage_installs_system_packages_only_from_the_list(name: str) -> None:
    for stage in _stages(DOCKERFILES[name]):
        text = "\n".join(stage)
        assert "COPY system-packages.txt" in text
        assert "COPY scripts/system-packages.sh" in text
        installs = [i for i in stage if "apt-get install" in i]
        assert installs, "each stage installs its packages from the list"
        for instruction in installs:
            command = instruction.split("apt-get install", 1)[1].split("&&", 1)[0]
            words = [w for w in command.split() if not w.startswith("-")]
            # Nothing but the list's output: no package named in the Dockerfile itself.
            assert LIST_GROUPS.search(command), instruction
            assert words and words[0].startswith("$(scripts/system-packages.sh"), instruction
            assert words[-1].endswith(")"), instruction


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_final_stage_has_the_runtime_groups(name: str) -> None:
    final = "\n".join(_stages(DOCKERFILES[name])[-1])
    groups = {g for match in LIST_GROUPS.findall(final) for g in match.split()}
    assert groups == RUNTIME_GROUPS[name]


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_python_package_is_built_from_pyproject(name: str) -> None:
    stages = _stages(DOCKERFILES[name])
    build = "\n".join(stages[0])
    assert re.search(r"^COPY \. \.$", build, re.M), "the build context holds pyproject.toml"
    assert re.search(r"pip wheel .*--wheel-dir /wheels \.(\s|$)", build), "wheel from ."
    final = "\n".join(stages[-1])
    assert re.search(r"pip install .*--no-index --find-links /wheels picsha\b", final)
    assert stages[-1][0].startswith("FROM ${PYTHON_IMAGE}")
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in DOCKERFILES[name].read_text()


def test_groups_the_images_use_exist_in_the_list() -> None:
    counts = _groups_in_list()
    used = {
        g
        for path in DOCKERFILES.values()
        for match in LIST_GROUPS.findall(path.read_text())
        for g in match.split()
    }
    assert {"python", "runtime"} <= used
    missing = sorted(g for g in used if not counts.get(g))
    if missing == ["documents"]:
        pytest.skip("group 'documents' (LibreOffice) is not in system-packages.txt yet")
    assert not missing


def test_lambda_image_runs_the_runtime_interface_client() -> None:
    text = DOCKERFILES["delivery"].read_text()
    assert 'ENTRYPOINT ["env-from-secrets", "python", "-m", "awslambdaric"]' in text
    assert 'CMD ["delivery.handler.handler"]' in text


def test_worker_image_runs_celery_on_both_queues() -> None:
    text = DOCKERFILES["worker"].read_text()
    assert (
        'CMD ["celery", "-A", "ingest_worker.queue.celery_app", "--quiet", "worker", '
        '"--loglevel=INFO", "-Q", "ingest,analysis"]' in text  # --quiet: no banner, JSON logs
    )


def test_build_context_admits_only_what_the_images_copy() -> None:
    rules = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", "allow-list: everything excluded first"
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    for needed in ("pyproject.toml", "system-packages.txt", "scripts/system-packages.sh", "docker"):
        assert needed in allowed
    for package in ("shared", "delivery", "ingest_worker", "picsha"):
        assert package in allowed
    assert not allowed & {".venv", ".git", "tests", "infra", "fixtures", "bench"}


# The infra extra installs hadolint beside the venv's python, which may not be on PATH.
_VENV_HADOLINT = Path(sys.executable).parent / "hadolint"
HADOLINT = shutil.which("hadolint") or (str(_VENV_HADOLINT) if _VENV_HADOLINT.exists() else None)


@pytest.mark.skipif(HADOLINT is None, reason="hadolint not installed (infra extra)")
def test_hadolint_passes() -> None:
    result = subprocess.run(
        [HADOLINT, *map(str, DOCKERFILES.values())], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_delivery_image_carries_the_bundled_libvips() -> None:
    """Delivery renders on libvips 8.18 from the bundle; the worker needs Debian's loaders."""
    final = {name: "\n".join(_stages(path)[-1]) for name, path in DOCKERFILES.items()}
    assert re.search(r"^RUN .*scripts/libvips-bundle\.sh python$", final["delivery"], re.M)
    assert "libvips-bundle" not in final["worker"]
