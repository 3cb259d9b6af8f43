"""`picsha ingest`: find the files, upload them N at a time, follow each until it settles."""

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from picsha.client import CliError, Exit, PicshaClient


@dataclass
class Outcome:
    path: str
    id: str | None
    status: str  # ready | failed | queued (with --no-wait) | error (never reached the server)
    code: str | None = None
    message: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


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


def run(
    client: PicshaClient,
    files: list[Path],
    pre_render_sizes: bool,
    concurrency: int,
    wait: bool,
    on_done: Callable[[Outcome], None],
) -> list[Outcome]:
    def one(path: Path) -> Outcome:
        started = time.monotonic()
        try:
            asset_id = client.upload(path, pre_render_sizes)["id"]
            manifest = client.wait(asset_id) if wait else {"status": "queued"}
        except CliError as exc:
            if exc.fatal:
                raise
            code, _, message = exc.message.partition(": ")
            outcome = Outcome(str(path), None, "error", code, message or exc.message)
        else:
            error = manifest.get("error") or {}
            outcome = Outcome(
                str(path), asset_id, manifest["status"], error.get("code"), error.get("message")
            )
        outcome.seconds = round(time.monotonic() - started, 3)
        on_done(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(one, files))
