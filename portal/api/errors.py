"""Rendering errors as OpenStack-style JSON faults: `{"error": {"code", "title", "message"}}`."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DataError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from portal.errors import DomainError

log = logging.getLogger(__name__)

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
}


def _drf_message(exc: drf.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        parts = []
        for key, value in detail.items():
            text = " ".join(str(v) for v in value) if isinstance(value, list) else str(value)
            parts.append(text if key in ("detail", "non_field_errors") else f"{key}: {text}")
        return "; ".join(parts)
    if isinstance(detail, list):
        return " ".join(str(v) for v in detail)
    return str(detail)


def fault_of(exc: Exception) -> tuple[int, str] | None:
    """Return (status, message) for errors the APIs know how to report, else None."""
    if isinstance(exc, DomainError):
        return exc.status, exc.message
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return 401, "The request you have made requires authentication."
    if isinstance(exc, drf.ParseError):
        return 400, f"Malformed request body: {exc.detail}"
    if isinstance(exc, drf.APIException):
        return exc.status_code, _drf_message(exc)
    if isinstance(exc, Http404):
        return 404, "Could not find the requested resource."
    if isinstance(exc, DataError):
        # A value no serializer caught that the database refuses to store or compare (a NUL
        # character in a dict key, a number out of its column's range): the input is bad.
        log.info("refused a request value the database cannot take: %s", exc)
        return (
            400,
            "The request carries a value that cannot be stored (e.g. a NUL character or an out-of-range number).",
        )
    return None


def keystone_fault(status: int, message: str) -> dict[str, Any]:
    """The Keystone error body."""
    return {"error": {"code": status, "title": _TITLES.get(status, "Error"), "message": message}}


def portal_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: every known error becomes a JSON fault with its status."""
    fault = fault_of(exc)
    if fault is None:
        return None
    status, message = fault
    response = Response(keystone_fault(status, message), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Keystone uri="/identity"'
    return response


def json_fault(status: int, message: str) -> JsonResponse:
    """A plain Django JSON fault, for code paths outside DRF (404/500 handlers)."""
    return JsonResponse(keystone_fault(status, message), status=status)
