"""Fixtures for the deploy tests: one offline CDK synth per session, shared by every test.

The CDK tests need the `infra` extra (aws-cdk-lib, cdk-nag) and Node.js (jsii runs the CDK
in node); without them they skip with the reason. Nothing here imports the app packages.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CDK_DIR = REPO / "infra" / "cdk"
STACK_NAME = "Picsha"

# Debian 12's Node 18 (and Node 20) are past jsii's support window: it works, but jsii would
# print a banner on every start. Must be set before aws_cdk is first imported.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")


@dataclass
class Synth:
    """The result of synthesising the app as `python infra/cdk/app.py` does."""

    template: dict[str, Any]  # the CloudFormation template as JSON
    assertions: Any  # aws_cdk.assertions.Template over the same template
    validation: dict[str, Any]  # cdk.out/validation-report.json (cdk-nag + CloudFormation)
    metadata: dict[str, list[dict[str, Any]]]  # per construct path, incl. acknowledgements

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}

    def one(self, kind: str) -> dict[str, Any]:
        found = list(self.resources(kind).values())
        assert len(found) == 1, f"expected one {kind}, found {len(found)}"
        return found[0]["Properties"]


def _require_cdk() -> None:
    pytest.importorskip("aws_cdk", reason="needs the infra extra: pip install '.[infra]'")
    pytest.importorskip("cdk_nag", reason="needs the infra extra: pip install '.[infra]'")
    if not shutil.which("node"):
        pytest.skip("needs Node.js for jsii (system-packages.txt, group infra)")


@pytest.fixture(scope="session")
def cdk_app_module() -> ModuleType:
    """infra/cdk/app.py, loaded by path (it puts infra/cdk on sys.path for picsha_infra)."""
    _require_cdk()
    spec = importlib.util.spec_from_file_location("picsha_cdk_app", CDK_DIR / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthesize(app_module: ModuleType, outdir: Path, **context: Any) -> Synth:
    """Synth with cdk.json's context plus `context`; nag runs as in production."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template
    from picsha_infra.config import load_cdk_json_context

    # Images and Lambda code are fingerprinted but not copied: no Docker, little I/O.
    base = {**load_cdk_json_context(), "aws:cdk:disable-asset-staging": True}
    app = cdk.App(context={**base, **context}, outdir=str(outdir))
    stack = app_module.build(app)
    report_path = outdir / "validation-report.json"
    try:
        assembly = app.synth()
    except RuntimeError as exc:
        report = report_path.read_text() if report_path.exists() else ""
        pytest.fail(f"synth failed: {exc}\n{report[:20000]}")
    template = assembly.get_stack_by_name(stack.stack_name).template
    validation = json.loads(report_path.read_text()) if report_path.exists() else {}
    metadata = json.loads((outdir / f"{stack.stack_name}.metadata.json").read_text())
    return Synth(template, Template.from_json(template), validation, metadata)


@pytest.fixture(scope="session")
def synth(cdk_app_module: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The default deployment (cdk.json context), synthesised once per test session."""
    return synthesize(cdk_app_module, tmp_path_factory.mktemp("cdk.out"))
