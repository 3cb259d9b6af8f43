"""Structured logs: one JSON object per line, carrying request id, asset id and stage.

The ids live in context variables, so any `logging` call made while a request or a task
is in flight carries them without being passed around. The API sets the request id from
(or mints it for) the `x-request-id` header; Celery signals set it in the worker from the
task's headers (see ingest_worker/queue/signals.py).
"""

import atexit
import json
import logging
import os
import re
import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

REQUEST_ID_HEADER = "x-request-id"
# Celery message header that carries the request id from the API to the task.
TASK_HEADER = "picsha_request_id"

request_id_var: ContextVar[str | None] = ContextVar("picsha_request_id", default=None)
asset_id_var: ContextVar[str | None] = ContextVar("picsha_asset_id", default=None)
stage_var: ContextVar[str | None] = ContextVar("picsha_stage", default=None)

# A caller-supplied id is echoed into logs and headers: keep it short and inert.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Attributes every LogRecord has; anything else was passed in `extra=` and is logged.
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def new_request_id() -> str:
    return secrets.token_hex(8)


def accept_request_id(value: str | None) -> str:
    """The caller's id when it is safe to echo, else a fresh one."""
    return value if value and _SAFE_ID.match(value) else new_request_id()


@contextmanager
def log_context(
    request_id: str | None = None, asset_id: str | None = None, stage: str | None = None
) -> Iterator[None]:
    """Set the ids for the duration of a block (only the ones given)."""
    tokens = [
        (var, var.set(value))
        for var, value in ((request_id_var, request_id), (asset_id_var, asset_id),
                           (stage_var, stage))
        if value is not None
    ]  # fmt: skip
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, var in (("request_id", request_id_var), ("asset_id", asset_id_var),
                         ("stage", stage_var)):  # fmt: skip
            value = var.get()
            if value is not None:
                event[key] = value
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                event[key] = value
        if record.exc_info:
            event["exc"] = self.formatException(record.exc_info)
        return json.dumps(event, default=str, ensure_ascii=False)


def configure_logging(level: int | str = logging.INFO, stream=None) -> None:
    """Route every logger through one JSON handler on stderr (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_picsha", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or _real_stderr or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._picsha = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings.warn() becomes a JSON line too (logger py.warnings)
    # uvicorn's own handlers would print a second, plain-text copy of each line.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


# The level a C/C++ library's own line announces: absl/glog "W0000 …", TF-Lite "INFO: …".
_NATIVE_LEVEL = re.compile(r"^(?:([IWEF])\d{4} |(INFO|WARNING|ERROR)\b)")
_NATIVE_LEVELS = {"I": logging.INFO, "W": logging.WARNING, "E": logging.ERROR,
                  "F": logging.CRITICAL, "INFO": logging.INFO, "WARNING": logging.WARNING,
                  "ERROR": logging.ERROR}  # fmt: skip
# The process's stderr once capture_native_output() has turned fd 2 into a pipe.
_real_stderr = None


def capture_native_output() -> None:
    """Re-emit whatever bypasses `logging` in this process and its forks as JSON lines.

    C/C++ libraries (LibRaw, TF-Lite and absl in mediapipe) write to fd 2 and some Python
    libraries print() to fd 1; they have no switch we can rely on. Both fds become pipes read
    by a thread that logs each line (loggers `stdout` / `stderr`); our JSON handler keeps the
    real stderr, so nothing is lost, only formatted. Call before the worker forks (children
    inherit the pipes, and configure_logging there keeps to the real stderr). Idempotent.
    """
    global _real_stderr
    if _real_stderr is not None:
        return
    real = _real_stderr = os.fdopen(os.dup(2), "w", buffering=1, errors="replace")
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_picsha", False):
            handler.setStream(real)  # type: ignore[attr-defined]
    relays = []
    for fd, name, level in ((1, "stdout", logging.INFO), (2, "stderr", logging.WARNING)):
        original = os.dup(fd)
        read_end, write_end = os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)
        relay = threading.Thread(
            target=_relay, args=(read_end, logging.getLogger(name), level),
            name=f"relay-{name}", daemon=True,
        )  # fmt: skip
        relay.start()
        relays.append((fd, original, relay))
    atexit.register(_drain, relays)


def _drain(relays: list[tuple[int, int, threading.Thread]]) -> None:
    """At exit, the last lines still in the pipes are logged too."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    for fd, original, relay in relays:
        os.dup2(original, fd)  # closes our write end: the relay reads to the end
        relay.join(1)  # a child still holding the pipe open must not hold the exit


def _relay(fd: int, logger: logging.Logger, default: int) -> None:
    with os.fdopen(fd, encoding="utf-8", errors="replace") as pipe:
        for line in pipe:
            line = line.rstrip()
            if not line:
                continue
            match = _NATIVE_LEVEL.match(line)
            level = _NATIVE_LEVELS[match.group(1) or match.group(2)] if match else default
            logger.log(level, line)
