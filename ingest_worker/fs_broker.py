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
"""

import logging
import os
import threading
import uuid
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

log = logging.getLogger(__name__)

SCHEME = "picsha-fs"
_PARTIAL = ".part"  # "{ts}_{uuid}.{queue}.msg.part": the consumer's queue match skips it
# kombu records a binding in state that all of a process's connections share *before* it
# writes the exchange table file; a thread that sees "bound" meanwhile publishes against a
# table that is not there yet, and the message is silently dropped. One bind at a time.
_BINDING = threading.Lock()


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: dict, **kwargs: object) -> None:
        tmp = os.path.join(self.data_folder_out, f"{self._message_name(queue)}{_PARTIAL}")
        try:
            with open(tmp, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(tmp, tmp.removesuffix(_PARTIAL))  # atomic within one folder
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {tmp!r} to directory") from exc

    def _get(self, queue: str) -> dict:
        while True:  # each failed attempt has consumed (removed) its file: no loop forever
            try:
                return super()._get(queue)
            except ValueError as exc:
                log.error("dropped an undecodable message file from queue %s: %s", queue, exc)

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


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES[SCHEME] = f"{__name__}:Transport"
