"""The delivery and ingest/search Lambdas behind one API Gateway REST API.

Routes: `/render/*`, `/thumbor/*`, `/original/{id}`, `/media/{id}/{name}` (delivery,
public: URLs may be signed) and `/healthz` (ingest, public); `/v1` and `/v1/*` (ingest +
search) need an API key and are metered by a usage plan. A synth-time validation refuses
any `/v1` method without a key.
"""

from __future__ import annotations

from typing import cast

import jsii
from aws_cdk import Duration, Size
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IValidation

from picsha_infra import app_env, permissions
from picsha_infra.broker import Broker
from picsha_infra.config import DeployConfig
from picsha_infra.images import lambda_image
from picsha_infra.log_groups import log_group
from picsha_infra.nag import LAMBDA_MANAGED, acknowledge, managed_policy
from picsha_infra.network import Network
from picsha_infra.search import Search
from picsha_infra.secrets import Secrets
from picsha_infra.storage import Storage

STAGE = "prod"
# API Gateway's REST integration limit is 29 s: the functions stop first, so a slow request
# ends as the app's own JSON error instead of a bare 504 from the gateway.
FUNCTION_TIMEOUT = Duration.seconds(25)
# The largest upload body to send through the gateway: a Lambda request payload is capped
# at 6 MB and base64 grows a binary body by a third. Clients send larger files presigned.
MAX_BODY_BYTES = 4_000_000


