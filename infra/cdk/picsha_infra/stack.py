"""The one Picsha stack: storage, network, broker, search, API, worker, uploads, CDN."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Fn, Stack
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_rekognition as rekognition
from constructs import Construct

from picsha_infra import permissions
from picsha_infra.api import Api
from picsha_infra.broker import Broker
from picsha_infra.cdn import Cdn
from picsha_infra.config import DeployConfig, read_config
from picsha_infra.network import Network
from picsha_infra.search import Search
from picsha_infra.secrets import Secrets
from picsha_infra.storage import Storage
from picsha_infra.uploads import UploadEvents
from picsha_infra.worker import Worker


class PicshaStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # Validated before anything is built: bad context fails synth with one message.
        cfg = config or read_config(self.node)

        storage = Storage(
            self,
            "Storage",
            renders_expire_days=cfg.renders_expire_days,
            cors_origins=cfg.cors_origins,
        )
        network = Network(self, "Network", nat_gateways=cfg.nat_gateways)
        secrets = Secrets(self, "Secrets", sign_urls=cfg.sign_urls)
        broker = Broker(
            self,
            "Broker",
            network=network,
            auth_token=secrets.redis_auth,
            node_type=cfg.redis_node_type,
        )
        search = Search(
            self,
            "Search",
            network=network,
            instance_type=cfg.search_instance_type,
            data_nodes=cfg.search_data_nodes,
            volume_gib=cfg.search_volume_gib,
        )
        faces = rekognition.CfnCollection(self, "Faces", collection_id=cfg.rekognition_collection)
        model_arns = permissions.bedrock_model_arns(
            self, cfg.bedrock_model_ids, cfg.bedrock_profile_prefix
        )
        embedding_arns = permissions.bedrock_model_arns(
            self,
            tuple(m for m in cfg.bedrock_model_ids if "embed" in m),
            cfg.bedrock_profile_prefix,
        )

        api = Api(
            self,
            "Api",
            config=cfg,
            storage=storage,
            network=network,
            secrets=secrets,
            broker=broker,
            search=search,
            embedding_model_arns=embedding_arns,
            edit_model_arns=permissions.bedrock_model_arns(
                self,
                tuple(m for m in cfg.bedrock_model_ids if "image-generator" in m),
                cfg.bedrock_profile_prefix,
            ),
        )
        Worker(
            self,
            "Worker",
            config=cfg,
            storage=storage,
            network=network,
            secrets=secrets,
            broker=broker,
            search=search,
            model_arns=model_arns,
            face_collection_arn=faces.attr_arn,
        )
        uploads = UploadEvents(
            self,
            "Uploads",
            handler=cfg.upload_events_handler,
            secrets_generation=cfg.secrets_generation,
            storage=storage,
            network=network,
            secrets=secrets,
            broker=broker,
            search=search,
        )
        cdn = Cdn(
            self,
            "Cdn",
            config=cfg,
            api_origin=origins.RestApiOrigin(api.rest_api),
            bucket=storage.assets,
            log_bucket=storage.logs,
        )

        public_host = cfg.domain_name or cdn.domain_name
        CfnOutput(
            self,
            "CdnDomain",
            value=cdn.domain_name,
            description="CloudFront domain (CNAME target for a custom domain)",
        )
        CfnOutput(
            self,
            "CdnUrl",
            value=f"https://{public_host}",
            description="Base URL for /render, /thumbor, /original and /v1",
        )
        CfnOutput(
            self,
            "ApiUrl",
            value=api.rest_api.url,
            description="API Gateway stage URL (direct, uncached)",
        )
        CfnOutput(self, "BucketName", value=storage.assets.bucket_name)
        CfnOutput(self, "ApiKeyId", value=api.api_key.key_id)
        CfnOutput(self, "ApiKeySecretArn", value=secrets.api_key.secret_arn)
        CfnOutput(
            self,
            "GetApiKeyCommand",
            value=Fn.join(
                "",
                [
                    "aws secretsmanager get-secret-value --query SecretString --output text"
                    " --secret-id ",
                    secrets.api_key.secret_arn,
                ],
            ),
            description="Prints the x-api-key value for /v1",
        )
        if secrets.signing_key:
            CfnOutput(
                self,
                "SigningKeySecretArn",
                value=secrets.signing_key.secret_arn,
                description="PICSHA_SIGNING_KEY: render URLs must carry sig=",
            )
        CfnOutput(
            self,
            "UploadDeadLetterQueueUrl",
            value=uploads.dead_letters.queue_url,
            description="Upload events that failed five times",
        )
