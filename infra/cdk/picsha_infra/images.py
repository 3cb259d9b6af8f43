"""Container images built from the repo's Dockerfiles (docker/*/Dockerfile), all ARM64.

Synth only fingerprints the build context (the repo root, filtered by .dockerignore); the
images are built by `cdk deploy`, so synth and the tests need no Docker engine.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parents[3]
PLATFORM = ecr_assets.Platform.LINUX_ARM64


def dockerfile(name: str) -> str:
    return f"docker/{name}/Dockerfile"


def lambda_image(handler: str) -> lambda_.DockerImageCode:
    """The delivery image; `handler` replaces its CMD, so one image serves every function."""
    return lambda_.DockerImageCode.from_image_asset(
        str(REPO_ROOT), file=dockerfile("delivery"), platform=PLATFORM, cmd=[handler]
    )


def ecs_image(name: str) -> ecs.ContainerImage:
    return ecs.ContainerImage.from_asset(str(REPO_ROOT), file=dockerfile(name), platform=PLATFORM)
