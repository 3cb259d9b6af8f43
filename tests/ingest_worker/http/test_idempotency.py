"""Idempotency records in the object store: found for 24 h, old days deleted whole."""

from datetime import timedelta

import pytest

from ingest_worker.http.idempotency import IdempotencyKeys, Record
from shared.manifest import utcnow
from shared.storage.local import LocalStore
from shared.storage.s3 import S3Store
from tests.helpers import API_KEY


@pytest.fixture(params=["local", "s3"])
def keys(request, settings) -> IdempotencyKeys:
    """Embedded (the data folder) and production (S3 over HTTP: moto's server)."""
    if request.param == "local":
        return IdempotencyKeys(settings, LocalStore(settings.data_dir / "objects"))
    bucket = request.getfixturevalue("s3_bucket")
    store = S3Store(bucket, endpoint_url=request.getfixturevalue("s3_endpoint"))
    return IdempotencyKeys(settings, store)


def _record(age: timedelta) -> Record:
    return Record(fingerprint="f", status_code=202, body={"id": "a"}, created_at=utcnow() - age)


def test_records_are_found_for_a_day_and_older_days_are_purged(keys):
    fresh, last_night, stale = (keys.scope(API_KEY, k) for k in ("fresh", "night", "stale"))
    keys.save(fresh, _record(timedelta(minutes=5)))
    keys.save(last_night, _record(timedelta(hours=23)))
    keys.save(stale, _record(timedelta(hours=49)))
    assert keys.find(fresh) is not None and keys.find(last_night) is not None
    assert keys.find(stale) is None  # too old to be read, whichever day it is in

    purged = keys.purge(utcnow())
    assert purged == [(utcnow() - timedelta(hours=49)).strftime("%Y-%m-%d")]
    assert keys.purge(utcnow()) == []  # today's and yesterday's days stay
    assert keys.find(fresh) is not None and keys.find(last_night) is not None


def test_forget_removes_the_record(keys):
    scope = keys.scope(API_KEY, "k")
    keys.save(scope, _record(timedelta(0)))
    keys.forget(scope)
    assert keys.find(scope) is None
