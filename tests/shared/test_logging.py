"""Structured JSON logs: one object per line, carrying request id, asset id and stage."""

import io
import json
import logging
import subprocess
import sys

from shared.logging import (
    JsonFormatter,
    accept_request_id,
    configure_logging,
    log_context,
    request_id_var,
)


def _line(record_call) -> dict:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("picsha.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        record_call(logger)
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, lines
    return json.loads(lines[0])


def test_context_ids_and_extra_fields_are_in_the_line():
    with log_context(request_id="req-1", asset_id="V1StGXR8_Z5jdHi6B-myT", stage="render"):
        event = _line(lambda log: log.info("made %s", "thumb", extra={"ms": 12.5}))
    assert event["msg"] == "made thumb"
    assert event["request_id"] == "req-1"
    assert event["asset_id"] == "V1StGXR8_Z5jdHi6B-myT"
    assert event["stage"] == "render"
    assert event["ms"] == 12.5 and event["level"] == "info" and event["ts"].endswith("+00:00")


def test_context_is_restored_after_the_block():
    with log_context(request_id="outer"):
        with log_context(request_id="inner"):
            assert request_id_var.get() == "inner"
        assert request_id_var.get() == "outer"
    assert request_id_var.get() is None
    assert "request_id" not in _line(lambda log: log.info("no request"))


def test_exceptions_stay_on_one_line():
    def boom(log):
        try:
            raise ValueError("bad\nthing")
        except ValueError:
            log.exception("failed")

    event = _line(boom)
    assert "ValueError: bad" in event["exc"]


def test_unsafe_request_ids_are_replaced():
    assert accept_request_id("abc-123.x:y_z") == "abc-123.x:y_z"
    for bad in (None, "", "a b", "x" * 200, "<script>", "line\nbreak"):
        fresh = accept_request_id(bad)
        assert fresh != bad and len(fresh) == 16


def test_configure_logging_is_idempotent():
    stream = io.StringIO()
    configure_logging(stream=stream)
    configure_logging(stream=stream)
    try:
        logging.getLogger("uvicorn.error").info("started")
        assert len(stream.getvalue().splitlines()) == 1
        assert json.loads(stream.getvalue())["logger"] == "uvicorn.error"
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_picsha", False)]:
            root.removeHandler(handler)


_NATIVE_CHATTER = """
import ctypes, os, warnings
from shared.logging import capture_native_output, configure_logging
configure_logging()
capture_native_output()
libc = ctypes.CDLL(None)
libc.dprintf(2, b"W0000 00:00:1.2 7 feedback.cc:114] a C++ library warns\\n")
libc.dprintf(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n")
libc.dprintf(2, b"original: data corrupted at 1378\\n")
print("Loaded pretrained weights", flush=True)
warnings.warn("deprecated thing")
if os.fork() == 0:  # a pool process: its writes go through the same pipes
    libc.dprintf(2, b"E0000 from a child\\n")
    os._exit(0)
os.wait()
"""


def test_native_output_becomes_json_lines():
    """What C libraries write to fd 2 and print() to fd 1, also from a fork, is logged."""
    done = subprocess.run(
        [sys.executable, "-c", _NATIVE_CHATTER], capture_output=True, text=True, check=True
    )
    assert done.stdout == ""
    events = [json.loads(line) for line in done.stderr.splitlines()]
    got = {(e["logger"], e["level"], e["msg"].split(":")[0]) for e in events}
    assert got == {
        ("stderr", "warning", "W0000 00"),
        ("stderr", "info", "INFO"),
        ("stderr", "warning", "original"),
        ("stdout", "info", "Loaded pretrained weights"),
        ("py.warnings", "warning", "<string>"),
        ("stderr", "error", "E0000 from a child"),
    }, events
