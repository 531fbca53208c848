"""Errors of the host agent: HTTP-mapped request errors and job failures."""

from __future__ import annotations


class AgentError(Exception):
    """A request the agent refuses; `status` is the HTTP status, `message` goes to the client."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequestError(AgentError):
    """400: malformed or unsupported parameters."""

    status = 400


class NotFoundError(AgentError):
    """404: no such instance, node or job."""

    status = 404


class ConflictError(AgentError):
    """409: the name exists already, or the object's state forbids the request."""

    status = 409


class UnavailableError(AgentError):
    """503: libvirt failed or the agent is shutting down."""

    status = 503


class JobError(Exception):
    """A job cannot complete; its message becomes the job's error (like Ganeti's OpPrereqError)."""
