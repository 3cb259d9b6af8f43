"""API keys for the `/v1` routes (`x-api-key`)."""

import hmac
import secrets

from fastapi import Request

from shared.errors import PicshaError
from shared.settings import Settings

DEV_KEY_FILE = "dev-api-key"


def ensure_api_keys(settings: Settings) -> str | None:
    """With no PICSHA_API_KEYS, use (or make) a dev key kept in the data folder.

    Returns the dev key when one is in use, so `picsha serve` can print it.
    """
    if settings.api_keys:
        return None
    path = settings.data_dir / DEV_KEY_FILE
    if path.is_file():
        key = path.read_text().strip()
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        key = "dev-" + secrets.token_urlsafe(24)
        path.write_text(key + "\n")
        path.chmod(0o600)
    settings.api_keys = [key]
    return key


def require_api_key(request: Request) -> None:
    settings: Settings = request.app.state.settings
    given = request.headers.get("x-api-key", "")
    if not any(hmac.compare_digest(given.encode(), k.encode()) for k in settings.api_keys):
        raise PicshaError(401, "unauthorized", "a valid x-api-key header is required")
