"""A small client of the host agent: JSON over HTTP/1.1 on its Unix socket.

One short connection per request (a Unix-socket connect costs microseconds), so one client may
be shared by threads. Failures become the RAPI error family the Ganeti driver raises too:
`ClusterUnreachable` when the socket is missing, refused or times out, and `BadRequest`,
`NotFound`, `Conflict`, `ServiceUnavailable` for the agent's 400/404/409/503 answers.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

from backend_ganeti.rapi.errors import ClusterUnreachable, error_for

# The agent caps a long-poll at 30 s; reads must outlast it.
WAIT_SLACK_SECONDS = 10.0
# Disk bytes are read from the agent in pieces of this size.
DATA_CHUNK = 1024 * 1024


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over an AF_UNIX stream socket."""

    def __init__(self, path: str, *, timeout: float) -> None:
        """`path` is the socket file; the Host header says `localhost`."""
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        """Connect to the socket file instead of a TCP address."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class HostClient:
    """Requests to one host agent; `cluster` names it in error messages."""

    def __init__(self, socket_path: str, *, timeout: float = 15.0, cluster: str = "") -> None:
        """`timeout` bounds connect and each read (long-polls add their own wait)."""
        self.socket_path = socket_path
        self.timeout = timeout
        self.cluster = cluster or "libvirt-host"

    def __repr__(self) -> str:
        """Identify the socket."""
        return f"HostClient(socket_path={self.socket_path!r})"

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        query: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """One exchange; returns the decoded JSON answer or raises a RapiError subclass."""
        target = quote(path) + (f"?{urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn = UnixHTTPConnection(self.socket_path, timeout=timeout or self.timeout)
        try:
            conn.request(method, target, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            reason = type(exc).__name__
            raise ClusterUnreachable(
                f"cannot reach the libvirt host agent at {self.socket_path} ({reason})", cluster=self.cluster
            ) from None
        finally:
            conn.close()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            raise error_for(
                response.status, "the host agent answered with invalid JSON", cluster=self.cluster
            ) from None
        if response.status >= 400:
            message = payload.get("message", response.reason) if isinstance(payload, dict) else response.reason
            raise error_for(response.status, str(message), cluster=self.cluster)
        return payload

    def _unreachable(self, exc: BaseException) -> ClusterUnreachable:
        reason = type(exc).__name__
        return ClusterUnreachable(
            f"cannot reach the libvirt host agent at {self.socket_path} ({reason})", cluster=self.cluster
        )

    def _raise_for(self, response: http.client.HTTPResponse) -> None:
        """Raise the RAPI error of an answer >= 400 (its JSON body read for the message)."""
        raw = response.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        message = payload.get("message", response.reason) if isinstance(payload, dict) else response.reason
        raise error_for(response.status, str(message), cluster=self.cluster)

    def stream(self, path: str) -> tuple[int, Iterator[bytes]]:
        """GET raw bytes: their length (Content-Length) and a generator of pieces that closes the connection."""
        conn = UnixHTTPConnection(self.socket_path, timeout=self.timeout)
        try:
            conn.request("GET", quote(path), headers={"Accept": "application/octet-stream"})
            response = conn.getresponse()
            if response.status >= 400:
                self._raise_for(response)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise self._unreachable(exc) from None
        except BaseException:
            conn.close()
            raise
        size = int(response.getheader("Content-Length") or 0)

        def pieces() -> Iterator[bytes]:
            remaining = size
            try:
                while remaining > 0:
                    try:
                        piece = response.read(min(DATA_CHUNK, remaining))
                    except (OSError, http.client.HTTPException) as exc:
                        raise self._unreachable(exc) from None
                    if not piece:
                        raise ClusterUnreachable(
                            f"the libvirt host agent at {self.socket_path} ended the disk data early "
                            f"({size - remaining} of {size} bytes)",
                            cluster=self.cluster,
                        )
                    remaining -= len(piece)
                    yield piece
            finally:
                conn.close()

        return size, pieces()

    def upload(self, path: str, chunks: Iterable[bytes], *, size: int) -> Any:
        """PUT exactly `size` raw bytes from `chunks` (Content-Length: size); returns the JSON answer."""
        conn = UnixHTTPConnection(self.socket_path, timeout=self.timeout)
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
            "Accept": "application/json",
        }
        try:
            conn.putrequest("PUT", quote(path))
            for key, value in headers.items():
                conn.putheader(key, value)
            conn.endheaders()
            sent = 0
            try:
                for piece in chunks:
                    if sent + len(piece) > size:
                        raise ValueError(f"more than the announced {size} bytes to write")
                    conn.send(piece)
                    sent += len(piece)
            except OSError:
                # The agent refused the request before reading the body (and closed): its answer says why.
                response = conn.getresponse()
                if response.status >= 400:
                    self._raise_for(response)
                raise
            if sent != size:
                raise ValueError(f"only {sent} of the announced {size} bytes to write")
            response = conn.getresponse()
            if response.status >= 400:
                self._raise_for(response)
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc) from None
        finally:
            conn.close()
        return json.loads(raw) if raw else None

    def get(self, path: str, **query: Any) -> Any:
        """GET `path` with optional query parameters."""
        return self.request("GET", path, query=query or None)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST a JSON body."""
        return self.request("POST", path, body or {})

    def delete(self, path: str) -> Any:
        """DELETE `path`."""
        return self.request("DELETE", path)

    def submit(self, method: str, path: str, body: dict[str, Any] | None = None) -> str:
        """A write: returns the job id as a string."""
        answer = self.request(method, path, body if method != "DELETE" else None)
        return str(answer["job_id"])

    def wait_job(
        self, job_id: str, *, serial: int, status: str | None, progress: int | None, timeout: float
    ) -> dict[str, Any]:
        """Long-poll `/jobs/ID/wait` until the job changes or `timeout` passes."""
        query: dict[str, Any] = {"serial": serial, "timeout": f"{timeout:g}"}
        if status is not None:
            query["status"] = status
        query["progress"] = -1 if progress is None else progress
        return self.request(
            "GET", f"/jobs/{job_id}/wait", query=query, timeout=max(self.timeout, timeout + WAIT_SLACK_SECONDS)
        )
