"""Loopback stand-ins for the console tests: a tiny RFB (VNC) server and the proxy in a thread.

`FakeRfbServer` speaks RFB 3.8 up to ServerInit (security type None, a small framebuffer), then
records what the client sends; it counts the TCP connections it accepted, so a test can assert
that a refused token never reached it. `ProxyThread` runs a `ConsoleProxy` on a free loopback
port in its own event loop. Both listen on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable

from compute.console_proxy import ConsoleProxy

BANNER = b"RFB 003.008\n"
# 32 bpp, depth 24, little endian, true colour, 8 bits per channel (red at 16, green 8, blue 0).
PIXEL_FORMAT = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)


def server_init(width: int, height: int, name: bytes) -> bytes:
    """The RFB ServerInit message."""
    return struct.pack(">HH", width, height) + PIXEL_FORMAT + struct.pack(">I", len(name)) + name


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll `condition` until it holds or `timeout` passes; its last value."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


class FakeRfbServer:
    """An RFB 3.8 server on 127.0.0.1: handshake (no authentication), then it records input."""

    def __init__(self, width: int = 64, height: int = 48, name: bytes = b"fake-vm") -> None:
        self.init = server_init(width, height, name)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.accepted = 0
        self.client_versions: list[bytes] = []
        self.received = bytearray()
        # Set when a connection ends: the client closed it (or `hang_up`).
        self.closed_by_client = threading.Event()
        self.conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="fake-rfb", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # closed by the test
                return
            with self._lock:
                self.accepted += 1
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _exact(conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                raise ConnectionError("client went away during the handshake")
            data += chunk
        return data

    def _serve(self, conn: socket.socket) -> None:
        try:
            with contextlib.suppress(OSError), conn:
                conn.sendall(BANNER)
                self.client_versions.append(self._exact(conn, 12))
                conn.sendall(b"\x01\x01")  # one security type: None
                self._exact(conn, 1)
                conn.sendall(struct.pack(">I", 0))  # SecurityResult OK
                self._exact(conn, 1)  # ClientInit (shared flag)
                conn.sendall(self.init)
                while chunk := conn.recv(65536):
                    with self._lock:
                        self.received += chunk
        finally:
            self.closed_by_client.set()

    def hang_up(self) -> None:
        """Close every accepted connection (the console goes away)."""
        with self._lock:
            for conn in self.conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Stop listening and drop every connection."""
        self.hang_up()
        # shutdown wakes the accept() blocked in the other thread (close alone would not, and the
        # port would go on accepting until it returns).
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


class ProxyThread:
    """A `ConsoleProxy` serving on a free 127.0.0.1 port from a background event loop."""

    def __init__(self, proxy: ConsoleProxy) -> None:
        self.proxy = proxy
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(),), daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the console proxy did not start")

    @property
    def url(self) -> str:
        """The proxy's websocket base URL."""
        return f"ws://127.0.0.1:{self.port}"

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with self.proxy.serve("127.0.0.1", 0) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()
        self.proxy.close()

    def stop(self) -> None:
        """Close the server (open consoles get 1001) and end the thread."""
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._loop.close()
