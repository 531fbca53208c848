"""Typed domain errors raised by services; each API layer maps them once to its own fault format."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors services raise; carries an HTTP status and a human message."""

    status = 400
    title = "Bad Request"

    def __init__(self, message: str = "", **detail: object) -> None:
        super().__init__(message or self.title)
        self.message = message or self.title
        self.detail = detail


class ValidationFailed(DomainError):
    """The input is malformed or incomplete."""

    status = 400
    title = "Bad Request"


class Unauthorized(DomainError):
    """No valid credentials: bad password, bad/expired/revoked token."""

    status = 401
    title = "Unauthorized"


class Forbidden(DomainError):
    """Valid credentials, but not allowed to do this."""

    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    """The object does not exist, or the caller may not see it (both look the same)."""

    status = 404
    title = "Not Found"


class Conflict(DomainError):
    """The request conflicts with existing data (duplicate name, ...)."""

    status = 409
    title = "Conflict"


class InvalidState(Conflict):
    """The action is not allowed in the object's current state."""


class QuotaExceeded(DomainError):
    """A commission would take usage over a limit."""

    status = 413
    title = "Request Entity Too Large"

    def __init__(self, message: str = "", *, resource: str = "", limit: int = 0, usage: int = 0, requested: int = 0):
        super().__init__(
            message or f"Quota exceeded for {resource}: limit {limit}, in use {usage}, requested {requested}."
        )
        self.resource = resource
        self.limit = limit
        self.usage = usage
        self.requested = requested
