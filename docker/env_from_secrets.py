#!/usr/bin/env python3
"""Entrypoint of the Picsha images: fill secrets into the environment, then exec the command.

- `NAME_SECRET_ARN=arn:...` → `NAME=<SecretString>` read from AWS Secrets Manager once at
  start-up (Lambda cold start, container start); the `_SECRET_ARN` variable is removed.
- `$(NAME)` inside a `PICSHA_*` value is replaced by `NAME`'s value, so the deploy can pass
  `PICSHA_BROKER_URL=rediss://:$(REDIS_AUTH_TOKEN)@host:6380/0` without the token in it
  (Kubernetes' syntax for the same thing; `${...}` would read as a CloudFormation parameter).

With neither present (local `docker run`), this only execs the command; boto3 is not loaded.
Usage: env-from-secrets COMMAND [ARGS...]
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping

SUFFIX = "_SECRET_ARN"
_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


class MissingVariable(RuntimeError):
    pass


def resolve(environ: Mapping[str, str], fetch: Callable[[str], str]) -> dict[str, str]:
    env = dict(environ)
    arns = {k[: -len(SUFFIX)]: env.pop(k) for k in list(env) if k.endswith(SUFFIX)}
    for name, arn in arns.items():
        if arn:
            env[name] = fetch(arn)

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise MissingVariable(f"$({name}) is used in the environment but {name} is not set")
        return env[name]

    for key, value in list(env.items()):
        if key.startswith("PICSHA_") and "$(" in value:
            env[key] = _REF.sub(value_of, value)
    return env


def fetch_secret(arn: str) -> str:
    import boto3

    return boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        env = resolve(os.environ, fetch_secret)
    except MissingVariable as exc:
        print(f"env-from-secrets: {exc}", file=sys.stderr)
        return 1
    os.execvpe(argv[1], argv[1:], env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv))
