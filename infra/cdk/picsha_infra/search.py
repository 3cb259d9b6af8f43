"""OpenSearch domain for the search index (`PICSHA_SEARCH=opensearch`): k-NN + keywords.

The k-NN plugin ships with every OpenSearch engine version; the app's index mapping turns it
on per index (`index.knn: true`, a `knn_vector` field). Requests are IAM-signed (SigV4): the
domain policy names the roles that may call it, and those roles' policies name this domain.
"""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from constructs import Construct

from picsha_infra.nag import acknowledge, wildcard_resource
from picsha_infra.network import Network

# Index reads and writes; no es:* (domain configuration stays with deployers).
HTTP_ACTIONS = [
    "es:ESHttpGet",
    "es:ESHttpHead",
    "es:ESHttpPost",
    "es:ESHttpPut",
    "es:ESHttpDelete",
]


class Search(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: Network,
        instance_type: str,
        data_nodes: int,
        volume_gib: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = network.security_group("SearchSg", "Picsha OpenSearch domain")
        # A fixed name lets the domain policy name its own ARN without a circular reference.
        self.domain_name = _domain_name(Stack.of(self).stack_name)
        self.domain_arn = Stack.of(self).format_arn(
            service="es", resource="domain", resource_name=self.domain_name
        )
        self._clients: list[iam.IRole] = []

        log_groups = {
            name: logs.LogGroup(
                self,
                f"{name}Logs",
                retention=logs.RetentionDays.ONE_MONTH,
                removal_policy=RemovalPolicy.DESTROY,
            )
            for name in ("App", "SlowSearch", "SlowIndex")
        }
        # One resource policy of our own, instead of the construct's custom resource.
        logs.ResourcePolicy(
            self,
            "LogsPolicy",
            policy_statements=[
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("es.amazonaws.com")],
                    actions=["logs:PutLogEvents", "logs:CreateLogStream"],
                    resources=[group.log_group_arn for group in log_groups.values()],
                    conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
                )
            ],
        )
        zones = 2 if data_nodes > 1 else 1
        self.domain = opensearch.Domain(
            self,
            "Domain",
            domain_name=self.domain_name,
            version=opensearch.EngineVersion.OPENSEARCH_2_19,
            vpc=network.vpc,
            vpc_subnets=[
                ec2.SubnetSelection(
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                    availability_zones=network.vpc.availability_zones[:zones],
                )
            ],
            security_groups=[self.security_group],
            capacity=opensearch.CapacityConfig(
                data_nodes=data_nodes,
                data_node_instance_type=instance_type,
                multi_az_with_standby_enabled=False,
            ),
            zone_awareness=opensearch.ZoneAwarenessConfig(
                enabled=zones > 1, availability_zone_count=zones if zones > 1 else None
            ),
            ebs=opensearch.EbsOptions(
                volume_size=volume_gib, volume_type=ec2.EbsDeviceVolumeType.GP3
            ),
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True),
            node_to_node_encryption=True,
            enforce_https=True,
            tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2,
            logging=opensearch.LoggingOptions(
                app_log_enabled=True,
                app_log_group=log_groups["App"],
                slow_search_log_enabled=True,
                slow_search_log_group=log_groups["SlowSearch"],
                slow_index_log_enabled=True,
                slow_index_log_group=log_groups["SlowIndex"],
            ),
            suppress_logs_resource_policy=True,
            # The index is derived data (`picsha reindex` rebuilds it from the manifests).
            removal_policy=RemovalPolicy.DESTROY,
        )
        self._cfn_domain = cast(opensearch.CfnDomain, self.domain.node.default_child)
        acknowledge(
            self.domain,
            "OS3",
            "VPC-only domain: reachable from the worker and API security groups alone, and "
            "every request must be SigV4-signed by a role the domain policy names",
        )
        acknowledge(
            self.domain,
            "OS4",
            "Small data-node-only domain by default; the index is derived data that "
            "`picsha reindex` rebuilds from the manifests, so a master outage loses nothing",
        )

    @property
    def url(self) -> str:
        return f"https://{self.domain.domain_endpoint}"

    def grant_http(self, role: iam.IRole, peer: ec2.ISecurityGroup) -> None:
        """Network path (security group) and IAM: the named domain's HTTP API, nothing else."""
        self.security_group.add_ingress_rule(peer, ec2.Port.tcp(443), "OpenSearch clients")
        paths = f"{self.domain_arn}/*"
        role.add_to_principal_policy(iam.PolicyStatement(actions=HTTP_ACTIONS, resources=[paths]))
        acknowledge(
            role,
            wildcard_resource(self, paths),
            "Index and document paths of the one named search domain; index names are the "
            "app's to choose, the domain is fixed",
        )
        self._clients.append(role)
        self._cfn_domain.access_policies = self._access_policy()

    def _access_policy(self) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": [role.role_arn for role in self._clients]},
                    "Action": HTTP_ACTIONS,
                    "Resource": f"{self.domain_arn}/*",
                }
            ],
        }


def _domain_name(stack_name: str) -> str:
    """3-28 chars, lower-case letters, digits and hyphens, starting with a letter."""
    base = "".join(c if c.isalnum() else "-" for c in stack_name.lower()).strip("-") or "picsha"
    if not base[0].isalpha():
        base = f"p-{base}"
    return f"{base[:21]}-search".replace("--", "-")
