"""The synthesised CloudFormation template says what issue 4 asks of the deployment."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from shared.settings import Settings
from tests.infra.conftest import CDK_DIR, Synth

RENDER_PATHS = ("/render/*", "/thumbor/*")
DEFAULT_MODELS = (
    "amazon.titan-embed-image-v1",
    "anthropic.claude-sonnet-4-6",
    "amazon.titan-image-generator-v2:0",
)


def _text(value: Any) -> str:
    """A template value flattened to text (Fn::Join parts concatenated, refs as <Ref>)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(_text(p) for p in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    return json.dumps(value, sort_keys=True)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(synth: Synth) -> list[dict[str, Any]]:
    """Every statement of every identity policy (managed, inline, role-embedded)."""
    found = []
    for res in synth.template["Resources"].values():
        props = res.get("Properties", {})
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            found += props["PolicyDocument"]["Statement"]
        if res["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                found += policy["PolicyDocument"]["Statement"]
    return found


def _bucket_logical_id(synth: Synth) -> str:
    ids = [
        k
        for k, v in synth.resources("AWS::S3::Bucket").items()
        if "LifecycleConfiguration" in v["Properties"]
        and any(
            r.get("Prefix") == "renders/"
            for r in v["Properties"]["LifecycleConfiguration"]["Rules"]
        )
    ]
    assert len(ids) == 1
    return ids[0]


# --- the app and cdk-nag ----------------------------------------------------------------


def test_the_app_is_one_stack(synth: Synth) -> None:
    assert synth.template["Resources"]
    assert (CDK_DIR / "cdk.json").is_file()


def test_cdk_nag_aws_solutions_has_no_unacknowledged_findings(synth: Synth) -> None:
    reports = {r["pluginName"]: r for r in synth.validation.get("pluginReports", [])}
    assert "AwsSolutions" in reports, "cdk-nag did not run"
    for name, report in reports.items():
        open_findings = [
            f"{v['severity']} {v['ruleName']} at "
            + ", ".join(c["constructPath"] for c in v["violatingConstructs"])
            for v in report["violations"]
        ]
        assert report["conclusion"] == "success", (name, open_findings)
        if name == "AwsSolutions":
            assert open_findings == []


def test_every_acknowledged_finding_has_a_written_reason(synth: Synth) -> None:
    acknowledged = {
        rule: reason
        for entries in synth.metadata.values()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule, reason in entry["data"].items()
    }
    nag = {rule: reason for rule, reason in acknowledged.items() if "AwsSolutions" in rule}
    assert nag, "expected reviewed cdk-nag findings"
    for rule, reason in nag.items():
        assert len(reason.split()) >= 8, f"{rule}: reason too thin: {reason!r}"


def test_an_acknowledgement_without_a_reason_is_refused(synth: Synth) -> None:
    from aws_cdk import Stack
    from picsha_infra.nag import acknowledge

    with pytest.raises(ValueError, match="written reason"):
        acknowledge(Stack(), "S1", "because")


# --- storage ------------------------------------------------------------------------------


def test_assets_bucket_is_private_encrypted_and_ssl_only(synth: Synth) -> None:
    bucket_id = _bucket_logical_id(synth)
    for bucket in synth.resources("AWS::S3::Bucket").values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert sse[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
        assert "WebsiteConfiguration" not in props
        assert props.get("AccessControl") not in ("PublicRead", "PublicReadWrite")

    policies = {
        p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources("AWS::S3::BucketPolicy").values()
    }
    statements = policies[bucket_id]
    assert any(
        s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool") == {"aws:SecureTransport": "false"}
        for s in statements
    )
    for s in statements:
        if s["Effect"] == "Allow":
            # Only CloudFront (OAC, for this distribution) reads the bucket through a policy.
            assert s["Principal"] == {"Service": "cloudfront.amazonaws.com"}
            assert s["Action"] == "s3:GetObject"
            assert "AWS:SourceArn" in json.dumps(s["Condition"])


def test_cloudfront_may_read_only_originals_and_stored_renders(synth: Synth) -> None:
    bucket_id = _bucket_logical_id(synth)
    policy = next(
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"]["Ref"] == bucket_id
    )
    deny = next(s for s in policy if s.get("Sid") == "CdnReadsOnlyOriginalsAndRenders")
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert sorted(_text(r) for r in deny["NotResource"]) == [
        f"<{bucket_id}.Arn>/assets/*/original",
        f"<{bucket_id}.Arn>/renders/*",
    ]


def test_renders_expire_and_abandoned_uploads_are_cleaned(synth: Synth) -> None:
    props = synth.template["Resources"][_bucket_logical_id(synth)]["Properties"]
    rules = props["LifecycleConfiguration"]["Rules"]
    renders = next(r for r in rules if r.get("Prefix") == "renders/")
    assert renders["Status"] == "Enabled" and renders["ExpirationInDays"] == 30
    assert any("AbortIncompleteMultipartUpload" in r for r in rules)


# --- CloudFront -----------------------------------------------------------------------------


def _distribution(synth: Synth) -> dict[str, Any]:
    return synth.one("AWS::CloudFront::Distribution")["DistributionConfig"]


def _behaviours(synth: Synth) -> dict[str, dict[str, Any]]:
    config = _distribution(synth)
    found = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    found["default"] = config["DefaultCacheBehavior"]
    return found


def test_render_routes_cache_on_path_all_query_strings_and_accept_for_a_day(
    synth: Synth,
) -> None:
    policies = synth.resources("AWS::CloudFront::CachePolicy")
    behaviours = _behaviours(synth)
    for path in RENDER_PATHS:
        policy_id = behaviours[path]["CachePolicyId"]["Ref"]
        config = policies[policy_id]["Properties"]["CachePolicyConfig"]
        assert config["DefaultTTL"] == 86400
        keys = config["ParametersInCacheKeyAndForwardedToOrigin"]
        assert keys["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
        assert keys["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Accept"]}
        assert keys["CookiesConfig"] == {"CookieBehavior": "none"}


def test_render_routes_forward_the_viewer_address_for_the_edit_rate_limit(
    synth: Synth,
) -> None:
    policies = synth.resources("AWS::CloudFront::OriginRequestPolicy")
    behaviours = _behaviours(synth)
    env = _function(synth, "delivery.handler.handler")["Environment"]["Variables"]
    header = env["PICSHA_EDIT_CLIENT_HEADER"]
    for path in RENDER_PATHS:
        policy_id = behaviours[path]["OriginRequestPolicyId"]["Ref"]
        config = policies[policy_id]["Properties"]["OriginRequestPolicyConfig"]
        assert config["HeadersConfig"]["Headers"] == [header]
    cors = synth.one("AWS::CloudFront::ResponseHeadersPolicy")
    exposed = cors["ResponseHeadersPolicyConfig"]["CorsConfig"]["AccessControlExposeHeaders"]
    assert "Picsha-Edit" in exposed["Items"]


def test_delivery_may_call_only_the_image_generator_for_edits(synth: Synth) -> None:
    env = _function(synth, "delivery.handler.handler")["Environment"]["Variables"]
    assert env["PICSHA_AI"] == "bedrock"
    role = _function(synth, "delivery.handler.handler")["Role"]["Fn::GetAtt"][0]
    invokes = [
        _text(r)
        for policy in synth.resources("AWS::IAM::Policy").values()
        if any(_text(ref) == f"<{role}>" for ref in policy["Properties"]["Roles"])
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
        if "bedrock:InvokeModel" in _as_list(st["Action"])
        for r in _as_list(st["Resource"])
    ]
    assert invokes and all("titan-image-generator" in arn for arn in invokes)


def test_render_routes_normalise_the_query_first(synth: Synth) -> None:
    function = synth.one("AWS::CloudFront::Function")
    source = (CDK_DIR / "picsha_infra" / "functions" / "normalise_query.js").read_text()
    assert function["FunctionCode"] == source
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    (function_id,) = synth.resources("AWS::CloudFront::Function")
    for path in RENDER_PATHS:
        (association,) = _behaviours(synth)[path]["FunctionAssociations"]
        assert association["EventType"] == "viewer-request"
        assert association["FunctionARN"] == {"Fn::GetAtt": [function_id, "FunctionARN"]}


def test_every_route_is_https_only(synth: Synth) -> None:
    for path, behaviour in _behaviours(synth).items():
        assert behaviour["ViewerProtocolPolicy"] == "https-only", path
    for origin in _distribution(synth)["Origins"]:
        if "CustomOriginConfig" in origin:
            assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_originals_are_served_from_the_bucket_through_oac(synth: Synth) -> None:
    config = _distribution(synth)
    origins = {o["Id"]: o for o in config["Origins"]}
    (oac_id,) = synth.resources("AWS::CloudFront::OriginAccessControl")
    for path in ("/assets/*/original", "/renders/*"):
        origin = origins[_behaviours(synth)[path]["TargetOriginId"]]
        assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
        assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    # API routes that must never be cached: presigned redirects, the ingest API.
    default = _behaviours(synth)["default"]
    assert default["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # disabled


# --- API Gateway and the functions ---------------------------------------------------------


def _api_paths(synth: Synth) -> dict[str, str]:
    """Logical id of each API Gateway resource → its full path."""
    resources = synth.resources("AWS::ApiGateway::Resource")

    def path_of(logical_id: str) -> str:
        props = resources[logical_id]["Properties"]
        parent = props["ParentId"]
        prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{props['PathPart']}"

    return {k: path_of(k) for k in resources}


def test_v1_needs_an_api_key_everywhere_and_delivery_is_public(synth: Synth) -> None:
    paths = _api_paths(synth)
    seen = set()
    for method in synth.resources("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        ref = props["ResourceId"]
        path = paths[ref["Ref"]] if "Ref" in ref else "/"
        verb = props["HttpMethod"]
        seen.add((verb, path))
        if verb == "OPTIONS":
            assert props["Integration"]["Type"] == "MOCK"  # CORS preflight only
            continue
        if path.startswith("/v1"):
            assert props.get("ApiKeyRequired") is True, f"{verb} {path} is keyless"
        else:
            assert not props.get("ApiKeyRequired"), f"{verb} {path}"
    assert {("ANY", "/v1"), ("ANY", "/v1/{proxy+}")} <= seen
    assert {("GET", "/render/{proxy+}"), ("GET", "/thumbor/{proxy+}")} <= seen
    assert {("GET", "/original/{id}"), ("GET", "/media/{id}/{name}")} <= seen
    assert ("OPTIONS", "/v1/{proxy+}") in seen  # CORS


def test_usage_plan_meters_the_generated_api_key(synth: Synth) -> None:
    plan = synth.one("AWS::ApiGateway::UsagePlan")
    assert plan["ApiStages"] and plan["Throttle"]["RateLimit"] > 0
    key = synth.one("AWS::ApiGateway::ApiKey")
    assert _text(key["Value"]).startswith("{{resolve:secretsmanager:")
    assert synth.one("AWS::ApiGateway::UsagePlanKey")["KeyType"] == "API_KEY"


def test_rest_api_passes_binary_bodies(synth: Synth) -> None:
    api = synth.one("AWS::ApiGateway::RestApi")
    assert api["BinaryMediaTypes"] == ["*/*"]
    assert api["EndpointConfiguration"]["Types"] == ["REGIONAL"]


def _function(synth: Synth, command: str) -> dict[str, Any]:
    found = [
        f["Properties"]
        for f in synth.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("ImageConfig", {}).get("Command") == [command]
    ]
    assert len(found) == 1, command
    return found[0]


def test_delivery_lambda_is_an_arm64_container_with_chosen_limits(synth: Synth) -> None:
    fn = _function(synth, "delivery.handler.handler")
    assert fn["PackageType"] == "Image"
    assert fn["Architectures"] == ["arm64"]
    assert fn["MemorySize"] == 2048
    assert fn["Timeout"] < 29  # under API Gateway's integration limit
    assert fn["Environment"]["Variables"]["PICSHA_STORAGE"] == "s3"
    ingest = _function(synth, "ingest_worker.http.handler.handler")
    assert ingest["Architectures"] == ["arm64"] and "VpcConfig" in ingest


def test_the_ingest_api_tells_clients_to_send_large_uploads_presigned(synth: Synth) -> None:
    env = _function(synth, "ingest_worker.http.handler.handler")["Environment"]["Variables"]
    settings = Settings(
        presigned_uploads=env["PICSHA_PRESIGNED_UPLOADS"],
        max_body_bytes=env["PICSHA_MAX_BODY_BYTES"],
    )
    assert settings.presigned_uploads is True
    # Under the 6 MB Lambda payload once base64 has grown the body by a third.
    assert settings.max_body_bytes is not None and settings.max_body_bytes * 4 / 3 < 6_000_000


def test_app_secrets_come_from_secrets_manager_never_the_template(synth: Synth) -> None:
    for secret in synth.resources("AWS::SecretsManager::Secret").values():
        assert "GenerateSecretString" in secret["Properties"]
        assert "SecretString" not in secret["Properties"]
    for fn in synth.resources("AWS::Lambda::Function").values():
        env = fn["Properties"].get("Environment", {}).get("Variables", {})
        for name in ("PICSHA_API_KEYS", "PICSHA_SIGNING_KEY", "REDIS_AUTH_TOKEN"):
            assert name not in env
    ingest = _function(synth, "ingest_worker.http.handler.handler")["Environment"]["Variables"]
    assert {"PICSHA_API_KEYS_SECRET_ARN", "PICSHA_SIGNING_KEY_SECRET_ARN"} <= set(ingest)
    task = synth.one("AWS::ECS::TaskDefinition")
    worker = next(c for c in task["ContainerDefinitions"] if c["Name"] == "worker")
    assert [s["Name"] for s in worker["Secrets"]] == ["REDIS_AUTH_TOKEN"]
    assert "$(REDIS_AUTH_TOKEN)" in _text(
        next(e["Value"] for e in worker["Environment"] if e["Name"] == "PICSHA_BROKER_URL")
    )


# --- worker, broker, search, uploads --------------------------------------------------------


def test_worker_is_an_arm64_fargate_service_with_the_converter_beside_it(synth: Synth) -> None:
    task = synth.one("AWS::ECS::TaskDefinition")
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    assert task["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    names = {c["Name"]: c for c in task["ContainerDefinitions"]}
    assert set(names) == {"worker", "converter"}
    assert names["converter"]["PortMappings"][0]["ContainerPort"] == 2002
    assert synth.one("AWS::ECS::Service")["LaunchType"] == "FARGATE"


def test_worker_scales_on_the_celery_backlog(synth: Synth) -> None:
    target = synth.one("AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 10)
    alarms = synth.resources("AWS::CloudWatch::Alarm").values()
    assert {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms} == {
        ("Picsha", "Backlog")
    }
    rules = [r["Properties"] for r in synth.resources("AWS::Events::Rule").values()]
    assert any(r.get("ScheduleExpression") == "rate(1 minute)" for r in rules)


def test_redis_broker_is_encrypted_and_authenticated(synth: Synth) -> None:
    redis = synth.one("AWS::ElastiCache::ReplicationGroup")
    assert redis["TransitEncryptionEnabled"] and redis["AtRestEncryptionEnabled"]
    assert _text(redis["AuthToken"]).startswith("{{resolve:secretsmanager:")
    assert redis["Engine"] == "redis"


def test_opensearch_domain_is_private_encrypted_and_iam_only(synth: Synth) -> None:
    domain = synth.one("AWS::OpenSearchService::Domain")
    assert domain["EngineVersion"].startswith("OpenSearch_")  # k-NN plugin included
    assert domain["VPCOptions"]["SubnetIds"]
    assert domain["EncryptionAtRestOptions"]["Enabled"]
    assert domain["NodeToNodeEncryptionOptions"]["Enabled"]
    assert domain["DomainEndpointOptions"]["EnforceHTTPS"]
    (statement,) = domain["AccessPolicies"]["Statement"]
    principals = _as_list(statement["Principal"]["AWS"])
    assert principals and all("Arn" in json.dumps(p) for p in principals)  # roles, not "*"


def test_presigned_uploads_reach_a_queue_and_a_function(synth: Synth) -> None:
    bucket = synth.template["Resources"][_bucket_logical_id(synth)]["Properties"]
    assert bucket["NotificationConfiguration"]["EventBridgeConfiguration"] == {
        "EventBridgeEnabled": True
    }
    rule = next(
        r["Properties"]
        for r in synth.resources("AWS::Events::Rule").values()
        if "EventPattern" in r["Properties"]
    )
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"wildcard": "assets/*/original"}]
    (target,) = rule["Targets"]
    queues = synth.resources("AWS::SQS::Queue")
    assert target["Arn"]["Fn::GetAtt"][0] in queues
    mapping = synth.one("AWS::Lambda::EventSourceMapping")
    assert mapping["EventSourceArn"] == target["Arn"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


# --- least privilege ------------------------------------------------------------------------


def test_no_wildcard_resources_for_s3_or_bedrock(synth: Synth) -> None:
    bucket_id = _bucket_logical_id(synth)
    allowed_s3 = {
        f"<{bucket_id}.Arn>",
        f"<{bucket_id}.Arn>/assets/*",
        f"<{bucket_id}.Arn>/renders/*",
    }
    checked = 0
    for statement in _statements(synth):
        actions = _as_list(statement["Action"])
        resources = [_text(r) for r in _as_list(statement.get("Resource", []))]
        if any(a.startswith("s3:") for a in actions):
            checked += 1
            assert "*" not in resources and not any(a in ("s3:*", "*") for a in actions)
            assert set(resources) <= allowed_s3, resources
        if any(a.startswith("bedrock:") for a in actions):
            checked += 1
            assert "*" not in resources
            for arn in resources:
                assert re.search(r":(foundation-model|inference-profile)/", arn), arn
                assert any(arn.endswith(m) for m in DEFAULT_MODELS), arn
    assert checked >= 5


def test_opensearch_and_rekognition_grants_are_scoped(synth: Synth) -> None:
    for statement in _statements(synth):
        actions = _as_list(statement["Action"])
        resources = [_text(r) for r in _as_list(statement.get("Resource", []))]
        if any(a.startswith("es:") for a in actions):
            assert all(re.search(r":domain/[a-z0-9-]+/\*$", r) for r in resources), resources
        if "rekognition:IndexFaces" in actions:
            assert resources == ["<Faces.Arn>"]
        if "rekognition:DetectLabels" in actions:
            assert set(actions) == {"rekognition:DetectLabels", "rekognition:DetectFaces"}


def test_outputs_tell_a_user_where_things_are(synth: Synth) -> None:
    outputs = synth.template["Outputs"]
    for name in ("CdnDomain", "CdnUrl", "ApiUrl", "ApiKeyId", "GetApiKeyCommand"):
        assert name in outputs
    assert "get-secret-value" in _text(outputs["GetApiKeyCommand"]["Value"])


def test_browsers_may_post_presigned_uploads_to_the_assets_bucket(synth: Synth) -> None:
    # The console sends large files straight to the bucket (presigned POST form): without
    # a CORS rule for its origin the browser refuses the answer and the upload fails.
    props = synth.template["Resources"][_bucket_logical_id(synth)]["Properties"]
    (rule,) = props["CorsConfiguration"]["CorsRules"]
    assert {"POST", "PUT"} <= set(rule["AllowedMethods"])
    assert rule["AllowedOrigins"] == ["*"]  # corsOrigins' default (cdk.json context)
    assert rule["AllowedHeaders"] == ["*"]
