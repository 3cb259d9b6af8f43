"""Headless LibreOffice: one document to PDF, isolated and bounded.

Each conversion gets a fresh user profile (two soffice processes must never share one, and
a profile a hostile document touched is not reused), hardened before start: macros never
run, linked images and other external references are not fetched. The process tree is
killed when the wall-clock bound runs out (process.run). The converter container
(docker/libreoffice/convert_server.py) imports this module: one set of settings, one
argument list, one import-filter choice.
"""

import os
import shutil
from pathlib import Path

import httpx

from shared import process

# Written into each profile before soffice starts (registrymodifications.xcu).
_SETTINGS = [
    ("Security/Scripting", "MacroSecurityLevel", "3"),  # "very high": no macro runs
    ("Security/Scripting", "DisableMacrosExecution", "true"),
    ("Security/Scripting", "BlockUntrustedRefererLinks", "true"),  # no linked-image fetches
    ("Misc", "UseOpenCL", "false"),
    ("Misc", "FirstRun", "false"),
]
HARDENING = (
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


def _via_service(url: str, source: Path, workdir: Path, timeout: float) -> Path:
    try:
        response = httpx.post(
            f"{url.rstrip('/')}/convert",
            params={"to": "pdf"},
            content=source.read_bytes(),
            headers={"X-Filename": source.name},
            timeout=timeout + 15,  # the service's own bound fires first
        )
    except httpx.TimeoutException as exc:
        raise process.ConverterTimeout("converter service", timeout) from exc
    except httpx.TransportError as exc:
        # The converter container restarting is not the document's fault: retry the job.
        raise ConnectionError(f"converter service unreachable: {exc}") from exc
    if response.status_code == 200:
        pdf = workdir / f"{source.stem}.pdf"
        pdf.write_bytes(response.content)
        return pdf
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text[:200]
    if response.status_code == 504:
        raise process.ConverterTimeout("converter service", timeout)
    if response.status_code in (502, 503):
        raise ConnectionError(f"converter service busy: {message}")
    raise ConversionFailed(f"LibreOffice could not convert the document: {message}")


def write_profile(profile: Path) -> None:
    """A LibreOffice user profile with the hardening settings in place."""
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(HARDENING)


def infilter_for(source: Path) -> str | None:
    """HTML goes through Writer's own import, which paginates and honours the stylesheet
    (Writer/Web, the default for .html, prints a blank page); Markdown arrives as HTML."""
    return "HTML (StarWriter)" if source.suffix.lower() in (".html", ".htm") else None


def convert(source: Path, outdir: Path, profile: Path, timeout: float, soffice: str) -> Path:
    """`source` to `outdir/<stem>.pdf` with the (hardened) profile; its suffix picks the
    import. Raises process.ConverterTimeout or ConversionFailed."""
    workdir = outdir.parent
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),  # nothing of the caller's home is read or written
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "SAL_USE_VCLPLUGIN": "svp",  # headless rendering, no display
    }
    infilter = infilter_for(source)
    args = [
        soffice,
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
    outdir.mkdir(exist_ok=True)
    result = process.run(args, timeout, cwd=workdir, env=env)
    pdf = outdir / f"{source.stem}.pdf"
    if not pdf.exists() or pdf.stat().st_size == 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit status {result.returncode}"
        raise ConversionFailed(f"LibreOffice could not convert the document: {reason}")
    return pdf


def to_pdf(
    source: Path,
    workdir: Path,
    timeout: float,
    soffice: str = "soffice",
    service_url: str | None = None,
) -> Path:
    """Convert `source` to PDF in workdir, in a fresh profile removed afterwards.

    With a service URL (PICSHA_CONVERTER_URL: the deploy's converter container beside the
    worker, docker/libreoffice), the document goes there; it runs `convert` too.
    """
    if service_url:
        return _via_service(service_url, source, workdir, timeout)
    profile = workdir / "lo-profile"
    write_profile(profile)
    try:
        return convert(source, workdir / "lo-out", profile, timeout, soffice)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
