"""ElastiCache Redis: the Celery broker (TLS in transit, AUTH token, encrypted at rest)."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from picsha_infra.network import Network

# A non-default port: scanners looking for 6379 find nothing (cdk-nag AEC5).
REDIS_PORT = 6380


class Broker(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: Network,
        auth_token: sm.ISecret,
        node_type: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = network.security_group("BrokerSg", "Picsha Redis broker")
        subnets = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            description="Picsha Redis broker subnets",
            subnet_ids=network.vpc.select_subnets(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
            ).subnet_ids,
        )
        # Celery keeps queued jobs as Redis lists: the broker must never evict them.
        params = elasticache.CfnParameterGroup(
            self,
            "Params",
            cache_parameter_group_family="redis7",
            description="Picsha broker: never evict queued jobs",
            properties={"maxmemory-policy": "noeviction"},
        )
        self.cluster = elasticache.CfnReplicationGroup(
            self,
            "Redis",
            replication_group_description="Picsha Celery broker",
            engine="redis",
            engine_version="7.1",
            cache_node_type=node_type,
            num_cache_clusters=2,  # primary + replica in another zone
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            port=REDIS_PORT,
            transit_encryption_enabled=True,
            at_rest_encryption_enabled=True,
            # A CloudFormation dynamic reference: resolved by CloudFormation, not in the template.
            auth_token=auth_token.secret_value.unsafe_unwrap(),
            cache_subnet_group_name=subnets.ref,
            cache_parameter_group_name=params.ref,
            security_group_ids=[self.security_group.security_group_id],
            snapshot_retention_limit=1,
        )
        self.host = self.cluster.attr_primary_end_point_address
        self.port = self.cluster.attr_primary_end_point_port

    def allow_from(self, *peers: ec2.ISecurityGroup) -> None:
        for peer in peers:
            self.security_group.add_ingress_rule(
                peer, ec2.Port.tcp(REDIS_PORT), "Celery broker clients"
            )

    def broker_url(self) -> str:
        """PICSHA_BROKER_URL; $(REDIS_AUTH_TOKEN) is filled in by the image's entrypoint
        (docker/env_from_secrets.py) — `${...}` would read as a CloudFormation parameter."""
        return f"rediss://:$(REDIS_AUTH_TOKEN)@{self.host}:{self.port}/0?ssl_cert_reqs=required"
