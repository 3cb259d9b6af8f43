"""The embedded broker's transport: message files appear whole or not at all."""

import logging
import os
import subprocess
import sys
import threading
import time

import pytest
from kombu import Connection
from kombu.transport.virtual import BrokerState

from ingest_worker.queue import fs_broker


@pytest.fixture(autouse=True)
def fresh_broker_state(monkeypatch):
    """kombu keeps declared bindings in one state per process (a broker has one folder);
    each test here has folders of its own, so each gets a state of its own."""
    monkeypatch.setattr(fs_broker.Transport, "global_state", BrokerState())


def _connection(folder, scheme: str = fs_broker.SCHEME) -> Connection:
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(folder / "control"),
    }
    return Connection(f"{scheme}://", transport_options=options)


def test_messages_written_while_a_consumer_polls_all_arrive_once(tmp_path):
    """4 producers and a consumer polling flat out on a fresh folder: every message arrives,
    once. kombu's own filesystem transport here raises JSONDecodeError (a file or exchange
    table read mid-write) or silently drops the first messages of a thread that published
    before the binding another thread was writing reached the table."""
    producers, per_producer = 4, 500
    received: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def consume() -> None:
        with _connection(tmp_path) as conn:
            queue = conn.SimpleQueue("ingest")
            try:
                while len(received) < producers * per_producer and not done.is_set():
                    try:
                        message = queue.get(block=False)
                    except queue.Empty:
                        continue
                    received.append(message.payload["n"])
                    message.ack()
            except BaseException as exc:  # reported by the test below
                errors.append(exc)

    def produce(first: int) -> None:
        with _connection(tmp_path) as conn:
            queue = conn.SimpleQueue("ingest")
            for n in range(first, first + per_producer):
                queue.put({"n": n, "pad": "x" * 2000})  # big enough to be written in parts

    consumer = threading.Thread(target=consume)
    consumer.start()
    threads = [threading.Thread(target=produce, args=(i * per_producer,)) for i in range(producers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    consumer.join(60)
    done.set()
    assert not errors, errors
    assert sorted(received) == list(range(producers * per_producer))


def test_processes_starting_together_all_see_a_whole_exchange_table(tmp_path):
    """The first binds of a fresh data folder race to create the table file; a reader must
    never find it empty (kombu's own transport: JSONDecodeError in `get_table`)."""
    for attempt in range(20):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        fs_broker.Transport.global_state = BrokerState()  # a fresh start, as in a new process
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def bind_and_read(name: str, folder=folder, errors=errors, start=start) -> None:
            try:
                with _connection(folder) as conn:
                    channel = conn.default_channel
                    start.wait()
                    channel.exchange_declare("jobs", "direct")
                    channel.queue_declare(name)
                    channel.queue_bind(name, "jobs", name)
                    channel.get_table("jobs")
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=bind_and_read, args=(f"q{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        with _connection(folder) as conn:
            bound = {row.queue for row in conn.default_channel.get_table("jobs")}
        assert bound == {"q0", "q1", "q2", "q3"}


def test_a_file_being_written_is_left_alone(tmp_path):
    partial = tmp_path / "1_abc.ingest.msg.part"
    partial.write_bytes(b'{"body": "half')
    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("ingest")
        with pytest.raises(queue.Empty):
            queue.get(block=False)
    assert partial.read_bytes() == b'{"body": "half'


def test_a_half_written_file_left_by_a_dead_writer_is_cleaned_up(tmp_path):
    old, fresh = tmp_path / "1_a.ingest.msg.part", tmp_path / "2_b.ingest.msg.part"
    for path in (old, fresh):
        path.write_bytes(b'{"body": "half')
    os.utime(old, (time.time() - 120, time.time() - 120))
    with _connection(tmp_path) as conn:
        assert conn.default_channel is not None  # opening a channel tidies the folder
    assert not old.exists() and fresh.exists()  # a write in progress is left alone


def test_an_undecodable_message_file_is_dropped_not_fatal(tmp_path, caplog):
    (tmp_path / "0_empty.ingest.msg").write_bytes(b"")
    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("ingest")
        queue.put({"n": 1})
        with caplog.at_level(logging.ERROR, logger=fs_broker.__name__):
            message = queue.get(block=False)
        message.ack()
    assert message.payload == {"n": 1}
    assert "undecodable message file" in caplog.text
    assert not list(tmp_path.glob("*.msg"))


_CONSUMER = """
import sys, time
from kombu import Connection
from ingest_worker.queue import fs_broker
folder = sys.argv[1]
options = {"data_folder_in": folder, "data_folder_out": folder,
           "control_folder": folder + "/control"}
with Connection(f"{fs_broker.SCHEME}://", transport_options=options) as conn:
    message = conn.SimpleQueue("ingest").get(timeout=10)
    print(message.payload["n"], flush=True)  # taken, never acked: the worker dies mid-task
    time.sleep(60)
"""


def _taken_by_a_consumer_that_dies(folder, n: int) -> None:
    with _connection(folder) as conn:
        conn.SimpleQueue("ingest").put({"n": n})
    consumer = subprocess.Popen(
        [sys.executable, "-c", _CONSUMER, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert consumer.stdout.readline().strip() == str(n)
    assert not list(folder.glob("*.msg"))  # it is out of the queue while being worked on
    consumer.kill()
    consumer.wait()


def test_a_message_taken_by_a_consumer_that_dies_is_delivered_again(tmp_path):
    _taken_by_a_consumer_that_dies(tmp_path, 7)
    with _connection(tmp_path) as conn:  # e.g. the restarted worker's
        queue = conn.SimpleQueue("ingest")
        message = queue.get(block=False)
        assert message.payload == {"n": 7}
        message.ack()
        with pytest.raises(queue.Empty):
            queue.get(block=False)
    assert not [p for p in (tmp_path / "inflight").rglob("*") if p.is_file()]


def test_a_dead_consumers_messages_come_back_even_when_its_pid_is_reused(tmp_path):
    _taken_by_a_consumer_that_dies(tmp_path, 8)
    # The kernel hands the dead consumer's pid to a new process: here, a sleeper's pid
    # with the consumer's start time stands for that.
    (held,) = (tmp_path / "inflight").iterdir()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        start = held.name.partition("-")[2]
        assert start and start != fs_broker._start_ticks(sleeper.pid)
        held.rename(held.with_name(f"{sleeper.pid}-{start}"))
        with _connection(tmp_path) as conn:
            message = conn.SimpleQueue("ingest").get(block=False)
            assert message.payload == {"n": 8}
            message.ack()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_acked_and_requeued_messages_leave_nothing_in_flight(tmp_path):
    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("ingest")
        queue.put({"n": 1})
        queue.put({"n": 2})
        first = queue.get(block=False)
        first.ack()
        second = queue.get(block=False)
        second.requeue()
        again = queue.get(block=False)
        # The requeued message comes back (order within one millisecond is kombu's uuid's).
        assert again.payload == second.payload and first.payload != second.payload
        held = [p for p in (tmp_path / "inflight").rglob("*") if p.is_file()]
        assert len(held) == 1  # `again`, until acked
        again.ack()
    assert not [p for p in (tmp_path / "inflight").rglob("*") if p.is_file()]
    assert not list(tmp_path.glob("*.msg"))
