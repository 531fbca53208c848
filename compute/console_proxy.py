"""The console proxy: browsers' websockets to the VNC consoles backend_ganeti reports (as nova-novncproxy).

noVNC on the console page opens `ws://<proxy>/?token=<console token>`. During the opening
handshake the proxy checks the token and asks where the console listens
(`compute.services.consoles.console_endpoint`, in a worker thread: it reads the database and
asks the cluster) and refuses without upgrading: 403 for a bad, expired or stale token, 409 when
the server is not running or its cluster is offline, 503 on a cluster error or when
`max_connections` are already open. Accepted, it opens TCP to the console and relays bytes both
ways (binary frames) until either side closes, then closes the other.

Tokens never reach the logs: connections are named by server id, and the websockets library,
whose DEBUG lines carry the request line, logs through a logger held at INFO.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from django.db import connections
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from backend_ganeti.errors import ClusterError, ClusterOffline
from compute.services import consoles
from portal.errors import InvalidState, NotFound

log = logging.getLogger(__name__)
_ws_log = logging.getLogger(f"{__name__}.websockets")
# The library's DEBUG output includes `GET /?token=...`: that level never passes here.
_ws_log.setLevel(logging.INFO)

CHUNK = 64 * 1024
# A browser's RFB messages are small (input events, update requests); big frames are abuse.
MAX_FRAME = 1024 * 1024


@dataclass(frozen=True)
class Target:
    """Where one console listens, and what the logs call it (never the token)."""

    host: str
    port: int
    label: str


class Refused(Exception):
    """The handshake is refused with an HTTP status and a short reason (no token in it)."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


Resolver = Callable[[str], Target]


def resolve_token(token: str) -> Target:
    """Check a console token and ask where its console listens now (blocking: database, cluster)."""
    try:
        server, info = consoles.console_endpoint(token)
    except NotFound as exc:
        raise Refused(HTTPStatus.FORBIDDEN, exc.message) from None
    except (InvalidState, ClusterOffline) as exc:
        raise Refused(HTTPStatus.CONFLICT, exc.message) from None
    except ClusterError as exc:
        raise Refused(HTTPStatus.SERVICE_UNAVAILABLE, exc.message) from None
    finally:
        # This runs in a pool thread that no request cycle cleans up after.
        connections.close_all()
    if info.port <= 0:
        raise Refused(HTTPStatus.CONFLICT, f"The console of server {server.pk} has no port yet.")
    return Target(info.host, info.port, f"server {server.pk}")


