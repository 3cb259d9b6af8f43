#!/usr/bin/env python3
"""CDK entry point: `python infra/cdk/app.py` (or `cdk synth` in infra/cdk) writes cdk.out.

Synthesis is offline: the stack is environment-agnostic unless -c account=/-c region= are
given, and container images are only fingerprinted here (built by `cdk deploy`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# jsii runs on Node; Debian 12 ships Node 18, which jsii reports as end-of-life on every run.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402
from picsha_infra.config import ContextError, load_cdk_json_context  # noqa: E402
from picsha_infra.stack import PicshaStack  # noqa: E402


def build(app: cdk.App) -> PicshaStack:
    account = app.node.try_get_context("account")
    region = app.node.try_get_context("region")
    env = cdk.Environment(account=account, region=region) if account or region else None
    stack = PicshaStack(
        app,
        str(app.node.try_get_context("stackName") or "Picsha"),
        env=env,
        description="Picsha digital-asset pipeline (issue 4)",
    )
    # cdk-nag v3 runs as a policy-validation plugin: synth fails on unacknowledged errors.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


def main() -> int:
    # cdk.json's context as defaults; `cdk synth -c ...` (CDK_CONTEXT_JSON) overrides it.
    outdir = os.environ.get("CDK_OUTDIR") or str(HERE / "cdk.out")
    app = cdk.App(context=load_cdk_json_context(), outdir=outdir)
    try:
        build(app)
    except ContextError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
