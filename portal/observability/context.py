"""The current request id, kept in a context variable so logs and audit events can carry it."""

from __future__ import annotations

import contextvars

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    """Return the id of the request being served, or an empty string outside a request."""
    return _request_id.get()


def set_request_id(value: str) -> contextvars.Token:
    """Bind a request id to the current context; returns the token to reset it."""
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    """Restore the request id that was bound before `set_request_id`."""
    _request_id.reset(token)
