"""The embedded Celery broker: kombu's filesystem transport, published atomically, consumers woken at once.

`make demo` queues Celery messages as files under $PORTAL_DATA_DIR/broker (no broker server to
run). kombu's own filesystem transport costs every task two things this one removes:

- an idle consumer sees a new message only at its next poll (every `polling_interval`, 0.1 s
  here: 50 ms on average before each job watcher starts). Here every consumer binds a Unix
  datagram socket in the wake folder (`<control_folder>/wake/`), and a publisher sends one byte
  to each socket after it queued a message: a consumer with nothing to read waits on its socket
  instead of sleeping, and reads the message at once. The poll stays as the fallback (a wake-up
  is never needed for correctness, only for speed), and it still notices freed prefetch slots.
- a message is written in place, so a consumer polling while its publisher is between creating
  the file and writing it moves and reads an empty or partial file (the worker stops on the
  JSON error). Here a message is written under a temporary name the consumers ignore and
  renamed into the queue folder: a consumer sees a whole message or none.

Settings: `CELERY_BROKER_TRANSPORT = "portal.broker:Transport"` with the filesystem broker URL
and its transport options (portal/settings.py); a publisher with no consumer bound (a one-off
command) simply finds no socket to wake.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
import time
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Any

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

log = logging.getLogger(__name__)

# Suffix of a message being written: `<name>.<queue>.msg.part` never matches `<queue>.msg`,
# the name pattern kombu's consumer reads.
PARTIAL_SUFFIX = ".part"
WAKE_FOLDER = "wake"
SOCKET_SUFFIX = ".sock"
# The fallback poll when the transport options set none (kombu's own default).
DEFAULT_POLL_SECONDS = 1.0


def wake_folder(options: dict[str, Any]) -> Path:
    """Where consumers bind their wake-up sockets: `wake_folder`, else `<control_folder>/wake`."""
    configured = options.get("wake_folder")
    return Path(configured) if configured else Path(options.get("control_folder", "control")) / WAKE_FOLDER


def wake_consumers(folder: Path) -> int:
    """Send one byte to every consumer socket in `folder`; returns how many were reached.

    A socket nobody listens on any more (its process died) is removed; a full socket buffer is
    ignored (that consumer has wake-ups pending already).
    """
    try:
        names = [name for name in os.listdir(folder) if name.endswith(SOCKET_SUFFIX)]
    except FileNotFoundError:
        return 0
    reached = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for name in names:
            path = folder / name
            try:
                sender.sendto(b"1", str(path))
                reached += 1
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(OSError):
                    path.unlink()
            except BlockingIOError:
                reached += 1
            except OSError:  # e.g. a path too long for AF_UNIX: the poll still finds the message
                continue
    return reached


class Waker:
    """A consumer's wake-up socket: bound once, waited on between empty polls, removed on close."""

    def __init__(self, folder: Path) -> None:
        """Bind a datagram socket named after this process in `folder` (created if missing)."""
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}{SOCKET_SUFFIX}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sock.bind(str(self.path))
        self.poller = select.poll()  # not select.select: no limit on the descriptor's number
        self.poller.register(self.sock, select.POLLIN)

    def wait(self, timeout: float) -> bool:
        """Until a publisher wakes us or `timeout` passes; True if woken. Pending wake-ups are
        drained, so one poll answers all the messages published before it."""
        if not self.poller.poll(max(timeout, 0.0) * 1000):
            return False
        with contextlib.suppress(BlockingIOError):
            while self.sock.recv(64):
                pass
        return True

    def close(self) -> None:
        """Close and remove the socket."""
        self.sock.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


class Sleeper:
    """The fallback when no socket can be bound: wait the whole interval, as kombu does."""

    def wait(self, timeout: float) -> bool:
        """Sleep `timeout` seconds; never woken."""
        time.sleep(max(timeout, 0.0))
        return False

    def close(self) -> None:
        """Nothing to release."""


class Channel(filesystem.Channel):
    """kombu's filesystem channel with atomic publishing and a wake-up of the consumers."""

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        """Write the message under a temporary name, rename it into the queue, wake the consumers."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL_SUFFIX
        try:
            with open(partial, "wb", buffering=0) as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc
        wake_consumers(wake_folder(self.transport_options))


class Transport(filesystem.Transport):
    """kombu's filesystem transport whose consumers wait on a wake-up socket between empty polls."""

    Channel = Channel

    def __init__(self, client: Any, **kwargs: Any) -> None:
        """As kombu's; the wake-up socket is bound by the first `drain_events`."""
        super().__init__(client, **kwargs)
        self._waker: Waker | Sleeper | None = None
        self._waker_lock = threading.Lock()

    def waker(self) -> Waker | Sleeper:
        """This consumer's wake-up socket (bound on first use); a plain sleep if it cannot be bound."""
        with self._waker_lock:
            if self._waker is None:
                folder = wake_folder(self.client.transport_options or {})
                try:
                    self._waker = Waker(folder)
                except OSError as exc:  # e.g. a data dir path too long for a Unix socket
                    log.warning("broker: no wake-up socket in %s (%s); polling only", folder, exc)
                    self._waker = Sleeper()
            return self._waker

    def drain_events(self, connection: Any, timeout: float | None = None) -> None:
        """Deliver one message; between empty polls wait on the wake-up socket, not a plain sleep.

        The socket is bound before the first poll, so a message published after a poll found the
        queue empty has its wake-up waiting: the wait returns at once.
        """
        started = monotonic()
        waker = self.waker()
        interval = self.polling_interval if self.polling_interval is not None else DEFAULT_POLL_SECONDS
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
            except Empty:
                waited = monotonic() - started
                if timeout is not None and waited >= timeout:
                    raise TimeoutError from None  # socket.timeout, which Celery's loops expect
                waker.wait(interval if timeout is None else min(interval, timeout - waited))
            else:
                return

    def close_connection(self, connection: Any) -> None:
        """Close the channels as kombu does, then remove the wake-up socket."""
        super().close_connection(connection)
        with self._waker_lock:
            if self._waker is not None:
                self._waker.close()
                self._waker = None
