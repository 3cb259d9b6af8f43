"""kombu's filesystem transport with atomic message files, for the embedded broker.

Stock kombu (5.7) creates a message file empty and writes it afterwards, while a consumer
takes any `*.msg` file it lists without locking: one polling at the wrong moment reads an
empty or half-written file, `json.loads` raises, and the Celery worker stops with
"Unrecoverable error: JSONDecodeError" — the message is gone with it (celery/kombu#1551;
seen here under `bench/render_vs_thumbor.py`). Here a message is written under a name the
consumer ignores and renamed into place, so it appears whole or not at all; a file that
still cannot be decoded (written by something else) is logged and skipped, never fatal.
Exchange tables (the control folder) had the same create-then-write race, and threads of
one process could publish before their shared binding reached the table (the message was
dropped); the first table is now published whole and binds are serialised.

kombu also deletes a message file when it hands the message out, so a worker killed with
-9 took its jobs with it (until the sweeper, 15 min later). Here a delivered message waits
in `inflight/<consumer pid>-<its start time>/` until it is acked, rejected or restored; any
new channel (the restarted worker's, the API's) puts back the messages of consumers that are
gone — the start time tells a dead consumer from a new process that got its pid.
"""

import contextlib
import logging
import os
import threading
import time
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Any

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

SCHEME = "picsha-fs"
_PARTIAL = ".part"  # "{ts}_{uuid}.{queue}.msg.part": the consumer's queue match skips it
_PARTIAL_STALE_SECONDS = 60
DRAIN_SECONDS = 0.25  # longest wait for a message before the worker looks at a stop request
_INFLIGHT = "inflight"  # <queue folder>/inflight/<consumer pid>-<start>/<message file>
_HELD = "picsha_inflight"  # property naming a delivered message's file until its ack
# kombu records a binding in state that all of a process's connections share *before* it
# writes the exchange table file; a thread that sees "bound" meanwhile publishes against a
# table that is not there yet, and the message is silently dropped. One bind at a time.
_BINDING = threading.Lock()


class Channel(filesystem.Channel):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._no_ack_queues: set[str] = set()
        self._inflight = Path(self.data_folder_in) / _INFLIGHT / _process_tag(os.getpid())
        _restore_orphans(Path(self.data_folder_in))

    def _put(self, queue: str, payload: dict, **kwargs: object) -> None:
        tmp = os.path.join(self.data_folder_out, f"{self._message_name(queue)}{_PARTIAL}")
        try:
            with open(tmp, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(tmp, tmp.removesuffix(_PARTIAL))  # atomic within one folder
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {tmp!r} to directory") from exc

    def _get(self, queue: str) -> dict:
        """The oldest message of `queue`, kept under inflight/<pid>/ until it is acked.

        kombu deletes a message file as it hands it out, so a worker killed mid-task took
        its job with it; kept here, a later channel (the restarted worker's) puts it back.
        """
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            self._inflight.mkdir(parents=True, exist_ok=True)
            held = self._inflight / name
            try:
                os.rename(os.path.join(self.data_folder_in, name), held)  # claim it atomically
            except OSError:
                continue  # another consumer was quicker
            try:
                payload = loads(held.read_bytes())
            except ValueError as exc:
                log.error("dropped an undecodable message file from queue %s: %s", queue, exc)
                held.unlink()
                continue
            if queue in self._no_ack_queues:
                held.unlink()  # nobody will ack it
            else:
                payload["properties"][_HELD] = str(held)
            return payload
        raise Empty()

    def basic_consume(self, queue: str, no_ack: bool, *args: object, **kwargs: object) -> None:
        if no_ack:
            self._no_ack_queues.add(queue)
        super().basic_consume(queue, no_ack, *args, **kwargs)

    def basic_get(self, queue: str, no_ack: bool = False, **kwargs: object) -> object:
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_get(queue, no_ack, **kwargs)

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        held = self._held(delivery_tag)
        super().basic_ack(delivery_tag, multiple)
        _forget(held)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        held = self._held(delivery_tag)  # a requeue writes a new file via _restore
        super().basic_reject(delivery_tag, requeue)
        _forget(held)

    def _restore(self, message: Any) -> None:
        held = message.properties.pop(_HELD, None)
        super()._restore(message)
        _forget(held)

    def _held(self, delivery_tag: str) -> str | None:
        try:
            return self.qos.get(delivery_tag).properties.get(_HELD)
        except KeyError:
            return None

    def queue_bind(self, *args: object, **kwargs: object) -> None:
        with _BINDING:
            super().queue_bind(*args, **kwargs)

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str, queue: str) -> None:
        # kombu also creates an exchange's table file empty and fills it after, so a process
        # starting at the same moment can read "" from it. Publish the first table whole: a
        # hard link appears atomically and fails if another process got there first; later
        # binds take kombu's locked read-modify-write.
        table = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        if not table.exists():
            row = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
            tmp = table.with_name(f"{table.name}.{uuid.uuid4().hex}{_PARTIAL}")
            tmp.write_bytes(str_to_bytes(dumps([row])))
            try:
                os.link(tmp, table)
                return
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        super()._queue_bind(exchange, routing_key, pattern, queue)

    @staticmethod
    def _message_name(queue: str) -> str:
        # kombu's own naming: consumers take files in name (so time) order.
        return f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"


def _forget(held: str | None) -> None:
    if held:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(held)


def _restore_orphans(folder: Path) -> None:
    """Put back the in-flight messages of consumers that died (their pid is gone), and drop
    half-written files that a writer dying mid-write left (a write takes microseconds)."""
    stale = time.time() - _PARTIAL_STALE_SECONDS
    for partial in folder.glob(f"*{_PARTIAL}"):
        with contextlib.suppress(FileNotFoundError):
            if partial.stat().st_mtime < stale:
                partial.unlink()
    root = folder / _INFLIGHT
    if not root.is_dir():
        return
    for owner in root.iterdir():
        if _alive(owner.name):
            continue
        for held in owner.iterdir():
            with contextlib.suppress(FileNotFoundError):  # another process restored it
                os.rename(held, folder / held.name)
                log.warning("restored message %s of dead consumer %s", held.name, owner.name)
        with contextlib.suppress(OSError):
            owner.rmdir()


def _process_tag(pid: int) -> str:
    """`<pid>-<start time>`: a process that gets the pid of a dead one has another tag."""
    return f"{pid}-{_start_ticks(pid)}"


def _start_ticks(pid: int) -> str:
    """Field 22 of /proc/<pid>/stat (clock ticks after boot); "" where there is no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]  # after "(comm)", which may hold spaces


def _alive(tag: str) -> bool:
    pid, _, ticks = tag.partition("-")
    if not pid.isdigit():
        return True  # not ours: leave it alone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not ticks or _start_ticks(int(pid)) in (ticks, "")


class Transport(filesystem.Transport):
    Channel = Channel

    def drain_events(self, connection: object, timeout: float | None = None) -> None:
        # Celery's loop for transports without an event loop (synloop) waits up to 2 s here
        # before it looks at a stop request: `picsha serve` took that long to stop. A short
        # wait costs a few more folder scans, which are cheap.
        if timeout is not None:
            timeout = min(timeout, DRAIN_SECONDS)
        return super().drain_events(connection, timeout=timeout)


TRANSPORT_ALIASES[SCHEME] = f"{__name__}:Transport"
