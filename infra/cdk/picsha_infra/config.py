"""Deploy settings read from CDK context (`cdk.json` or `-c key=value`), validated up front.

Every problem is raised as `ContextError` before any resource is built, so a bad deploy
configuration fails synth with one clear sentence instead of a half-built template.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from constructs import Node

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"

DEFAULT_BEDROCK_MODELS = (
    "amazon.titan-embed-image-v1",
    "anthropic.claude-sonnet-4-6",
    "amazon.titan-image-generator-v2:0",
)
_CERT_ARN = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_PRICE_CLASSES = ("100", "200", "all")
_PROFILE_PREFIXES = ("us", "eu", "apac", "global")


class ContextError(ValueError):
    """A missing or invalid context value; the message says which key and how to fix it."""


@dataclass(frozen=True)
class DeployConfig:
    domain_name: str | None
    certificate_arn: str | None
    cors_origins: tuple[str, ...]
    sign_urls: bool
    price_class: str
    worker_min_count: int
    worker_max_count: int
    worker_cpu: int
    worker_memory_mib: int
    delivery_memory_mib: int
    search_instance_type: str
    search_data_nodes: int
    search_volume_gib: int
    redis_node_type: str
    renders_expire_days: int
    bedrock_model_ids: tuple[str, ...]
    bedrock_profile_prefix: str | None
    rekognition_collection: str
    upload_events_handler: str
    api_rate_limit: int
    api_burst_limit: int
    nat_gateways: int
    secrets_generation: int


def load_cdk_json_context() -> dict[str, Any]:
    """The `context` block of cdk.json, so `python app.py` synthesises what `cdk synth` does."""
    return json.loads(CDK_JSON.read_text())["context"]


def _text(node: Node, key: str) -> str | None:
    value = node.try_get_context(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(node: Node, key: str, default: int, low: int, high: int) -> int:
    raw = node.try_get_context(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ContextError(f"context '{key}' must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ContextError(f"context '{key}' must be between {low} and {high}, got {value}")
    return value


def _bool(node: Node, key: str, default: bool) -> bool:
    raw = node.try_get_context(key)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ContextError(f"context '{key}' must be true or false, got {raw!r}")


def _list(node: Node, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = node.try_get_context(key)
    if raw is None or raw == "":
        return default
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    values = tuple(str(i).strip() for i in items if str(i).strip())
    if not values:
        raise ContextError(f"context '{key}' must list at least one value")
    return values


def read_config(node: Node) -> DeployConfig:
    domain = _text(node, "domainName")
    cert = _text(node, "certificateArn")
    if cert and not domain:
        raise ContextError(
            "context 'certificateArn' is set but 'domainName' is missing: a certificate is "
            "only used for a custom CDN domain, pass -c domainName=images.example.com too"
        )
    if domain and not cert:
        raise ContextError(
            f"context 'domainName' ({domain}) needs 'certificateArn': an ACM certificate in "
            "us-east-1 covering that name (CloudFront only reads certificates from us-east-1)"
        )
    if domain and not _DOMAIN.match(domain.lower()):
        raise ContextError(f"context 'domainName' is not a valid DNS name: {domain!r}")
    if cert:
        match = _CERT_ARN.match(cert)
        if not match:
            raise ContextError(f"context 'certificateArn' is not an ACM certificate ARN: {cert!r}")
        if match.group(1) != "us-east-1":
            raise ContextError(
                f"context 'certificateArn' is in {match.group(1)}; CloudFront needs the "
                "certificate in us-east-1"
            )

    price_class = str(node.try_get_context("priceClass") or "100").lower()
    if price_class not in _PRICE_CLASSES:
        raise ContextError(f"context 'priceClass' must be one of {_PRICE_CLASSES}")

    profile = _text(node, "bedrockInferenceProfilePrefix")
    if profile and profile not in _PROFILE_PREFIXES:
        raise ContextError(
            f"context 'bedrockInferenceProfilePrefix' must be one of {_PROFILE_PREFIXES}"
        )

    # At least one: the scaling steps add tasks at a backlog of 20, so a service at zero
    # tasks would leave a small backlog waiting.
    worker_min = _int(node, "workerMinCount", 1, 1, 100)
    worker_max = _int(node, "workerMaxCount", 10, 1, 100)
    if worker_max < worker_min:
        raise ContextError(
            f"context 'workerMaxCount' ({worker_max}) is below 'workerMinCount' ({worker_min})"
        )

    search_nodes = _int(node, "searchDataNodes", 2, 1, 20)
    if search_nodes > 1 and search_nodes % 2:
        raise ContextError(
            "context 'searchDataNodes' must be 1 or even (spread over two zones), "
            f"got {search_nodes}"
        )

    handler = _text(node, "uploadEventsHandler") or "ingest_worker.http.s3_events.handler"
    if not re.fullmatch(r"[A-Za-z_][\w.]*\.[A-Za-z_]\w*", handler):
        raise ContextError(f"context 'uploadEventsHandler' is not a module.function: {handler!r}")

    return DeployConfig(
        domain_name=domain.lower() if domain else None,
        certificate_arn=cert,
        cors_origins=_list(node, "corsOrigins", ("*",)),
        sign_urls=_bool(node, "signUrls", True),
        price_class=price_class,
        worker_min_count=worker_min,
        worker_max_count=worker_max,
        worker_cpu=_int(node, "workerCpu", 2048, 256, 16384),
        worker_memory_mib=_int(node, "workerMemoryMiB", 4096, 512, 122880),
        delivery_memory_mib=_int(node, "deliveryMemoryMiB", 2048, 512, 10240),
        search_instance_type=_text(node, "searchInstanceType") or "m6g.large.search",
        search_data_nodes=search_nodes,
        search_volume_gib=_int(node, "searchVolumeGiB", 20, 10, 16384),
        redis_node_type=_text(node, "redisNodeType") or "cache.t4g.small",
        renders_expire_days=_int(node, "rendersExpireDays", 30, 1, 3650),
        bedrock_model_ids=_list(node, "bedrockModelIds", DEFAULT_BEDROCK_MODELS),
        bedrock_profile_prefix=profile,
        rekognition_collection=_text(node, "rekognitionCollection") or "picsha-faces",
        upload_events_handler=handler,
        api_rate_limit=_int(node, "apiRateLimit", 50, 1, 10000),
        api_burst_limit=_int(node, "apiBurstLimit", 100, 1, 5000),
        nat_gateways=_int(node, "natGateways", 1, 1, 3),
        secrets_generation=_int(node, "secretsGeneration", 1, 1, 1_000_000),
    )
