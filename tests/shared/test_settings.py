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
