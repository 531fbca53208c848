"""Swift header formats: metadata in and out, timestamps, expiry, names, Content-Type guessing.

WSGI hands header values over as latin-1 strings; Swift clients send UTF-8 bytes in them, so
values are re-decoded on the way in and re-encoded the same way on the way out.
"""

from __future__ import annotations

import math
import mimetypes
import time
from datetime import UTC, datetime
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.http import http_date

from objectstore import limits
from portal.errors import ValidationFailed

DEFAULT_CONTENT_TYPE = "application/octet-stream"


class InvalidName(ValidationFailed):
    """A path segment that is not UTF-8 or holds a NUL (Swift answers 412)."""

    status = 412
    title = "Precondition Failed"


def from_wire(value: str) -> str:
    """A header value as text: UTF-8 bytes that WSGI decoded as latin-1 are decoded properly."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def to_wire(value: str) -> str:
    """Text made safe for a WSGI header: UTF-8 bytes carried as a latin-1 string."""
    return value.encode("utf-8").decode("latin-1")


def check_header_sizes(request: HttpRequest) -> None:
    """Reject any request header line (`Name: value`) longer than max_header_size (400), as Swift does."""
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and len(key) - 3 + len(value) > limits.MAX_HEADER_SIZE:
            name = key[5:].replace("_", "-").title()
            raise ValidationFailed(f"Header value too long: {name[: limits.MAX_META_NAME_LENGTH]}")


def read_metadata(request: HttpRequest, kind: str) -> dict[str, str]:
    """`X-<Kind>-Meta-*` (and `X-Remove-<Kind>-Meta-*`, as empty values) from a request, checked against limits."""
    prefix = f"HTTP_X_{kind.upper()}_META_"
    remove = f"HTTP_X_REMOVE_{kind.upper()}_META_"
    found: dict[str, str] = {}
    for key, value in request.META.items():
        if key.startswith(prefix):
            # ASCII whitespace only: str.strip() would also eat bytes such as 0x85 inside UTF-8 characters.
            found[key[len(prefix) :].replace("_", "-").title()] = value.strip(" \t")
        elif key.startswith(remove):
            found[key[len(remove) :].replace("_", "-").title()] = ""
    check_metadata(found, kind)  # on the wire values: Swift counts bytes, whatever their encoding
    return {name: from_wire(value) for name, value in found.items()}


def check_metadata(metadata: dict[str, str], kind: str) -> None:
    """Swift's metadata limits on one request's metadata as sent (400 when exceeded); see `limits`."""
    limits.check_metadata(metadata, kind, wire=True)


def write_metadata(response: HttpResponseBase, metadata: dict[str, str], kind: str) -> None:
    """Set `X-<Kind>-Meta-<Name>` headers on a response."""
    for name, value in metadata.items():
        response[f"X-{kind}-Meta-{name}"] = to_wire(value)


def timestamp(moment: datetime | float) -> str:
    """Swift's X-Timestamp format (seconds with five decimals, zero-padded)."""
    seconds = moment.timestamp() if isinstance(moment, datetime) else moment
    return f"{seconds:016.5f}"


def last_modified(moment: datetime) -> str:
    """An HTTP date for Last-Modified (rounded up to the second, as Swift does)."""
    return http_date(math.ceil(moment.timestamp()))


def listing_time(moment: datetime) -> str:
    """The `last_modified` format of listings, e.g. 2026-11-27T05:28:33.123456."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


# Swift's largest timestamp (year 2286); later expiry times are clamped to it.
MAX_TIMESTAMP = 9999999999.99999


def delete_at(request: HttpRequest) -> datetime | None:
    """The expiry from X-Delete-At (epoch seconds) or X-Delete-After (seconds from now); 400 if invalid."""
    raw_at = request.headers.get("X-Delete-At")
    raw_after = request.headers.get("X-Delete-After")
    now = time.time()
    if raw_after is not None:
        try:
            after = int(raw_after)
        except ValueError as exc:
            raise ValidationFailed("Non-integer X-Delete-After") from exc
        if after < 0:
            raise ValidationFailed("X-Delete-After in past")
        return datetime.fromtimestamp(min(now + after, MAX_TIMESTAMP), tz=UTC)
    if raw_at is not None:
        try:
            at = float(raw_at)
        except ValueError as exc:
            raise ValidationFailed("Non-integer X-Delete-At") from exc
        if not math.isfinite(at) or at <= now:
            raise ValidationFailed("X-Delete-At in past")
        # Swift clamps far-future values to its largest timestamp rather than refusing them.
        return datetime.fromtimestamp(min(at, MAX_TIMESTAMP), tz=UTC)
    return None


def content_type(request: HttpRequest, name: str) -> str:
    """The Content-Type of an upload: the client's, else guessed from the object name."""
    given = from_wire(request.META.get("CONTENT_TYPE", "")).strip()
    detect = request.headers.get("X-Detect-Content-Type", "").lower() in ("true", "1", "yes")
    if given and not detect:
        if len(given) > 256:
            raise ValidationFailed("Content-Type too long")
        return given
    return mimetypes.guess_type(name, strict=False)[0] or DEFAULT_CONTENT_TYPE


def check_object_name(name: str) -> None:
    """Swift's object name rule: 1 to 1024 bytes of UTF-8."""
    size = len(name.encode())
    if size > limits.MAX_OBJECT_NAME_LENGTH:
        raise ValidationFailed(f"Object name length of {size} longer than {limits.MAX_OBJECT_NAME_LENGTH}")


def check_name(value: str, what: str) -> str:
    """A decoded name from a header or query: no NUL (412)."""
    if "\x00" in value:
        raise InvalidName("Invalid UTF8 or contains NULL")
    return value


def split_object_path(value: str, header: str) -> tuple[str, str]:
    """`container/object` from X-Copy-From or Destination (URL-quoted, leading slash optional)."""
    try:
        text = check_name(unquote(from_wire(value), errors="strict").lstrip("/"), header)
    except UnicodeDecodeError as exc:
        raise InvalidName("Invalid UTF8 or contains NULL") from exc
    container, _, name = text.partition("/")
    if not container or not name:
        raise InvalidName(f"{header} header must be of the form <container name>/<object name>")
    return container, name


def strip_etag(value: str) -> str:
    """An entity tag without quotes or a weak marker, lower-cased."""
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"').lower()


def empty_204(content_type: str) -> HttpResponse:
    """A 204 with Swift's headers for an empty answer: its Content-Type and `Content-Length: 0`."""
    response = HttpResponse(status=204, content_type=content_type)
    response["Content-Length"] = "0"
    return response
