import ast
from pathlib import Path

from shared.settings import Settings


def test_embedded_defaults_need_nothing(monkeypatch):
    for name in ("PICSHA_DATA_DIR", "PICSHA_STORAGE", "PICSHA_BROKER_URL", "PICSHA_API_KEYS"):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert s.data_dir == Path("./picsha-data")
    assert s.storage == "local" and s.search == "embedded" and s.ai == "local"
    assert s.embedded_broker
    assert s.render_max_side == 4096
    assert s.cache_control == "public, max-age=86400, immutable"


def test_env_prefix_and_comma_separated_keys(monkeypatch):
    monkeypatch.setenv("PICSHA_API_KEYS", " one, two ,,three")
    monkeypatch.setenv("PICSHA_STORAGE", "s3")
    monkeypatch.setenv("PICSHA_BROKER_URL", "redis://127.0.0.1:6379/0")
    s = Settings()
    assert s.api_keys == ["one", "two", "three"]
    assert s.storage == "s3"
    assert not s.embedded_broker


# Every PICSHA_* variable is a Settings field: one place lists them, with types and defaults.
_NOT_SCANNED = {"tests", "bench", "infra", ".venv", "node_modules"}


def _environ(node: ast.expr) -> bool:
    """`os.environ` or a bare `environ`."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _picsha_env_reads(tree: ast.Module) -> list[int]:
    names = {  # module constants such as BUNDLE_ENV = "PICSHA_..."
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name) and str(node.value.value).startswith("PICSHA_")
    }

    def picsha(arg: ast.expr) -> bool:
        if isinstance(arg, ast.Constant):
            return str(arg.value).startswith("PICSHA_")
        return isinstance(arg, ast.Name) and arg.id in names

    lines = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            getenv = isinstance(func, ast.Attribute | ast.Name) and (
                getattr(func, "attr", getattr(func, "id", None)) == "getenv"
            )
            environ_get = isinstance(func, ast.Attribute) and _environ(func.value)
            key = node.args[0] if getenv or environ_get else None
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key = node.slice if _environ(node.value) else None
        elif isinstance(node, ast.Compare) and any(_environ(c) for c in node.comparators):
            key = node.left
        if key is not None and picsha(key):
            lines.append(node.lineno)
    return lines


def test_picsha_variables_are_read_only_by_settings():
    root = Path(__file__).resolve().parents[2]
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if _NOT_SCANNED & set(rel.parts) or rel == Path("shared/settings.py"):
            continue
        for line in _picsha_env_reads(ast.parse(path.read_text(), str(rel))):
            found.append(f"{rel}:{line}")
    assert found == [], "read PICSHA_* variables through shared.settings.Settings"


def test_the_scan_sees_each_way_of_reading_a_variable():
    code = """
import os
NAME = "PICSHA_X"
a = os.environ.get("PICSHA_A", "1")
b = os.getenv("PICSHA_B")
c = os.environ["PICSHA_C"]
d = "PICSHA_D" in os.environ
e = os.environ.get(NAME)
os.environ["PICSHA_SET"] = "writing one for a child process is fine"
f = os.environ.get("HOME")
"""
    assert _picsha_env_reads(ast.parse(code)) == [4, 5, 6, 7, 8]
