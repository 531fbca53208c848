"""The base of Glance views: a Keystone token, Glance's fault format, and small request helpers."""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from portal.api.openstack import FaultStyle, OpenStackView
from portal.errors import ValidationFailed

NUL = "\x00"


class JsonAlways(DefaultContentNegotiation):
    """Answer JSON whatever `Accept` says: Glance clients send `Accept: application/octet-stream` or
    an empty one on uploads, and Glance ignores it."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        """The first renderer (JSON)."""
        return renderers[0], renderers[0].media_type


class GlanceView(OpenStackView):
    """An authenticated Glance v2 view; errors render as `{"code", "title", "message"}`."""

    fault_style = FaultStyle.GLANCE
    content_negotiation_class = JsonAlways

    @property
    def actor(self) -> Any:
        """Who acts, for audit records and quota commissions (the token's user)."""
        return self.request.user


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def json_body(request: Request, kind: type) -> Any:
    """The parsed JSON body, which must be a `kind` (dict or list) without NUL characters (else 400)."""
    if request.META.get("CONTENT_LENGTH") in ("0",) and "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", ""):
        raise ValidationFailed("Body expected in request.")
    body = request.data
    if not isinstance(body, kind):
        noun = "a JSON object" if kind is dict else "a JSON array of operation objects"
        raise ValidationFailed(f"Request body must be {noun}.")
    if _has_nul(body):
        raise ValidationFailed("NUL characters are not allowed in the request body.")
    return body
