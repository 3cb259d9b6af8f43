"""Scheduled Lambda: the Celery backlog in Redis → CloudWatch `Picsha/Backlog`.

Celery's Redis transport keeps each queue as a list named after the queue and the jobs a
worker holds (acks_late) in the `unacked` hash. Backlog = queued + in flight; the worker
service scales on it (infra/cdk/picsha_infra/worker.py).

Standard library + boto3 only (both in the Lambda runtime): a few RESP commands over TLS
need no redis client package, so the function ships as one file.
"""

from __future__ import annotations

import os
import socket
import ssl
from typing import Any

UNACKED = "unacked"  # kombu's Redis transport: hash of delivered, not yet acked messages


def _encode(*args: str) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _reply(stream: Any) -> Any:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("Redis closed the connection")
    kind, body = line[:1], line[1:-2]
    if kind == b"-":
        raise RuntimeError(f"Redis error: {body.decode(errors='replace')}")
    if kind == b":":
        return int(body)
    if kind == b"+":
        return body.decode()
    if kind == b"$":
        size = int(body)
        return None if size < 0 else stream.read(size + 2)[:-2]
    if kind == b"*":
        return [_reply(stream) for _ in range(int(body))]
    raise RuntimeError(f"unexpected Redis reply {line!r}")


def backlog(
    host: str, port: int, queues: list[str], password: str | None, tls: bool = True
) -> dict[str, int]:
    """Queued jobs per queue plus the in-flight count under 'unacked'."""
    raw = socket.create_connection((host, port), timeout=5)
    conn = ssl.create_default_context().wrap_socket(raw, server_hostname=host) if tls else raw
    with conn, conn.makefile("rwb") as stream:
        commands = ([("AUTH", password)] if password else []) + [
            *(("LLEN", q) for q in queues),
            ("HLEN", UNACKED),
        ]
        stream.write(b"".join(_encode(*c) for c in commands))
        stream.flush()
        replies = [_reply(stream) for _ in commands]
    counts = replies[1:] if password else replies
    result = dict(zip(queues, counts[:-1], strict=True))
    result[UNACKED] = counts[-1]
    return result


def _secret(arn: str) -> str:
    import boto3

    return boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]


def handler(event: dict, context: object) -> dict[str, int]:
    import boto3

    arn = os.environ.get("REDIS_AUTH_TOKEN_SECRET_ARN")
    counts = backlog(
        os.environ["REDIS_HOST"],
        int(os.environ["REDIS_PORT"]),
        [q for q in os.environ.get("QUEUES", "ingest").split(",") if q],
        _secret(arn) if arn else None,
        tls=os.environ.get("REDIS_TLS", "true") != "false",
    )
    total = sum(counts.values())
    data = [{"MetricName": "Backlog", "Value": total, "Unit": "Count"}] + [
        {
            "MetricName": "QueueLength",
            "Dimensions": [{"Name": "Queue", "Value": name}],
            "Value": count,
            "Unit": "Count",
        }
        for name, count in counts.items()
    ]
    boto3.client("cloudwatch").put_metric_data(
        Namespace=os.environ.get("METRIC_NAMESPACE", "Picsha"), MetricData=data
    )
    return {"backlog": total, **counts}
