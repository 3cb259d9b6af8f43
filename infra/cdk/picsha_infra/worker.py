"""The ingest worker on Fargate (ARM64), the LibreOffice converter beside it in the same task,
and scaling on the Celery backlog in Redis.

Redis has no CloudWatch metric for list lengths, so a small scheduled function
(functions/queue_depth) publishes `Picsha/Backlog` = queued + in-flight jobs every minute.
Counting in-flight (unacked) jobs means the service scales in only when nothing is running,
so scale-in never interrupts a job.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from picsha_infra import app_env, permissions
from picsha_infra.broker import Broker
from picsha_infra.config import DeployConfig
from picsha_infra.images import ecs_image
from picsha_infra.log_groups import log_group
from picsha_infra.nag import LAMBDA_MANAGED, acknowledge, managed_policy
from picsha_infra.network import Network
from picsha_infra.search import Search
from picsha_infra.secrets import Secrets
from picsha_infra.storage import Storage

QUEUES = ("ingest", "analysis")
METRIC_NAMESPACE = "Picsha"
CONVERTER_PORT = 2002
QUEUE_DEPTH_CODE = Path(__file__).parent / "functions" / "queue_depth"


class Worker(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        storage: Storage,
        network: Network,
        secrets: Secrets,
        broker: Broker,
        search: Search,
        model_arns: list[str],
        face_collection_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        bucket = storage.assets
        cluster = ecs.Cluster(
            self, "Cluster", vpc=network.vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        task = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=config.worker_cpu,
            memory_limit_mib=config.worker_memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            # Originals up to the upload limit plus LibreOffice / ImageMagick scratch files.
            ephemeral_storage_gib=50,
        )
        logs = log_group(self, "Logs")
        converter = task.add_container(
            "converter",
            image=ecs_image("libreoffice"),
            logging=ecs.LogDrivers.aws_logs(stream_prefix="converter", log_group=logs),
            port_mappings=[ecs.PortMapping(container_port=CONVERTER_PORT)],
            # The worker image has LibreOffice too; a converter crash must not stop ingest.
            essential=False,
            memory_reservation_mib=1024,
            health_check=ecs.HealthCheck(
                command=[
                    "CMD",
                    "python",
                    "-c",
                    "import urllib.request as u; "
                    f"u.urlopen('http://127.0.0.1:{CONVERTER_PORT}/healthz', timeout=3)",
                ],
                start_period=Duration.seconds(30),
            ),
        )
        worker = task.add_container(
            "worker",
            image=ecs_image("worker"),
            logging=ecs.LogDrivers.aws_logs(stream_prefix="worker", log_group=logs),
            environment={
                **app_env.storage(bucket),
                **app_env.services(broker, search),
                "PICSHA_CONVERTER_URL": f"http://127.0.0.1:{CONVERTER_PORT}",
                # Bumped with -c secretsGeneration: a new task definition, so tasks restart
                # and read rotated secrets.
                "SECRETS_GENERATION": str(config.secrets_generation),
            },
            secrets={"REDIS_AUTH_TOKEN": ecs.Secret.from_secrets_manager(secrets.redis_auth)},
            # Fargate's maximum: Celery's warm shutdown finishes the job in hand first.
            stop_timeout=Duration.seconds(120),
        )
        worker.add_container_dependencies(
            ecs.ContainerDependency(
                container=converter, condition=ecs.ContainerDependencyCondition.START
            )
        )

        self.security_group = network.security_group("WorkerSg", "Picsha ingest worker")
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=task,
            desired_count=config.worker_min_count,
            vpc_subnets=network.private,
            security_groups=[self.security_group],
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
        )

        role = task.task_role
        permissions.s3_objects(
            role,
            bucket,
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            "assets/*",
        )
        permissions.s3_list(role, bucket)
        permissions.bedrock_invoke(role, model_arns)
        permissions.rekognition(role, face_collection_arn)
        search.grant_http(role, self.security_group)
        broker.allow_from(self.security_group)

        acknowledge(
            task,
            "ECS2",
            "Plain configuration only (bucket name, endpoints, mode switches); the one secret "
            "(REDIS_AUTH_TOKEN) comes from Secrets Manager as an ECS secret",
        )
        acknowledge(
            task.obtain_execution_role(),
            "IAM5[Resource::*]",
            "ecr:GetAuthorizationToken has no resource-level scope; image pulls and log "
            "writes are limited to this task's repository and log group",
        )

        self._scale_on_backlog(config, network, secrets, broker)

    def _scale_on_backlog(
        self, config: DeployConfig, network: Network, secrets: Secrets, broker: Broker
    ) -> None:
        sg = network.security_group("QueueDepthSg", "Picsha queue depth probe")
        probe = lambda_.Function(
            self,
            "QueueDepthFn",
            description="Publishes the Celery backlog in Redis as a CloudWatch metric",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_asset(str(QUEUE_DEPTH_CODE)),
            memory_size=128,
            timeout=Duration.seconds(20),
            vpc=network.vpc,
            vpc_subnets=network.private,
            security_groups=[sg],
            environment={
                "REDIS_HOST": broker.host,
                "REDIS_PORT": broker.port,
                "REDIS_AUTH_TOKEN_SECRET_ARN": secrets.redis_auth.secret_arn,
                "QUEUES": ",".join(QUEUES),
                "METRIC_NAMESPACE": METRIC_NAMESPACE,
            },
            log_group=log_group(self, "QueueDepthLogs"),
        )
        secrets.redis_auth.grant_read(probe)
        broker.allow_from(sg)
        acknowledge(
            probe, managed_policy("service-role/AWSLambdaBasicExecutionRole"), LAMBDA_MANAGED
        )
        acknowledge(
            probe, managed_policy("service-role/AWSLambdaVPCAccessExecutionRole"), LAMBDA_MANAGED
        )
        acknowledge(
            probe,
            "IAM5[Resource::*]",
            "cloudwatch:PutMetricData has no resource-level scope; a condition limits it to "
            "the Picsha metric namespace",
        )
        # PutMetricData has no resource to scope to; the namespace condition is the limit.
        probe.add_to_role_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
            )
        )
        events.Rule(
            self,
            "EveryMinute",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[targets.LambdaFunction(probe)],
        )

        backlog = cloudwatch.Metric(
            namespace=METRIC_NAMESPACE,
            metric_name="Backlog",
            statistic="Maximum",
            period=Duration.minutes(1),
        )
        scaling = self.service.auto_scale_task_count(
            min_capacity=config.worker_min_count, max_capacity=config.worker_max_count
        )
        scaling.scale_on_metric(
            "Backlog",
            metric=backlog,
            adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            scaling_steps=[
                # Nothing queued or running: shrink one task at a time (to workerMinCount).
                autoscaling.ScalingInterval(upper=1, change=-1),
                # 1-19 jobs: the running tasks keep up. 20+: add one; 200+: add three.
                autoscaling.ScalingInterval(lower=20, upper=200, change=+1),
                autoscaling.ScalingInterval(lower=200, change=+3),
            ],
            cooldown=Duration.minutes(3),
            # Three minutes in a row before acting; a missing datapoint (the probe failed)
            # leaves the alarm in INSUFFICIENT_DATA, which neither scales in nor out.
            evaluation_periods=3,
        )