class Api(Construct):
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
        embedding_model_arns: list[str],
        edit_model_arns: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        bucket = storage.assets

        self.delivery_fn = lambda_.DockerImageFunction(
            self,
            "DeliveryFn",
            description="Picsha delivery: /render, /thumbor, /original, /media",
            code=lambda_image("delivery.handler.handler"),
            architecture=lambda_.Architecture.ARM_64,
            # libvips is CPU-bound and Lambda's CPU share grows with memory (1769 MB = 1 vCPU);
            # 2048 MB also holds a 40 MP decode (render_max_pixels) plus encode buffers.
            memory_size=config.delivery_memory_mib,
            timeout=FUNCTION_TIMEOUT,
            # /tmp room for large sources and results spilled to disk while rendering.
            ephemeral_storage_size=Size.mebibytes(2048),
            environment={
                **app_env.storage(bucket),
                # `edit=` runs on Titan Image Generator (the image has no local model), and
                # its rate limit counts viewers by the address CloudFront forwards.
                "PICSHA_AI": "bedrock",
                "PICSHA_EDIT_CLIENT_HEADER": "CloudFront-Viewer-Address",
                **app_env.secret_arns(
                    config.secrets_generation, PICSHA_SIGNING_KEY=secrets.signing_key
                ),
            },
            log_group=log_group(self, "DeliveryLogs"),
        )
        # Reads sources and manifests; writes only renders/ (results too big for a response).
        permissions.s3_objects(self.delivery_fn, bucket, ["s3:GetObject"], "assets/*")
        permissions.s3_objects(
            self.delivery_fn, bucket, ["s3:GetObject", "s3:PutObject"], "renders/*"
        )
        permissions.s3_list(self.delivery_fn, bucket)
        permissions.bedrock_invoke(self.delivery_fn, edit_model_arns)
        if secrets.signing_key:
            secrets.signing_key.grant_read(self.delivery_fn)

        self.ingest_sg = network.security_group("IngestSg", "Picsha ingest/search API function")
        self.ingest_fn = lambda_.DockerImageFunction(
            self,
            "IngestFn",
            description="Picsha ingest + search API: /v1/*, /healthz",
            code=lambda_image("ingest_worker.http.handler.handler"),
            architecture=lambda_.Architecture.ARM_64,
            # Uploads through the gateway are small (6 MB Lambda payload); larger ones use a
            # presigned S3 upload, so the API needs no render-sized memory.
            memory_size=1024,
            timeout=FUNCTION_TIMEOUT,
            ephemeral_storage_size=Size.mebibytes(1024),
            vpc=network.vpc,
            vpc_subnets=network.private,
            security_groups=[self.ingest_sg],
            environment={
                **app_env.storage(bucket),
                **app_env.services(broker, search),
                # /healthz tells clients to upload large files presigned: the stack's
                # UploadEvents enqueue them when they land in the bucket.
                "PICSHA_PRESIGNED_UPLOADS": "true",
                "PICSHA_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
                **app_env.secret_arns(
                    config.secrets_generation,
                    PICSHA_API_KEYS=secrets.api_key,
                    PICSHA_SIGNING_KEY=secrets.signing_key,
                    REDIS_AUTH_TOKEN=secrets.redis_auth,
                ),
            },
            log_group=log_group(self, "IngestLogs"),
        )
        permissions.s3_objects(
            self.ingest_fn,
            bucket,
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            "assets/*",
        )
        permissions.s3_objects(self.ingest_fn, bucket, ["s3:DeleteObject"], "renders/*")
        permissions.s3_list(self.ingest_fn, bucket)
        # Search embeds the query text with the same embedding model as the worker.
        permissions.bedrock_invoke(self.ingest_fn, embedding_model_arns)
        search.grant_http(self.ingest_fn.role, self.ingest_sg)  # type: ignore[arg-type]
        broker.allow_from(self.ingest_sg)
        for secret in (secrets.api_key, secrets.signing_key, secrets.redis_auth):
            if secret:
                secret.grant_read(self.ingest_fn)

        for fn in (self.delivery_fn, self.ingest_fn):
            acknowledge(
                fn, managed_policy("service-role/AWSLambdaBasicExecutionRole"), LAMBDA_MANAGED
            )
        acknowledge(
            self.ingest_fn,
            managed_policy("service-role/AWSLambdaVPCAccessExecutionRole"),
            LAMBDA_MANAGED,
        )

        self.rest_api = self._rest_api(config, secrets)
        self.node.add_validation(RequireApiKeyOnV1(self.rest_api))
        self._acknowledge_api_findings()

    def _acknowledge_api_findings(self) -> None:
        api = self.rest_api
        acknowledge(
            api,
            "APIG2",
            "Lambda proxy integration: the apps validate every path and query parameter and "
            "reject unknown ones (DESIGN.md), which a gateway model cannot express",
        )
        acknowledge(
            api,
            managed_policy("service-role/AmazonAPIGatewayPushToCloudWatchLogs"),
            "The account-level role API Gateway needs for access logs; this AWS-managed "
            "policy is the documented one and grants CloudWatch Logs writes only",
        )
        acknowledge(
            api,
            "APIG3",
            "No WAF by default (cost); CloudFront and the usage plan throttle, renders are "
            "cached, and a web ACL can be attached to the stage without code changes",
        )
        for method in api.methods:
            path = method.resource.path
            if method.http_method == "OPTIONS":
                continue  # CORS preflight: a mock integration, cdk-nag does not flag it
            if path == "/v1" or path.startswith("/v1/"):
                reason = (
                    "/v1 requires an API key (x-api-key) metered by a usage plan, as DESIGN.md "
                    "specifies; synth fails if any /v1 method is keyless"
                )
            else:
                reason = (
                    "Public by design: delivery URLs are embedded in web pages (signed with "
                    "sig= when signUrls is on) and /healthz is a liveness probe"
                )
            for rule in ("APIG4", "COG4"):
                acknowledge(method, rule, reason)

    def _rest_api(self, config: DeployConfig, secrets: Secrets) -> apigw.RestApi:
        api = apigw.RestApi(
            self,
            "RestApi",
            description="Picsha delivery + ingest/search API",
            endpoint_types=[apigw.EndpointType.REGIONAL],  # CloudFront sits in front
            # Every body is binary to the gateway: images out, multipart uploads in
            # (Mangum base64-encodes non-text responses and sets isBase64Encoded).
            binary_media_types=["*/*"],
            api_key_source_type=apigw.ApiKeySourceType.HEADER,
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                access_log_destination=apigw.LogGroupLogDestination(log_group(self, "AccessLogs")),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # would log request bodies and API keys
                metrics_enabled=True,
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=list(config.cors_origins),
                allow_methods=apigw.Cors.ALL_METHODS,
                allow_headers=[*apigw.Cors.DEFAULT_HEADERS, "x-api-key"],
                expose_headers=["ETag", "Location"],
                max_age=Duration.hours(1),
            ),
        )
        if config.cors_origins and len(config.cors_origins) == 1:
            # The gateway's own errors (403 missing key, 429 throttled) carry CORS too.
            origin = {"Access-Control-Allow-Origin": f"'{config.cors_origins[0]}'"}
            api.add_gateway_response(
                "Default4xx", type=apigw.ResponseType.DEFAULT_4_XX, response_headers=origin
            )
            api.add_gateway_response(
                "Default5xx", type=apigw.ResponseType.DEFAULT_5_XX, response_headers=origin
            )

        delivery = apigw.LambdaIntegration(self.delivery_fn, allow_test_invoke=False)
        ingest = apigw.LambdaIntegration(self.ingest_fn, allow_test_invoke=False)
        for prefix in ("render", "thumbor"):
            resource = api.root.add_resource(prefix).add_resource("{proxy+}")
            for verb in ("GET", "HEAD"):
                resource.add_method(verb, delivery)
        original = api.root.add_resource("original").add_resource("{id}")
        proxies = api.root.add_resource("media").add_resource("{id}").add_resource("{name}")
        for verb in ("GET", "HEAD"):
            original.add_method(verb, delivery)
            proxies.add_method(verb, delivery)
        api.root.add_resource("healthz").add_method("GET", ingest)

        v1 = api.root.add_resource("v1")
        for resource in (v1, v1.add_resource("{proxy+}")):
            resource.add_method("ANY", ingest, api_key_required=True)

        plan = api.add_usage_plan(
            "UsagePlan",
            description="Picsha /v1 clients",
            throttle=apigw.ThrottleSettings(
                rate_limit=config.api_rate_limit, burst_limit=config.api_burst_limit
            ),
            api_stages=[apigw.UsagePlanPerApiStage(api=api, stage=api.deployment_stage)],
        )
        # The key's value is the generated secret (a dynamic reference, resolved by
        # CloudFormation), so the gateway and PICSHA_API_KEYS in the app accept the same key.
        self.api_key = apigw.ApiKey(
            self,
            "ApiKey",
            # The generation in the description makes CloudFormation re-read the secret (and
            # replace the key) when -c secretsGeneration is bumped after a rotation.
            description=f"Picsha /v1 key, generation {config.secrets_generation}; "
            "value in the ApiKey secret",
            value=secrets.api_key.secret_value.unsafe_unwrap(),
        )
        plan.add_api_key(self.api_key)
        return api


@jsii.implements(IValidation)
class RequireApiKeyOnV1:
    """Fails synth if any /v1 method (other than the CORS preflight) can be called keyless."""

    def __init__(self, api: apigw.RestApi) -> None:
        self._api = api

    def validate(self) -> list[str]:
        errors = []
        for method in self._api.methods:
            path = method.resource.path
            if not (path == "/v1" or path.startswith("/v1/")) or method.http_method == "OPTIONS":
                continue
            cfn = cast(apigw.CfnMethod, method.node.default_child)
            if not cfn.api_key_required:
                errors.append(f"{method.http_method} {path} must require an API key")
        return errors
