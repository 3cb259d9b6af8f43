"""Least-privilege IAM statements: S3 by key prefix, Bedrock by model ARN, Rekognition.

Nothing here grants a `*` resource for S3 or Bedrock; tests/infra/test_stack.py checks the
synthesised template for that. Each prefix wildcard is acknowledged for cdk-nag (IAM5) right
where it is granted, with the reason.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from picsha_infra.nag import acknowledge, wildcard_resource

_PREFIX_REASON = (
    "Object keys under one fixed prefix of the one assets bucket: asset ids are minted at "
    "run time, so the key prefix is the narrowest scope S3 allows"
)


def s3_objects(
    grantee: iam.IGrantable, bucket: s3.IBucket, actions: list[str], *patterns: str
) -> None:
    """Object actions on keys matching the patterns ('assets/*', 'renders/*')."""
    arns = [bucket.arn_for_objects(p) for p in patterns]
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=actions, resources=arns)
    )
    for arn in arns:
        acknowledge(cast(IConstruct, grantee), wildcard_resource(bucket, arn), _PREFIX_REASON)


def s3_list(grantee: iam.IGrantable, bucket: s3.IBucket) -> None:
    """ListBucket on this bucket alone. Unconditional on purpose: S3 answers a missing key
    with 404 only to callers that may list (the app maps 404 to 'not found'); with an
    s3:prefix condition a HEAD of a missing key would be a 403 and look like an outage."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
    )


def bedrock_model_arns(
    scope: Stack, model_ids: tuple[str, ...], profile_prefix: str | None
) -> list[str]:
    """The named foundation models in this region; with a cross-region inference profile
    prefix (us, eu, apac, global) also those profiles and the same models in the regions a
    profile routes to — still only these model ids, never `*`."""
    arns = [
        scope.format_arn(
            service="bedrock", account="", resource="foundation-model", resource_name=model
        )
        for model in model_ids
    ]
    if profile_prefix:
        arns += [
            scope.format_arn(
                service="bedrock",
                resource="inference-profile",
                resource_name=f"{profile_prefix}.{model}",
            )
            for model in model_ids
        ]
        arns += [f"arn:{Aws.PARTITION}:bedrock:*::foundation-model/{m}" for m in model_ids]
    return arns


def bedrock_invoke(grantee: iam.IGrantable, model_arns: list[str]) -> None:
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            resources=model_arns,
        )
    )
    for arn in model_arns:
        if "bedrock:*::" in arn:
            acknowledge(
                cast(IConstruct, grantee),
                wildcard_resource(cast(IConstruct, grantee), arn),
                "Cross-region inference profiles route to the named model in any of the "
                "profile's regions; the model id is still fixed",
            )


def rekognition(grantee: iam.IGrantable, collection_arn: str) -> None:
    principal = grantee.grant_principal
    principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["rekognition:DetectLabels", "rekognition:DetectFaces"], resources=["*"]
        )
    )
    acknowledge(
        cast(IConstruct, grantee),
        "IAM5[Resource::*]",
        "rekognition:DetectLabels and DetectFaces act on the image bytes sent and support no "
        "resource-level permission; face indexing below is scoped to the one collection",
    )
    principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=[
                "rekognition:IndexFaces",
                "rekognition:SearchFaces",
                "rekognition:SearchFacesByImage",
                "rekognition:DeleteFaces",
            ],
            resources=[collection_arn],
        )
    )
