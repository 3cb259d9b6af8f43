"""Prometheus metrics: every metric Picsha exports is defined here, in one place.

`picsha serve` runs the API and a Celery worker (with prefork children) as separate
processes; it sets PROMETHEUS_MULTIPROC_DIR before anything imports prometheus_client, so
each process writes its samples to files there and `/metrics` aggregates them. Without the
variable (tests, the delivery Lambda) the process-local default registry is used.
"""

import ctypes
import ctypes.util
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter(
    "picsha_http_requests",
    "HTTP requests by route template, method and status",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "picsha_http_request_seconds", "HTTP request latency by route template", ["route"]
)
HTTP_BYTES_OUT = Counter(
    "picsha_http_response_bytes", "Response body bytes sent, by route template", ["route"]
)
RENDER_SECONDS = Histogram(
    "picsha_render_seconds",
    "Render latency (fetch + transform + encode) by operation and output format",
    ["operation", "format"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RENDER_CACHE = Counter(
    "picsha_render_cache",
    "Render answers by cache outcome: not_modified (ETag 304), result (stored result), miss",
    ["result"],
)
INGEST_TASK_SECONDS = Histogram(
    "picsha_ingest_task_seconds",
    "Ingest task wall time by task (ingest, analyze, ...), asset kind and asset status",
    ["task", "kind", "status"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
INGEST_STAGE_SECONDS = Histogram(
    "picsha_ingest_stage_seconds",
    "Ingest stage duration by stage and asset kind (a stage is one Celery task)",
    ["stage", "kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
INGEST_FAILURES = Counter(
    "picsha_ingest_failures", "Assets that ended failed, by stage and error code", ["stage", "code"]
)
INGEST_RETRIES = Counter("picsha_ingest_retries", "Ingest tasks retried after a transient error")
# livesum: a dead process's share disappears, so these describe the workers alive now.
WORKER_BUSY = Gauge(
    "picsha_worker_busy", "Worker processes running a task now", multiprocess_mode="livesum"
)
WORKER_PROCESSES = Gauge(
    "picsha_worker_processes",
    "Worker processes alive (busy ratio = picsha_worker_busy / picsha_worker_processes)",
    multiprocess_mode="livesum",
)


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def mark_process_dead(pid: int) -> None:
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


class _ScrapeTimeGauges(Collector):
    """Values read when scraped (queue depth, libvips memory), not recorded as they change."""

    def __init__(self, probes: Iterable[tuple[str, str, Callable[[], float | None]]]):
        self._probes = list(probes)

    def collect(self):
        for name, doc, probe in self._probes:
            try:
                value = probe()
            except Exception:  # a probe must never break the scrape
                value = None
            if value is not None:
                yield GaugeMetricFamily(name, doc, value=value)


@lru_cache
def _libvips() -> ctypes.CDLL:
    # pyvips' cffi binding does not declare vips_tracked_get_mem; the same loaded library
    # answers through ctypes.
    import pyvips  # noqa: F401 - makes sure libvips is loaded and initialised

    lib = ctypes.CDLL(ctypes.util.find_library("vips") or "libvips.so.42")
    lib.vips_tracked_get_mem.restype = ctypes.c_size_t
    return lib


def libvips_memory() -> float:
    """Bytes libvips holds in pixel buffers in this process."""
    return float(_libvips().vips_tracked_get_mem())


def exposition(extra_probes: Iterable[tuple[str, str, Callable[[], float | None]]] = ()):
    """(body, content type) of the Prometheus text for this process (or all of them)."""
    base = _recorded()
    probes = [
        (
            "picsha_libvips_memory_bytes",
            "libvips tracked memory in the API process",
            libvips_memory,
        ),
        (
            "picsha_worker_busy_ratio",
            "Share of worker processes running a task now",
            lambda: _busy_ratio(base),
        ),
        *extra_probes,
    ]
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(_ScrapeTimeGauges(probes))
    return generate_latest(_MergedRegistry(base, scraped)), CONTENT_TYPE_LATEST


def _recorded() -> CollectorRegistry:
    """What processes recorded: every process's files in multiprocess mode, else this one."""
    if not multiprocess_dir():
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def _busy_ratio(registry: CollectorRegistry) -> float | None:
    processes = registry.get_sample_value("picsha_worker_processes")
    busy = registry.get_sample_value("picsha_worker_busy")
    return busy / processes if processes and busy is not None else None


def serve_http(port: int, addr: str = "0.0.0.0") -> None:
    """Serve this process's (or, in multiprocess mode, every process's) metrics on a port."""
    from prometheus_client import start_http_server

    start_http_server(port, addr, registry=_recorded())


class _MergedRegistry(CollectorRegistry):
    """Recorded metrics plus per-scrape collectors, without adding to the recorded ones."""

    def __init__(self, base: CollectorRegistry, extra: CollectorRegistry):
        super().__init__(auto_describe=False)
        self._base, self._extra = base, extra

    def collect(self):
        yield from self._base.collect()
        yield from self._extra.collect()


@contextmanager
def observe_stage(stage: str, kind: str | None = None) -> Iterator[None]:
    """Time one pipeline stage into picsha_ingest_stage_seconds and tag its log lines.

    For the pipeline to wrap its steps in (`with observe_stage("metadata", kind): ...`);
    Celery signals alone see whole tasks, not the stages inside one.
    """
    from shared.logging import log_context

    started = time.perf_counter()
    with log_context(stage=stage):
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            INGEST_STAGE_SECONDS.labels(stage, kind or "unknown").observe(seconds)
