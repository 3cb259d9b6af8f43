"""One run per asset at a time: a per-asset lock that dies with its holder.

Embedded mode: an flock on a file (the kernel drops it when the process dies). Redis mode:
a Redis lock with a short TTL kept alive by a heartbeat thread, so a worker killed with -9
stops blocking the asset within `asset_lock_seconds`.
"""

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from shared.settings import Settings


@contextmanager
def asset_lock(settings: Settings, asset_id: str) -> Iterator[bool]:
    """Yields True when this process holds the asset, False when another run does."""
    if settings.embedded_broker:
        with _file_lock(settings, asset_id) as held:
            yield held
    else:
        with _redis_lock(settings, asset_id) as held:
            yield held


@contextmanager
def _file_lock(settings: Settings, asset_id: str) -> Iterator[bool]:
    folder = settings.data_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{asset_id}.lock"
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            # The file stays: unlinking it would let a second process lock a new inode
            # while a third still holds the old one.
            fcntl.flock(handle, fcntl.LOCK_UN)


_clients: dict[str, redis.Redis] = {}


@contextmanager
def _redis_lock(settings: Settings, asset_id: str) -> Iterator[bool]:
    client = _clients.get(settings.broker_url)
    if client is None:
        timeout = settings.broker_timeout_seconds  # a hung Redis must not hang the caller
        client = _clients[settings.broker_url] = redis.Redis.from_url(
            settings.broker_url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
    ttl = settings.asset_lock_seconds
    lock = client.lock(f"picsha:lock:{asset_id}", timeout=ttl)
    if not lock.acquire(blocking=False):
        yield False
        return
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(ttl / 3):
            try:
                lock.reacquire()
            except Exception:  # lost it (expired, Redis away): the run goes on idempotently
                return

    beat = threading.Thread(target=heartbeat, name=f"lock-{asset_id}", daemon=True)
    beat.start()
    try:
        yield True
    finally:
        stop.set()
        beat.join()
        with contextlib.suppress(Exception):  # expired or Redis gone: nothing to release
            lock.release()
