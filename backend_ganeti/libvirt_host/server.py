"""HTTP/1.1 + JSON over a Unix socket: the stdlib http.server on a threading Unix stream server.

The socket is created with mode 0600 inside the agent's own directory: whoever can open it may
drive the host, so file permissions are the access control (there is no other authentication).
A stale socket left by a killed agent is replaced; a socket another agent still answers on is
not. Errors are answered as `{"code": <status>, "message": ...}`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import stat
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import libvirt

from backend_ganeti.libvirt_host import diskdata
from backend_ganeti.libvirt_host.api import Api
from backend_ganeti.libvirt_host.errors import AgentError, BadRequestError

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024


class SocketInUse(Exception):
    """Another agent answers on the socket path."""


class _Handler(BaseHTTPRequestHandler):
    """Parses one request, calls the Api, writes a JSON answer."""

    protocol_version = "HTTP/1.1"
    server: AgentHTTPServer

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        parsed = urlsplit(self.path)
        data = diskdata.DATA_PATH.fullmatch(unquote(parsed.path).rstrip("/"))
        if data is not None:
            self._disk_data(method, *data.groups())
            return
        status, payload = 200, None
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise _BodyError("request body too large")
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise _BodyError("the request body must be a JSON object")
            query = dict(parse_qsl(parsed.query))
            payload = self.server.api.handle(method, unquote(parsed.path), query, body)
        except (ValueError, _BodyError) as exc:  # json.JSONDecodeError is a ValueError
            status, payload = 400, {"code": 400, "message": f"bad request: {exc}"}
        except AgentError as exc:
            status, payload = exc.status, {"code": exc.status, "message": exc.message}
        except libvirt.libvirtError as exc:
            status, payload = 503, {"code": 503, "message": f"libvirt: {exc.get_error_message() or exc}"}
        self._send(status, payload)

    def _disk_data(self, method: str, name: str, disk: str) -> None:
        """Stream a disk out (GET) or write the body into it (PUT); errors as JSON like any answer."""
        try:
            if method not in ("GET", "PUT"):
                raise BadRequestError(f"{method} is not allowed on disk data (allowed: GET, PUT)")
            target = diskdata.disk_file(self.server.api.host, name, disk)
            if method == "PUT":
                if self.headers.get("Content-Length") is None:
                    raise BadRequestError("writing disk data needs a Content-Length")
                length = int(self.headers["Content-Length"])
                if length < 0:
                    raise BadRequestError("Content-Length must not be negative")
                if length > target.size:
                    self.close_connection = True  # the body is not read
                written = diskdata.write_from(target, self.rfile.read, length)
                self._send(200, {"written": written, "size": target.size})
                return
        except ValueError:
            self.close_connection = True
            self._send(400, {"code": 400, "message": "bad request: Content-Length must be an integer"})
            return
        except AgentError as exc:
            self.close_connection = True
            self._send(exc.status, {"code": exc.status, "message": exc.message})
            return
        except OSError as exc:
            self.close_connection = True
            self._send(503, {"code": 503, "message": f"disk data: {exc.strerror or exc}"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(target.size))
        self.end_headers()
        try:
            for piece in diskdata.read_chunks(target):
                self.wfile.write(piece)
        except OSError as exc:  # the reader went away, or the file could not be read: cut the answer short
            log.warning("disk data of %s/%s cut short: %s", name, disk, exc)
            self.close_connection = True

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def address_string(self) -> str:
        return "unix-socket"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _BodyError(Exception):
    """The request body is not a JSON object of acceptable size."""


class AgentHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """One thread per connection (long-polls block their own thread only)."""

    daemon_threads = True
    block_on_close = False
    # Every job watcher, web worker and the reconciler connect at once under load; with
    # socketserver's default backlog of 5 a Unix-socket connect() then fails at once (EAGAIN).
    request_queue_size = 256

    def __init__(self, path: Path, api: Api) -> None:
        """Bind `path` (mode 0600), replacing a stale socket file."""
        self.api = api
        self.path = path
        _clear_stale_socket(path)
        old_umask = os.umask(0o177)
        try:
            super().__init__(str(path), _Handler)
        finally:
            os.umask(old_umask)

    def server_close(self) -> None:
        """Close the listening socket and remove its file."""
        super().server_close()
        Path(self.path).unlink(missing_ok=True)


def _clear_stale_socket(path: Path) -> None:
    """Remove a socket file nobody answers on; SocketInUse when an agent still listens there."""
    if not path.exists() and not path.is_symlink():
        return
    if not stat.S_ISSOCK(path.lstat().st_mode):
        raise SocketInUse(f"{path} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)
        return
    except OSError as exc:
        raise SocketInUse(f"{path} exists and cannot be probed: {exc}") from None
    finally:
        probe.close()
    raise SocketInUse(f"another host agent is listening on {path}")
