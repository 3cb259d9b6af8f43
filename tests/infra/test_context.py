"""Deploy settings from CDK context: bad values fail synth with a clear message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.infra.conftest import CDK_DIR, synthesize

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"


def _build(app_module: ModuleType, **context: Any) -> None:
    import aws_cdk as cdk

    app_module.build(cdk.App(context=context))


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"certificateArn": CERT}, r"'certificateArn' is set but 'domainName' is missing"),
        (
            {"domainName": "img.example.com"},
            r"'domainName' \(img.example.com\) needs 'certificateArn'",
        ),
        (
            {
                "domainName": "img.example.com",
                "certificateArn": CERT.replace("us-east-1", "eu-west-1"),
            },
            r"certificate in us-east-1",
        ),
        (
            {"domainName": "img.example.com", "certificateArn": "not-an-arn"},
            r"not an ACM certificate",
        ),
        ({"domainName": "not a domain", "certificateArn": CERT}, r"not a valid DNS name"),
        ({"workerMinCount": 5, "workerMaxCount": 2}, r"'workerMaxCount' \(2\) is below"),
        ({"workerMaxCount": "many"}, r"'workerMaxCount' must be a whole number"),
        ({"signUrls": "maybe"}, r"'signUrls' must be true or false"),
        ({"searchDataNodes": 3}, r"'searchDataNodes' must be 1 or even"),
        ({"priceClass": "cheap"}, r"'priceClass' must be one of"),
        ({"bedrockInferenceProfilePrefix": "mars"}, r"must be one of"),
    ],
)
def test_bad_context_fails_before_anything_is_built(
    cdk_app_module: ModuleType, context: dict[str, Any], message: str
) -> None:
    from picsha_infra.config import ContextError

    with pytest.raises(ContextError, match=message):
        _build(cdk_app_module, **context)


def test_app_py_exits_with_the_message_not_a_traceback(
    cdk_app_module: ModuleType, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({"certificateArn": CERT}),
        "CDK_OUTDIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, str(CDK_DIR / "app.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: context 'certificateArn' is set but 'domainName'")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "manifest.json").exists()


def test_custom_domain_uses_the_certificate_and_modern_tls(
    cdk_app_module: ModuleType, tmp_path: Path
) -> None:
    synth = synthesize(
        cdk_app_module,
        tmp_path,
        domainName="img.example.com",
        certificateArn=CERT,
        signUrls="false",
        secretsGeneration=2,
    )
    config = synth.one("AWS::CloudFront::Distribution")["DistributionConfig"]
    assert config["Aliases"] == ["img.example.com"]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": CERT,
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    assert synth.template["Outputs"]["CdnUrl"]["Value"] == "https://img.example.com"
    # signUrls=false: no signing secret, and nothing points at one.
    assert "SigningKeySecretArn" not in synth.template["Outputs"]
    assert "PICSHA_SIGNING_KEY_SECRET_ARN" not in json.dumps(synth.template)
    # A bumped secrets generation reaches the gateway key and every app function.
    assert "generation 2" in synth.one("AWS::ApiGateway::ApiKey")["Description"]
    for fn in synth.resources("AWS::Lambda::Function").values():
        env = fn["Properties"].get("Environment", {}).get("Variables", {})
        if any(k.endswith("_SECRET_ARN") for k in env) and "QUEUES" not in env:
            assert env["SECRETS_GENERATION"] == "2"
