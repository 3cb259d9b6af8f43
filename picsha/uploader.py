"""`picsha ingest`: the files to upload, and an upload job for each (picsha.batch runs them)."""

from collections.abc import Iterable
from pathlib import Path

from picsha.batch import Job
from picsha.client import CliError, Exit, PicshaClient


def collect(paths: Iterable[Path], recursive: bool) -> list[Path]:
    """Files to upload, in a stable order; a missing path or a folder without -r is an error."""
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise CliError(Exit.USAGE, f"no such file or folder: {path}")
        if path.is_dir():
            if not recursive:
                raise CliError(Exit.USAGE, f"{path} is a folder; pass --recursive to ingest it")
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file() and not _hidden(p))
        elif path.is_file():
            files.append(path)
        else:
            raise CliError(Exit.USAGE, f"not a regular file: {path}")
    if not files:
        raise CliError(Exit.USAGE, "no files to ingest")
    return files


def _hidden(path: Path) -> bool:
    return any(part.startswith(".") for part in path.parts if part not in (".", ".."))


def presigned_above(health: dict, forced: bool = False) -> int | None:
    """Files larger than this many bytes go through a presigned upload; None: none do.

    `--presigned` sends every file that way. Otherwise the server's /healthz says whether it
    takes presigned uploads and how large a request body may be —
    `"upload": {"presigned": true, "max_body_bytes": 4000000}` — and a server that says
    nothing gets every file by POST /v1/assets.
    """
    if forced:
        return 0
    upload = health.get("upload")
    if not isinstance(upload, dict) or upload.get("presigned") is not True:
        return None
    limit = upload.get("max_body_bytes")
    return limit if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0 else 0


def jobs(
    client: PicshaClient, files: list[Path], pre_render_sizes: bool, presigned_from: int | None
) -> list[Job]:
    def upload(path: Path) -> Job:
        presigned = presigned_from is not None and path.stat().st_size > presigned_from
        return Job(str(path), lambda: client.upload(path, pre_render_sizes, presigned)["id"])

    return [upload(path) for path in files]
