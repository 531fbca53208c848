"""Shared pieces of the Keystone views: the base view class, request-body and query helpers.

Views stay thin: they check policy (`policy`), read the request with these helpers, call a
service and render the result (`render`). Every error is a `portal.errors` type that the DRF
exception handler turns into Keystone's `{"error": {"code", "title", "message"}}`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from identity.tokens import TokenContext
from portal.api.authentication import TokenAuthentication
from portal.errors import NotFound, ValidationFailed

M = TypeVar("M", bound=models.Model)

_FALSE = {"0", "false", "f", "no", "n", "off"}
NAME_MAX = 255
EMAIL_MAX = 254
PASSWORD_MAX = 4096
NUL = "\x00"


def _has_nul(value: Any) -> bool:
    """Whether a JSON value holds a NUL character anywhere (PostgreSQL text cannot store one)."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class NulGuard(APIView):
    """Refuses NUL characters in the path and query with a 400 before they reach a database query."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Check the URL, then run DRF's authentication and permission checks."""
        if NUL in request.path or _has_nul(dict(request.query_params.lists())):
            raise ValidationFailed("NUL characters are not allowed in the URL.")
        super().initial(request, *args, **kwargs)


class KeystoneView(NulGuard):
    """Base of every authenticated Keystone view: `X-Auth-Token` required, `request.auth` is the token."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def ctx(self) -> TokenContext:
        """The caller's validated token."""
        return self.request.auth


class PublicView(NulGuard):
    """Base of views that need no token (version documents, token creation, password change)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


def no_content() -> Response:
    """Keystone's 204 answer."""
    return Response(status=204)


def body_entity(request: Request, key: str) -> dict[str, Any]:
    """The object under `key` in a JSON request body, or 400 when it is missing or not an object."""
    data = request.data
    if not isinstance(data, dict) or key not in data:
        raise ValidationFailed(f"Invalid input for field '{key}': '{key}' is a required property.")
    if _has_nul(data):
        raise ValidationFailed("NUL characters are not allowed in the request body.")
    entity = data[key]
    if not isinstance(entity, dict):
        raise ValidationFailed(f"Invalid input for field '{key}': expected an object.")
    return entity


def _check_length(value: str, field: str, what: str, max_length: int | None) -> str:
    if max_length is not None and len(value) > max_length:
        raise ValidationFailed(f"Invalid input for field '{what}.{field}': longer than {max_length} characters.")
    return value


def required_str(entity: dict[str, Any], field: str, what: str, max_length: int | None = NAME_MAX) -> str:
    """A non-empty string field of a request entity (at most `max_length` characters), or 400."""
    value = entity.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"Invalid input for field '{what}.{field}': a non-empty string is required.")
    return _check_length(value, field, what, max_length)


def optional_str(entity: dict[str, Any], field: str, what: str, max_length: int | None = None) -> str | None:
    """An optional string (or null) field of a request entity; any other type, or a longer one, is a 400."""
    value = entity.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"Invalid input for field '{what}.{field}': expected a string.")
    return _check_length(value, field, what, max_length)


def optional_bool(entity: dict[str, Any], field: str, what: str) -> bool | None:
    """An optional boolean field of a request entity; any other type is a 400."""
    value = entity.get(field)
    if value is not None and not isinstance(value, bool):
        raise ValidationFailed(f"Invalid input for field '{what}.{field}': expected a boolean.")
    return value


def query_bool(value: str) -> bool:
    """Keystone's reading of a boolean query parameter (`?enabled=false`)."""
    return value.strip().lower() not in _FALSE


def filter_query(request: Request, queryset: models.QuerySet, fields: dict[str, str]) -> models.QuerySet:
    """Apply the query parameters named in `fields` (parameter -> model lookup); `enabled` is boolean."""
    for param, lookup in fields.items():
        if param not in request.query_params:
            continue
        value = request.query_params[param]
        if param == "enabled":
            queryset = queryset.filter(**{lookup: query_bool(value)})
        else:
            queryset = queryset.filter(**{lookup: value})
    return queryset


def get_or_404(queryset: models.QuerySet[M] | type[M], pk: str, kind: str) -> M:
    """The object with this id, or Keystone's 404 `Could not find <kind>: <id>.`."""
    manager = queryset._default_manager if isinstance(queryset, type) else queryset
    try:
        return manager.get(pk=pk)
    except (manager.model.DoesNotExist, ValueError) as exc:
        raise NotFound(f"Could not find {kind}: {pk}.") from exc
