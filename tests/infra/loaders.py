"""Load the deploy's stand-alone scripts (not packages) as modules, by path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from tests.infra.conftest import CDK_DIR, REPO

ENV_FROM_SECRETS = REPO / "docker" / "env_from_secrets.py"
CONVERT_SERVER = REPO / "docker" / "libreoffice" / "convert_server.py"
QUEUE_DEPTH = CDK_DIR / "picsha_infra" / "functions" / "queue_depth" / "index.py"


def load(path: Path, name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module
