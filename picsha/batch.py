"""Start jobs N at a time (an upload, a reprocess), each giving an asset id, and follow each
asset until it settles: what `picsha ingest` and `picsha reprocess` share."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from picsha.client import CliError, PicshaClient


@dataclass
class Outcome:
    path: str  # the file uploaded, or the asset's file name
    id: str | None
    status: str  # ready | failed | queued (with --no-wait) | error (never reached the server)
    code: str | None = None
    message: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Job:
    name: str
    start: Callable[[], str]  # asks the server, returns the asset id


def settle(
    client: PicshaClient,
    jobs: list[Job],
    concurrency: int,
    wait: bool,
    on_done: Callable[[Outcome], None],
) -> list[Outcome]:
    def one(job: Job) -> Outcome:
        started = time.monotonic()
        try:
            asset_id = job.start()
            manifest = client.wait(asset_id) if wait else {"status": "queued"}
        except CliError as exc:
            if exc.fatal:
                raise
            code, _, message = exc.message.partition(": ")
            outcome = Outcome(job.name, None, "error", code, message or exc.message)
        else:
            error = manifest.get("error") or {}
            outcome = Outcome(
                job.name, asset_id, manifest["status"], error.get("code"), error.get("message")
            )
        outcome.seconds = round(time.monotonic() - started, 3)
        on_done(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(one, jobs))
