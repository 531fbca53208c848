"""Reading an upload body as a stream: Content-Length bodies and chunked transfer-encoding.

With Content-Length the request's own stream is read. A chunked body is read from `wsgi.input`:
to EOF when the server already decoded it (gunicorn sets `wsgi.input_terminated`), else through
a small decoder of the chunked framing (servers that pass the raw socket).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from django.http import HttpRequest

from objectstore.errors import ClientDisconnect, LengthRequired, NotImplementedByServer
from portal.errors import ValidationFailed

Reader = Callable[[int], bytes]
MAX_CHUNK_LINE = 4096


class ChunkedDecoder:
    """Decodes HTTP/1.1 chunked framing from a raw stream, exposing `read(n)`."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.left = 0
        self.done = False
        self.started = False

    def _next_chunk(self) -> None:
        if self.started:
            self.stream.readline(MAX_CHUNK_LINE)  # the CRLF after the previous chunk's data
        line = self.stream.readline(MAX_CHUNK_LINE)
        if not line:
            if not self.started:
                raise LengthRequired("Length Required")
            raise ClientDisconnect("The chunked body ended early.")
        self.started = True
        try:
            self.left = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise ValidationFailed("Invalid chunked transfer-encoding.") from exc
        if self.left < 0:
            raise ValidationFailed("Invalid chunked transfer-encoding.")
        if self.left == 0:
            self.done = True
            while self.stream.readline(MAX_CHUNK_LINE) not in (b"\r\n", b"\n", b""):
                pass  # trailers

    def read(self, size: int) -> bytes:
        """Up to `size` bytes of the decoded body (b"" at its end)."""
        if self.done:
            return b""
        if self.left == 0:
            self._next_chunk()
            if self.done:
                return b""
        data = self.stream.read(min(size, self.left))
        if not data:
            raise ClientDisconnect("The chunked body ended early.")
        self.left -= len(data)
        return data


def _check_transfer_encoding(value: str) -> None:
    """Only `chunked` alone is a transfer coding Swift takes: several are 501, another one 400."""
    codings = [coding.strip().lower() for coding in value.split(",")]
    if len(codings) > 1:
        raise NotImplementedByServer("Unsupported Transfer-Coding header value specified in Transfer-Encoding header")
    if codings[0] != "chunked":
        raise ValidationFailed("Invalid Transfer-Encoding header value")


def body_reader(request: HttpRequest) -> tuple[Reader, int | None]:
    """A `read(n)` for the request body and its length (None for chunked bodies)."""
    if "HTTP_TRANSFER_ENCODING" in request.META:
        _check_transfer_encoding(request.META["HTTP_TRANSFER_ENCODING"])
        raw = request.META["wsgi.input"]
        if request.META.get("wsgi.input_terminated"):
            return raw.read, None
        return ChunkedDecoder(raw).read, None
    raw_length = request.META.get("CONTENT_LENGTH", "")
    if raw_length in ("", None):
        raise LengthRequired("Length Required")
    try:
        length = int(raw_length)
    except ValueError as exc:
        raise ValidationFailed("Invalid Content-Length") from exc
    if length < 0:
        raise ValidationFailed("Invalid Content-Length")
    return request.read, length


def has_body(request: HttpRequest) -> bool:
    """Whether the request carries a non-empty body (or a chunked one)."""
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        return True
    return request.META.get("CONTENT_LENGTH", "") not in ("", "0", None)
