"""Domain errors of the object store that portal.errors has no class for (Swift's extra statuses)."""

from __future__ import annotations

from portal.errors import DomainError


class PreconditionFailed(DomainError):
    """An If-* condition (or If-None-Match: * on PUT) does not hold."""

    status = 412
    title = "Precondition Failed"


class NotModified(DomainError):
    """A conditional GET whose representation has not changed."""

    status = 304
    title = "Not Modified"


class RangeNotSatisfiable(DomainError):
    """No requested byte range overlaps the object."""

    status = 416
    title = "Requested Range Not Satisfiable"

    def __init__(self, size: int) -> None:
        super().__init__("The Range requested is not available.")
        self.size = size


class UnprocessableEntity(DomainError):
    """The uploaded content does not match the ETag the client sent."""

    status = 422
    title = "Unprocessable Entity"


class LengthRequired(DomainError):
    """An upload with neither Content-Length nor a chunked body this server can read."""

    status = 411
    title = "Length Required"


class ClientDisconnect(DomainError):
    """The body ended before Content-Length bytes arrived (Swift's 499)."""

    status = 499
    title = "Client Disconnect"


class StorageUnavailable(DomainError):
    """A block the request needs is missing or corrupt (logged by the block store)."""

    status = 503
    title = "Service Unavailable"


class NotImplementedByServer(DomainError):
    """A request feature this server does not implement (e.g. a transfer coding other than chunked)."""

    status = 501
    title = "Not Implemented"


class EntityTooLarge(DomainError):
    """An upload larger than max_file_size, refused before any byte is read."""

    status = 413
    title = "Request Entity Too Large"


class BadRequestHtml(DomainError):
    """A 400 that Swift answers with its HTML body (e.g. a container name that is too long)."""

    status = 400
    title = "Bad Request"
    content_type = "text/html; charset=UTF-8"
