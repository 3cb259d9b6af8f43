"""The `PICSHA_*` environment the app images run with (DESIGN.md, 'Configuration').

Secrets are passed as `NAME_SECRET_ARN`; the images' entrypoint (docker/env_from_secrets.py)
reads each from Secrets Manager into `NAME` at start-up, so no secret value sits in the
template or in a function's configuration. Fargate tasks get theirs from ECS secrets instead.
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm

from picsha_infra.broker import Broker
from picsha_infra.search import Search


def storage(bucket: s3.IBucket) -> dict[str, str]:
    return {
        # Lambda's file system is read-only except /tmp; nothing durable lives here in S3 mode.
        "PICSHA_DATA_DIR": "/tmp/picsha-data",
        "PICSHA_STORAGE": "s3",
        "PICSHA_S3_BUCKET": bucket.bucket_name,
        "PICSHA_S3_REGION": Aws.REGION,
    }


def services(broker: Broker, search: Search) -> dict[str, str]:
    return {
        "PICSHA_BROKER_URL": broker.broker_url(),
        "PICSHA_SEARCH": "opensearch",
        "PICSHA_OPENSEARCH_URL": search.url,
        "PICSHA_AI": "bedrock",
    }


def secret_arns(generation: int, **secrets: sm.ISecret | None) -> dict[str, str]:
    """{'PICSHA_API_KEYS': secret} → {'PICSHA_API_KEYS_SECRET_ARN': arn}; None is skipped.

    SECRETS_GENERATION (-c secretsGeneration) changes the configuration when bumped, so a
    deploy replaces every running instance and each reads the rotated values at start-up."""
    arns = {f"{name}_SECRET_ARN": s.secret_arn for name, s in secrets.items() if s is not None}
    return {**arns, "SECRETS_GENERATION": str(generation)}
