"""Object store on S3 (or any S3-compatible server) through boto3."""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from shared.storage.base import ObjectNotFound, ObjectStore, content_disposition

_MISSING = {"404", "NoSuchKey", "NotFound"}


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in _MISSING


class S3Store(ObjectStore):
    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        presign_seconds: int = 3600,
    ) -> None:
        self.bucket = bucket
        self.presign_seconds = presign_seconds
        # Standard retry mode: throttling and 5xx are retried with backoff by botocore.
        config = Config(retries={"mode": "standard", "max_attempts": 5}, signature_version="s3v4")
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)

    def put_fileobj(self, key: str, fileobj: BinaryIO, content_type: str | None = None) -> None:
        # upload_fileobj streams in parts (multipart above 8 MB); S3 shows the object only
        # once the upload completes, so readers never see a partial object.
        extra = {"ContentType": content_type} if content_type else None
        self.client.upload_fileobj(fileobj, self.bucket, key, ExtraArgs=extra)

    def get_bytes(self, key: str) -> bytes:
        return self.open(key).read()

    def open(self, key: str) -> BinaryIO:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if _missing(exc):
                raise ObjectNotFound(key) from exc
            raise

    def open_range(self, key: str, start: int, stop: int | None) -> BinaryIO:
        if start == 0 and stop is None:
            return self.open(key)
        # S3 serves the bytes asked (RFC 9110 ranges: the last byte is inclusive).
        last = "" if stop is None else str(stop - 1)
        try:
            return self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{last}"
            )["Body"]
        except ClientError as exc:
            if _missing(exc):
                raise ObjectNotFound(key) from exc
            raise

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if _missing(exc):
                return False
            raise

    def size(self, key: str) -> int:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        except ClientError as exc:
            if _missing(exc):
                raise ObjectNotFound(key) from exc
            raise

    def delete_prefix(self, prefix: str) -> int:
        count = 0
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if objects:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects})
                count += len(objects)
        return count

    def list_children(self, prefix: str, start_after: str | None, limit: int) -> list[str]:
        prefix = prefix.rstrip("/") + "/"
        names: list[str] = []
        kwargs = {"Bucket": self.bucket, "Prefix": prefix, "Delimiter": "/"}
        if start_after:
            # Every key of the child `start_after/` sorts before `start_after0` ('/' < '0').
            kwargs["StartAfter"] = f"{prefix}{start_after}0"
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(**kwargs):
            for cp in page.get("CommonPrefixes", []):
                names.append(cp["Prefix"][len(prefix) :].rstrip("/"))
                if len(names) >= limit:
                    return names
        return names

    def list_names(self, prefix: str, start_after: str | None, limit: int) -> list[str]:
        prefix = prefix.rstrip("/") + "/"
        names: list[str] = []
        kwargs = {"Bucket": self.bucket, "Prefix": prefix, "Delimiter": "/"}
        if start_after:
            kwargs["StartAfter"] = prefix + start_after
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(**kwargs, PaginationConfig={"PageSize": min(limit, 1000)}):
            for obj in page.get("Contents", []):
                names.append(obj["Key"][len(prefix) :])
                if len(names) >= limit:
                    return names
        return names

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        with tempfile.NamedTemporaryFile(prefix="picsha-", suffix=".obj") as tmp:
            try:
                self.client.download_fileobj(self.bucket, key, tmp)
            except ClientError as exc:
                if _missing(exc):
                    raise ObjectNotFound(key) from exc
                raise
            tmp.flush()
            yield Path(tmp.name)

    def presigned_post(self, key: str, max_bytes: int) -> dict | None:
        # S3 itself enforces the size limit: the policy carries a content-length-range.
        return self.client.generate_presigned_post(
            self.bucket,
            key,
            Conditions=[["content-length-range", 1, max_bytes]],
            ExpiresIn=self.presign_seconds,
        )

    def presigned_url(
        self,
        key: str,
        filename: str | None = None,
        attachment: bool = False,
        content_type: str | None = None,
    ) -> str | None:
        params = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename, attachment)
        if content_type:
            params["ResponseContentType"] = content_type
        return self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self.presign_seconds
        )
