"""The embedded broker transport (portal/broker.py): consumers woken at once, whole messages only."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection

from portal import broker

# A poll this slow makes a message that arrives quickly proof of the wake-up.
SLOW_POLL = 5.0


def connection(root: Path, *, poll: float = SLOW_POLL) -> Connection:
    """A kombu connection on `root`'s queue folders through the portal's transport."""
    options = {
        "data_folder_in": str(root / "queue"),
        "data_folder_out": str(root / "queue"),
        "processed_folder": str(root / "processed"),
        "control_folder": str(root / "control"),
        "store_processed": False,
        "polling_interval": poll,
    }
    for name in ("queue", "processed", "control"):
        (root / name).mkdir(exist_ok=True)
    return Connection("filesystem://", transport="portal.broker:Transport", transport_options=options)


def name_of(root: Path) -> str:
    """A queue name of this test alone (kombu keeps declared exchanges per process)."""
    return f"jobs-{root.name}"


def test_settings_use_the_transport_for_the_filesystem_broker_only(settings):
    # The embedded default (filesystem) gets this transport; a real broker (CI's RabbitMQ) keeps kombu's.
    transport = getattr(settings, "CELERY_BROKER_TRANSPORT", None)
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        assert transport == "portal.broker:Transport"
    else:
        assert transport is None


def test_waiting_consumer_gets_a_message_long_before_its_poll(tmp_path):
    with connection(tmp_path) as consumer_conn, connection(tmp_path) as producer_conn:
        queue = consumer_conn.SimpleQueue(name_of(tmp_path))
        got: list[tuple[object, float]] = []

        def consume() -> None:
            message = queue.get(block=True, timeout=SLOW_POLL * 2)
            got.append((message.payload, time.monotonic()))
            message.ack()

        thread = threading.Thread(target=consume)
        thread.start()
        time.sleep(0.3)  # the consumer found the queue empty and waits
        sent = time.monotonic()
        producer_conn.SimpleQueue(name_of(tmp_path)).put({"job": 7})
        thread.join(SLOW_POLL * 3)
        queue.close()
    assert got and got[0][0] == {"job": 7}
    assert got[0][1] - sent < 1.0  # the wake-up, not the 5 s poll
    assert not list((tmp_path / "control" / broker.WAKE_FOLDER).glob("*.sock"))  # closed: socket removed


def test_message_being_written_is_invisible_and_published_messages_are_whole(tmp_path):
    queue_dir = tmp_path / "queue"
    with connection(tmp_path, poll=0.05) as conn:
        queue = conn.SimpleQueue(name_of(tmp_path))
        partial = queue_dir / f"1_abc.{name_of(tmp_path)}.msg{broker.PARTIAL_SUFFIX}"
        partial.write_bytes(b'{"body": ')  # a publisher half way through its write
        with pytest.raises(Empty):
            queue.get(block=True, timeout=0.3)
        assert partial.exists()
        queue.put({"n": 1})
        assert not [p for p in queue_dir.iterdir() if p != partial and p.name.endswith(broker.PARTIAL_SUFFIX)]
        message = queue.get(block=True, timeout=2)
        assert message.payload == {"n": 1}
        message.ack()
        queue.close()


def test_wake_removes_sockets_of_dead_consumers_and_counts_live_ones(tmp_path):
    folder = tmp_path / "wake"
    live = broker.Waker(folder)
    dead_path = folder / f"999999-dead{broker.SOCKET_SUFFIX}"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(dead_path))
    dead.close()  # the process died without removing its socket
    try:
        assert broker.wake_consumers(folder) == 1
        assert not dead_path.exists() and live.path.exists()
        assert live.wait(0.0) is True and live.wait(0.0) is False  # one wake-up, drained
    finally:
        live.close()
    assert not live.path.exists()
    assert broker.wake_consumers(tmp_path / "missing") == 0


def test_consumer_without_a_socket_falls_back_to_polling(tmp_path, monkeypatch):
    def refuse(folder: Path) -> broker.Waker:
        raise OSError(os.strerror(36))

    monkeypatch.setattr(broker, "Waker", refuse)
    with connection(tmp_path, poll=0.05) as conn:
        queue = conn.SimpleQueue(name_of(tmp_path))
        queue.put({"n": 2})
        message = queue.get(block=True, timeout=2)
        assert message.payload == {"n": 2}
        message.ack()
        with pytest.raises(Empty):
            queue.get(block=True, timeout=0.2)
        queue.close()
