"""The stack refuses, at synth time, any /v1 method that can be called without an API key."""

from __future__ import annotations

from types import ModuleType


def test_a_keyless_v1_method_is_a_synth_error(cdk_app_module: ModuleType) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_apigateway as apigw
    from picsha_infra.api import RequireApiKeyOnV1

    stack = cdk.Stack(cdk.App(), "Guard")
    api = apigw.RestApi(stack, "Api", deploy=False)
    v1 = api.root.add_resource("v1")
    v1.add_method("GET", apigw.MockIntegration(), api_key_required=True)
    v1.add_resource("{proxy+}").add_method("POST", apigw.MockIntegration())
    api.root.add_resource("render").add_method("GET", apigw.MockIntegration())

    assert RequireApiKeyOnV1(api).validate() == ["POST /v1/{proxy+} must require an API key"]
