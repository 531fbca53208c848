"""A tiny scripted HTTP server on 127.0.0.1 standing in for RAPI in unit tests.

Tests queue responses per (method, path); every request (method, path, query, headers, JSON
body) is recorded so tests can assert what the client sent.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class FakeRapi:
    """Scripted responses keyed by (method, path); unscripted requests get 404 like RAPI."""

    def __init__(self) -> None:
        self.responses: dict[tuple[str, str], deque] = defaultdict(deque)
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            """Answers from the fake's queue."""

            def log_message(self, *args: Any) -> None:
                """Keep test output quiet."""

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                fake.requests.append(
                    {
                        "method": self.command,
                        "path": parts.path,
                        "query": parse_qs(parts.query),
                        "headers": dict(self.headers),
                        "body": json.loads(raw) if raw else None,
                    }
                )
                queue = fake.responses.get((self.command, parts.path))
                status, payload = queue.popleft() if queue else (404, {"code": 404, "message": "Not Found"})
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the fake."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, method: str, path: str, payload: Any, status: int = 200) -> None:
        """Queue one response."""
        self.responses[(method, path)].append((status, payload))

    def start(self) -> FakeRapi:
        """Serve in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down."""
        self.server.shutdown()
        self.server.server_close()
