"""cdk-nag (v3, AwsSolutions pack) acknowledgements: each finding we accept, with its reason.

cdk-nag runs as a CDK policy-validation plugin (app.py), so synth fails on any error that
is not acknowledged here. Acknowledgements sit beside the construct they concern (called
from the module that builds it) and must say why; a blank reason is refused.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

PACK = "AwsSolutions"


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept `rule` (e.g. 'IAM4[Policy::...]') for `scope` and everything under it."""
    if len(reason.split()) < 5:
        raise ValueError(f"acknowledging {rule} needs a written reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}::{PACK}-{rule}", reason=reason))


def managed_policy(name: str) -> str:
    return f"IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]"


def wildcard_resource(scope: IConstruct, resource: str) -> str:
    """IAM5 finding id for a policy resource, rendered the way cdk-nag prints it."""
    return f"IAM5[Resource::{_as_nag_text(Stack.of(scope).resolve(resource))}]"


def _as_nag_text(value: Any) -> str:
    """CloudFormation intrinsics → cdk-nag's text: Ref → <Name>, GetAtt → <Id.Attr>."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return f"<{arg}>"
        if key == "Fn::GetAtt":
            return f"<{'.'.join(arg)}>"
        if key == "Fn::Join":
            separator, parts = arg
            return separator.join(_as_nag_text(p) for p in parts)
    raise ValueError(f"cannot name {value!r} as cdk-nag does")


LAMBDA_MANAGED = (
    "AWS-managed Lambda execution policy: CloudWatch Logs writes (and ENI management for "
    "VPC functions), the minimum Lambda needs and nothing else"
)
