"""What a route needs, named in its signature: FastAPI dependency aliases over the app's
state (set once by `http.app.configure`), so no route module keeps its own helpers."""

from typing import Annotated

from fastapi import Depends, Request

from ingest_worker import runtime
from shared.errors import PicshaError
from shared.ids import is_valid_id
from shared.manifest import Manifest, load_manifest
from shared.search import SearchIndex
from shared.settings import Settings
from shared.signing import sign_url
from shared.storage import ObjectStore


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _store(request: Request) -> ObjectStore:
    return request.app.state.store


def _index(request: Request) -> SearchIndex:
    return runtime.index(request.app.state.settings)


def load_or_404(store: ObjectStore, asset_id: str) -> Manifest:
    manifest = load_manifest(store, asset_id) if is_valid_id(asset_id) else None
    if manifest is None:
        raise PicshaError(404, "asset_not_found", f"no asset {asset_id!r}")
    return manifest


def _manifest(asset_id: str, request: Request) -> Manifest:
    return load_or_404(request.app.state.store, asset_id)


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[ObjectStore, Depends(_store)]
IndexDep = Annotated[SearchIndex, Depends(_index)]
ManifestDep = Annotated[Manifest, Depends(_manifest)]  # the `{asset_id}` path's, else 404


def links(asset_id: str, settings: Settings) -> dict[str, str]:
    """Where a client goes next from an asset. With a signing key, delivery asks every URL
    for its `sig`: the API's (authenticated) client gets the links signed, ready to follow."""
    delivery = {"render": f"/render/{asset_id}", "original": f"/original/{asset_id}"}
    if settings.signing_key:
        delivery = {k: sign_url(settings.signing_key, v) for k, v in delivery.items()}
    return {"self": f"/v1/assets/{asset_id}", **delivery}
