"""The per-asset lock: one holder at a time, released when the holder dies."""

import multiprocessing
import time

import pytest

from ingest_worker.queue.locks import asset_lock
from shared.settings import Settings


def _hold_then_die(settings: Settings, ready) -> None:
    with asset_lock(settings, "a" * 21) as held:
        assert held
        ready.set()
        time.sleep(60)  # killed long before this ends


@pytest.mark.parametrize("mode", ["embedded", "redis"])
def test_one_holder_and_release_on_death(mode, tmp_path, request):
    settings = Settings(data_dir=tmp_path)
    if mode == "redis":
        settings.broker_url = request.getfixturevalue("redis_url")
        settings.asset_lock_seconds = 2
    with asset_lock(settings, "a" * 21) as first:
        assert first
        with asset_lock(settings, "a" * 21) as second:
            assert not second
        with asset_lock(settings, "b" * 21) as other:
            assert other  # other assets are not blocked
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_then_die, args=(settings, ready))
    holder.start()
    assert ready.wait(10)
    with asset_lock(settings, "a" * 21) as while_alive:
        assert not while_alive
    holder.kill()  # -9: no chance to release
    holder.join()
    deadline = time.monotonic() + 10
    got = False
    while not got and time.monotonic() < deadline:
        with asset_lock(settings, "a" * 21) as got:
            pass
        time.sleep(0.2)
    assert got  # flock dies with the process; the Redis lock's TTL runs out
