"""The images' entrypoint: secrets by ARN into the environment, $(NAME) filled in."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.infra.loaders import ENV_FROM_SECRETS, load

entry = load(ENV_FROM_SECRETS, "picsha_env_from_secrets")


def test_secret_arns_become_values_and_disappear() -> None:
    fetched = []

    def fetch(arn: str) -> str:
        fetched.append(arn)
        return f"value-of-{arn}"

    env = entry.resolve(
        {"PICSHA_SIGNING_KEY_SECRET_ARN": "arn:sign", "PICSHA_STORAGE": "s3"}, fetch
    )
    assert env == {"PICSHA_SIGNING_KEY": "value-of-arn:sign", "PICSHA_STORAGE": "s3"}
    assert fetched == ["arn:sign"]


def test_references_are_filled_only_in_picsha_values() -> None:
    env = entry.resolve(
        {
            "REDIS_AUTH_TOKEN_SECRET_ARN": "arn:redis",
            "PICSHA_BROKER_URL": "rediss://:$(REDIS_AUTH_TOKEN)@host:6380/0",
            "OTHER": "$(REDIS_AUTH_TOKEN)",
        },
        lambda arn: "s3cr3t",
    )
    assert env["PICSHA_BROKER_URL"] == "rediss://:s3cr3t@host:6380/0"
    assert env["OTHER"] == "$(REDIS_AUTH_TOKEN)"


def test_nothing_to_resolve_needs_no_aws() -> None:
    def fetch(arn: str) -> str:
        raise AssertionError("must not call AWS")

    assert entry.resolve({"PICSHA_STORAGE": "local"}, fetch) == {"PICSHA_STORAGE": "local"}


def test_a_missing_reference_is_a_clear_error() -> None:
    with pytest.raises(entry.MissingVariable, match=r"\$\(REDIS_AUTH_TOKEN\) is used"):
        entry.resolve({"PICSHA_BROKER_URL": "rediss://:$(REDIS_AUTH_TOKEN)@h/0"}, str)


def test_the_command_runs_with_the_resolved_environment() -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "REDIS_AUTH_TOKEN": "tok",
        "PICSHA_BROKER_URL": "rediss://:$(REDIS_AUTH_TOKEN)@h:6380/0",
    }
    code = "import os; print(os.environ['PICSHA_BROKER_URL'])"
    result = subprocess.run(
        [sys.executable, str(ENV_FROM_SECRETS), sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "rediss://:tok@h:6380/0"
