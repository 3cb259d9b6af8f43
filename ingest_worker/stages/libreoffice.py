"""Headless LibreOffice: one document to PDF, isolated and bounded.

Each conversion gets a fresh user profile (two soffice processes must never share one, and
a profile a hostile document touched is not reused), hardened before start: macros never
run, linked images and other external references are not fetched. The process tree is
killed when the wall-clock bound runs out (external.run).
"""

import os
import shutil
from pathlib import Path

from ingest_worker.stages import external

SOFFICE = os.environ.get("PICSHA_SOFFICE", "soffice")

# Written into the new profile before soffice starts (registrymodifications.xcu).
_SETTINGS = [
    ("Security/Scripting", "MacroSecurityLevel", "3"),  # "very high": no macro runs
    ("Security/Scripting", "DisableMacrosExecution", "true"),
    ("Security/Scripting", "BlockUntrustedRefererLinks", "true"),  # no linked-image fetches
    ("Misc", "UseOpenCL", "false"),
    ("Misc", "FirstRun", "false"),
]
_HARDENING = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
    'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    + "".join(
        f'<item oor:path="/org.openoffice.Office.Common/{group}"><prop oor:name="{name}" '
        f'oor:op="fuse"><value>{value}</value></prop></item>\n'
        for group, name, value in _SETTINGS
    )
    + "</oor:items>\n"
)


class ConversionFailed(Exception):
    pass


def to_pdf(source: Path, workdir: Path, timeout: float, infilter: str | None = None) -> Path:
    """Convert `source` to PDF in workdir; its suffix (or `infilter`) picks the import."""
    profile = workdir / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_HARDENING)
    outdir = workdir / "lo-out"
    outdir.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),  # nothing of the worker's home is read or written
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "SAL_USE_VCLPLUGIN": "svp",  # headless rendering, no display
    }
    args = [
        SOFFICE,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--invisible",
        "--norestore",
        "--nolockcheck",
        "--nodefault",
        "--nologo",
        *([f"--infilter={infilter}"] if infilter else []),
        "--convert-to",
        "pdf",
        "--outdir",
        str(outdir),
        str(source),
    ]
    try:
        result = external.run(args, timeout, cwd=workdir, env=env)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    pdf = outdir / f"{source.stem}.pdf"
    if not pdf.exists() or pdf.stat().st_size == 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit status {result.returncode}"
        raise ConversionFailed(f"LibreOffice could not convert the document: {reason}")
    return pdf
