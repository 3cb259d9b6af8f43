"""Worker metrics and log context through Celery signals, so tasks carry no such code.

Imported once by ingest_worker/queue/celery_app.py. Per task: the request id from the message
headers (set by the API) and the asset id go into the log context; wall time, the asset's
kind, final status and error code (read back from its manifest) go into the metrics.
"""

import logging
import os
import time

from celery import signals

from ingest_worker import runtime
from shared import memory, metrics
from shared.logging import (
    TASK_HEADER,
    asset_id_var,
    capture_native_output,
    configure_logging,
    request_id_var,
    stage_var,
)
from shared.manifest import load_manifest
from shared.settings import get_settings

log = logging.getLogger("picsha.worker")

# task id -> (start time, context tokens); a prefork child runs one task at a time.
_running: dict[str, tuple[float, list]] = {}


@signals.setup_logging.connect
def _setup_logging(**_: object) -> None:
    # Connecting here also stops Celery from installing its own plain-text handlers.
    configure_logging(get_settings().log_level.upper())


@signals.celeryd_init.connect
def _capture_output(**_: object) -> None:
    """The worker logs JSON from its start: before Celery's own checks warn (running as root),
    and for what C libraries and print() write, in this process and the pool it forks."""
    _setup_logging()
    capture_native_output()


@signals.worker_ready.connect
def _serve_metrics(**_: object) -> None:
    """A worker on its own (Fargate) serves /metrics when PICSHA_WORKER_METRICS_PORT is set.

    With prefork children, also set PROMETHEUS_MULTIPROC_DIR so their samples add up here.
    """
    port = get_settings().worker_metrics_port
    if port:
        metrics.serve_http(port)
        log.info("worker metrics on :%s/metrics", port)


@signals.worker_process_init.connect
def _process_up(**_: object) -> None:
    metrics.WORKER_PROCESSES.inc()


@signals.worker_process_shutdown.connect
def _process_down(pid: int | None = None, **_: object) -> None:
    metrics.mark_process_dead(pid or os.getpid())


@signals.before_task_publish.connect
def _propagate_request_id(headers: dict | None = None, **_: object) -> None:
    """Any task sent while a request or a task is in flight carries its request id."""
    request_id = request_id_var.get()
    if headers is not None and request_id and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


@signals.task_prerun.connect
def _task_start(task_id: str, task, args=None, **_: object) -> None:
    request_id = getattr(task.request, TASK_HEADER, None) or (task.request.headers or {}).get(
        TASK_HEADER
    )
    asset_id = args[0] if args else None
    tokens = [
        (request_id_var, request_id_var.set(request_id)),
        (asset_id_var, asset_id_var.set(asset_id)),
        (stage_var, stage_var.set(_stage(task.name))),
    ]
    _running[task_id] = (time.perf_counter(), tokens)
    metrics.WORKER_BUSY.inc()
    log.info("task started", extra={"task": task.name, "task_id": task_id})


@signals.task_postrun.connect
def _task_end(task_id: str, task, args=None, state: str | None = None, **_: object) -> None:
    started, tokens = _running.pop(task_id, (None, []))
    metrics.WORKER_BUSY.dec()
    seconds = time.perf_counter() - started if started is not None else None
    kind, status, error = _outcome(args[0] if args else None)
    if seconds is not None:
        metrics.INGEST_TASK_SECONDS.labels(_stage(task.name), kind, status).observe(seconds)
        metrics.INGEST_STAGE_SECONDS.labels(_stage(task.name), kind).observe(seconds)
    if error and status == "failed":
        metrics.INGEST_FAILURES.labels(error.get("stage", "?"), error.get("code", "?")).inc()
    extra = {"task_id": task_id, "status": status, "kind": kind, "celery_state": state}
    if seconds is not None:
        extra["ms"] = round(seconds * 1000, 1)
    if error:
        extra.update(error_stage=error.get("stage"), error_code=error.get("code"))
    log.info("task finished", extra=extra)
    for var, token in reversed(tokens):
        var.reset(token)
    memory.trim()  # a task decodes whole images: give the freed pages back between tasks


@signals.task_retry.connect
def _task_retry(**_: object) -> None:
    metrics.INGEST_RETRIES.inc()


def _stage(task_name: str) -> str:
    """`ingest_worker.tasks.analyze_asset` -> `analyze`: one task per pipeline step."""
    return task_name.rsplit(".", 1)[-1].removesuffix("_asset")


def _outcome(asset_id: str | None) -> tuple[str, str, dict | None]:
    """(kind, status, error) from the manifest the pipeline just wrote."""
    if not asset_id:
        return "unknown", "unknown", None
    try:
        manifest = load_manifest(runtime.store(), asset_id)
    except Exception:  # metrics must never fail a task
        log.warning("could not read the manifest for metrics", exc_info=True)
        return "unknown", "unknown", None
    if manifest is None:
        return "unknown", "deleted", None
    error = manifest.error.model_dump() if manifest.error else None
    return manifest.kind or "unknown", manifest.status, error