def _binary_if_offered(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """websockify's `binary` subprotocol when a client asks for it; noVNC asks for none."""
    return Subprotocol("binary") if "binary" in offered else None


def token_of(request: Request) -> str | None:
    """The single `token` query parameter of the request, else None.

    Any path is accepted: a reverse proxy may publish the proxy under a prefix
    (PORTAL_CONSOLE_URL=wss://portal.example.org/console).
    """
    tokens = parse_qs(urlsplit(request.path).query).get("token", [])
    return tokens[0] if len(tokens) == 1 and tokens[0] else None


class ConsoleProxy:
    """Accepts console websockets and relays each to its console's TCP port."""

    def __init__(
        self,
        resolve: Resolver = resolve_token,
        *,
        max_connections: int = 100,
        connect_timeout: float = 5.0,
        check_threads: int = 4,
    ) -> None:
        self._resolve = resolve
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self._executor = ThreadPoolExecutor(max_workers=check_threads, thread_name_prefix="console-check")
        # One entry per admitted connection: None while its token is checked, then its target.
        self._slots: dict[ServerConnection, Target | None] = {}

    @property
    def active(self) -> int:
        """Connections admitted and not finished (being checked, or relaying)."""
        return len(self._slots)

    def serve(self, host: str, port: int) -> serve:
        """The websocket server (an async context manager) listening on host:port."""
        return serve(
            self._relay_connection,
            host,
            port,
            process_request=self._admit,
            process_response=self._release_refused,
            select_subprotocol=_binary_if_offered,
            compression=None,  # RFB data is compressed already, or tiny
            max_size=MAX_FRAME,
            logger=_ws_log,
        )

    def close(self) -> None:
        """Stop the token-check threads (after the server has closed)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """Handshake check: capacity, then the token; an HTTP refusal, or None to upgrade."""
        token = token_of(request)
        if token is None:
            return connection.respond(HTTPStatus.FORBIDDEN, "A console token is required.\n")
        if self.active >= self.max_connections:
            log.warning("console refused: %d connections already open", self.active)
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "Too many console connections.\n")
        self._slots[connection] = None
        try:
            target = await asyncio.get_running_loop().run_in_executor(self._executor, self._resolve, token)
        except Refused as exc:
            self._slots.pop(connection, None)
            log.info("console refused (%d): %s", exc.status, exc.reason)
            return connection.respond(exc.status, f"{exc.reason}\n")
        except BaseException:
            # A handshake timeout cancels us, a database error ends in a 500: free the slot.
            self._slots.pop(connection, None)
            raise
        self._slots[connection] = target
        return None

    def _release_refused(self, connection: ServerConnection, request: Request, response: Response) -> None:
        """A handshake that does not upgrade (refused, or not a websocket request) frees its slot."""
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:
            self._slots.pop(connection, None)

    async def _relay_connection(self, connection: ServerConnection) -> None:
        """Open TCP to the console, relay both ways, close both sides."""
        target = self._slots.get(connection)
        try:
            if target is None:  # admitted without a check cannot happen; refuse rather than guess
                await connection.close(CloseCode.INTERNAL_ERROR, "no console")
                return
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(target.host, target.port), self.connect_timeout
                )
            except (OSError, TimeoutError) as exc:
                log.warning("console of %s at %s:%d unreachable: %s", target.label, target.host, target.port, exc)
                await connection.close(CloseCode.TRY_AGAIN_LATER, "console unreachable")
                return
            log.info("console of %s opened (%s:%d, %d active)", target.label, target.host, target.port, self.active)
            try:
                sent, received = await self._pipe(connection, reader, writer)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            log.info("console of %s closed (%d bytes to it, %d from it)", target.label, sent, received)
        finally:
            self._slots.pop(connection, None)

    async def _pipe(
        self, connection: ServerConnection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[int, int]:
        """Relay until one side ends; returns the bytes sent to and received from the console."""
        counts = [0, 0]

        async def browser_to_console() -> None:
            async for message in connection:
                if isinstance(message, str):
                    await connection.close(CloseCode.UNSUPPORTED_DATA, "binary frames only")
                    return
                writer.write(message)
                counts[0] += len(message)
                await writer.drain()

        async def console_to_browser() -> None:
            while chunk := await reader.read(CHUNK):
                counts[1] += len(chunk)
                await connection.send(chunk)

        upstream = asyncio.create_task(browser_to_console())
        downstream = asyncio.create_task(console_to_browser())
        done, pending = await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            error = task.exception()
            # Either peer going away, politely or not, is the normal end of a console session.
            if error is not None and not isinstance(error, (ConnectionClosed, OSError)):
                raise error
        if downstream in done:
            await connection.close(CloseCode.NORMAL_CLOSURE, "console closed")
        return counts[0], counts[1]


async def run(proxy: ConsoleProxy, host: str, port: int, *, stop: asyncio.Event | None = None) -> None:
    """Serve until `stop` is set, or SIGTERM/SIGINT; open consoles are closed with 1001 (going away)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    try:
        async with proxy.serve(host, port) as server:
            log.info("console proxy listening on %s", ", ".join(_addresses(server)))
            await stop.wait()
    finally:
        proxy.close()


def _addresses(server: Server) -> list[str]:
    """`ws://host:port` of each listening socket."""
    found = []
    for sock in server.sockets:
        host, port = sock.getsockname()[:2]
        found.append(f"ws://[{host}]:{port}" if ":" in host else f"ws://{host}:{port}")
    return found
