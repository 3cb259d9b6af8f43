"""The assets bucket (the source of truth, DESIGN.md) and the bucket that receives access logs."""

from __future__ import annotations

from typing import cast

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

ASSETS_PREFIX = "assets/"
RENDERS_PREFIX = "renders/"
# The only keys CloudFront may read through OAC: originals (for /original redirects) and
# stored oversized renders. Manifests (GPS, EXIF) and proxies stay reachable only via the apps.
CDN_READABLE_KEYS = ("assets/*/original", "renders/*")


class Storage(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        renders_expire_days: int,
        cors_origins: tuple[str, ...],
    ) -> None:
        super().__init__(scope, construct_id)

        self.logs = s3.Bucket(
            self,
            "Logs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            # CloudFront standard logs are still written with ACLs.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )

        self.assets = s3.Bucket(
            self,
            "Assets",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix="s3-access/",
            lifecycle_rules=[
                # renders/ holds results too big for a Lambda response: derived, re-creatable.
                s3.LifecycleRule(
                    id="expire-renders",
                    prefix=RENDERS_PREFIX,
                    expiration=Duration.days(renders_expire_days),
                ),
                # Presigned multipart uploads that a client abandoned.
                s3.LifecycleRule(
                    id="abort-incomplete-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
            ],
            # Browsers PUT presigned uploads straight to the bucket.
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.POST],
                    allowed_origins=list(cors_origins),
                    allowed_headers=["*"],
                    exposed_headers=["ETag"],
                    max_age=3000,
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # S3 → EventBridge natively (no CDK notification custom resource, which would need
        # s3:PutBucketNotification on "*"); a rule picks the ObjectCreated events (uploads.py).
        cfn_bucket = cast(s3.CfnBucket, self.assets.node.default_child)
        cfn_bucket.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )

    def object_arns(self, *patterns: str) -> list[str]:
        """ARNs of keys under the given patterns, e.g. 'assets/*' — never the whole bucket."""
        return [self.assets.arn_for_objects(p) for p in patterns]
