"""Presigned uploads: S3 ObjectCreated on `assets/{id}/original` → EventBridge → SQS → Lambda.

Choice: S3 publishes to EventBridge natively (no notification custom resource), a rule
matches only originals, and SQS in between buffers bursts, retries and keeps what still
fails in a dead-letter queue. The function runs the app image with the handler named by
`-c uploadEventsHandler` (default `ingest_worker.http.s3_events.handler`); each SQS record body
is the EventBridge event (`detail.bucket.name`, `detail.object.key`), and the handler
enqueues the same Celery job as `POST /v1/assets` and reports failed records by id
(`batchItemFailures`).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from picsha_infra import app_env, permissions
from picsha_infra.broker import Broker
from picsha_infra.images import lambda_image
from picsha_infra.log_groups import log_group
from picsha_infra.nag import LAMBDA_MANAGED, acknowledge, managed_policy
from picsha_infra.network import Network
from picsha_infra.search import Search
from picsha_infra.secrets import Secrets
from picsha_infra.storage import Storage

HANDLER_TIMEOUT = Duration.seconds(60)


class UploadEvents(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        secrets_generation: int,
        storage: Storage,
        network: Network,
        secrets: Secrets,
        broker: Broker,
        search: Search,
    ) -> None:
        super().__init__(scope, construct_id)
        bucket = storage.assets
        dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # AWS's advice for Lambda consumers: six times the function timeout.
            visibility_timeout=Duration.seconds(HANDLER_TIMEOUT.to_seconds() * 6),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=dead_letters),
        )
        self.dead_letters = dead_letters
        events.Rule(
            self,
            "OriginalCreated",
            description="A new assets/{id}/original in the Picsha bucket",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [bucket.bucket_name]},
                    "object": {"key": events.Match.wildcard("assets/*/original")},
                },
            ),
            targets=[targets.SqsQueue(self.queue)],
        )

        sg = network.security_group("UploadEventsSg", "Picsha upload events function")
        self.function = lambda_.DockerImageFunction(
            self,
            "Fn",
            description="Picsha: enqueue ingest for presigned uploads (S3 ObjectCreated)",
            code=lambda_image(handler),
            architecture=lambda_.Architecture.ARM_64,
            memory_size=512,
            timeout=HANDLER_TIMEOUT,
            vpc=network.vpc,
            vpc_subnets=network.private,
            security_groups=[sg],
            environment={
                **app_env.storage(bucket),
                **app_env.services(broker, search),
                **app_env.secret_arns(secrets_generation, REDIS_AUTH_TOKEN=secrets.redis_auth),
            },
            log_group=log_group(self, "Logs"),
        )
        self.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=10,
                max_batching_window=Duration.seconds(1),
                report_batch_item_failures=True,
            )
        )
        # Reads the object and manifest, writes the manifest (status) — assets/ only.
        permissions.s3_objects(self.function, bucket, ["s3:GetObject", "s3:PutObject"], "assets/*")
        permissions.s3_list(self.function, bucket)
        secrets.redis_auth.grant_read(self.function)
        broker.allow_from(sg)
        for policy in ("AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole"):
            acknowledge(self.function, managed_policy(f"service-role/{policy}"), LAMBDA_MANAGED)
