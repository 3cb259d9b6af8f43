"""Ghostscript: the first page of an EPS/PS file to an RGBA PNG, with -dSAFER (no file,
device or pipe operators) and a private TMPDIR, under the process-group bound."""

import os
from pathlib import Path

from shared import process


class ConversionFailed(Exception):
    pass


class ForbiddenOperation(Exception):
    """The PostScript tried to read or write files; -dSAFER refused it."""


def to_png(source: Path, out: Path, dpi: float, workdir: Path, timeout: float) -> Path:
    """Raises process.ConverterTimeout, ForbiddenOperation or ConversionFailed."""
    args = [
        "gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dNOPROMPT", "-dEPSCrop",
        "-dFirstPage=1", "-dLastPage=1", "-dTextAlphaBits=4", "-dGraphicsAlphaBits=4",
        "-sDEVICE=pngalpha", f"-r{dpi:.2f}", f"-sOutputFile={out}", "--", str(source),
    ]  # fmt: skip
    # -dSAFER still lets PostScript write anywhere under TMPDIR (/tmp by default): give
    # Ghostscript a private one, so the only writable places are its own two files.
    private_tmp = workdir / "gs-tmp"
    private_tmp.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": str(private_tmp)}
    result = process.run(args, timeout, cwd=private_tmp, env=env)
    text = (result.stdout + result.stderr).strip()
    if "invalidfileaccess" in text or "undefinedfilename" in text:
        raise ForbiddenOperation(
            "the PostScript tried to read or write files, which is refused (Ghostscript -dSAFER)"
        )
    if result.returncode != 0 or not out.exists():
        last = text.splitlines()[-1] if text else f"exit status {result.returncode}"
        raise ConversionFailed(f"Ghostscript: {last}")
    return out
