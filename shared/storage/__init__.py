"""Object storage: one interface, a local-folder backend and an S3 backend."""

from shared.settings import Settings
from shared.storage.base import HashingReader, ObjectNotFound, ObjectStore, UploadTooLarge

__all__ = ["HashingReader", "ObjectNotFound", "ObjectStore", "UploadTooLarge", "open_store"]


def open_store(settings: Settings) -> ObjectStore:
    if settings.storage == "s3":
        from shared.storage.s3 import S3Store

        if not settings.s3_bucket:
            raise ValueError("PICSHA_STORAGE=s3 needs PICSHA_S3_BUCKET")
        return S3Store(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            presign_seconds=settings.s3_presign_seconds,
        )
    from shared.storage.local import LocalStore

    return LocalStore(settings.data_dir / "objects")
