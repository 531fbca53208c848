"""Shared base of the OpenStack-compatible APIs (Nova, Neutron, Cinder, Glance).

Each service renders its faults the way its real clients parse them:
- Nova and Cinder: `{"itemNotFound": {"code": 404, "message": "..."}}` (the key names the kind);
- Neutron: `{"NeutronError": {"type": "HTTPNotFound", "message": "...", "detail": ""}}`;
- Glance: `{"code": 404, "title": "Not Found", "message": "..."}` (clients show the message).
Views subclass `OpenStackView` and set `fault_style`; every `portal.errors.DomainError` raised by a
service becomes that service's fault with the error's status, and nothing unknown becomes a 500
body with a traceback (DRF re-raises, Django's handler500 answers a JSON fault).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from identity.api.keystone.base import KeystoneView
from identity.tokens import TokenContext
from portal.api.errors import _TITLES, fault_of


class FaultStyle(enum.Enum):
    """How a service shapes its error bodies."""

    NOVA = "nova"
    NEUTRON = "neutron"
    GLANCE = "glance"


# Nova/Cinder fault keys by status (nova.api.openstack.wsgi's names).
_NOVA_KEYS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}

_NEUTRON_TYPES = {
    400: "HTTPBadRequest",
    401: "HTTPUnauthorized",
    403: "HTTPForbidden",
    404: "HTTPNotFound",
    405: "HTTPMethodNotAllowed",
    409: "HTTPConflict",
    413: "OverQuota",
    415: "HTTPUnsupportedMediaType",
    503: "HTTPServiceUnavailable",
}


def fault_body(style: FaultStyle, status: int, message: str, *, kind: str = "") -> dict[str, Any]:
    """The error body a client of `style` expects (`kind` overrides Neutron's type name)."""
    if style is FaultStyle.NOVA:
        return {_NOVA_KEYS.get(status, "computeFault"): {"code": status, "message": message}}
    if style is FaultStyle.NEUTRON:
        neutron_type = kind or _NEUTRON_TYPES.get(status, "HTTPError")
        return {"NeutronError": {"type": neutron_type, "message": message, "detail": ""}}
    return {"code": status, "title": _TITLES.get(status, "Error"), "message": message}


def handler_for(style: FaultStyle) -> Callable[[Exception, dict[str, Any]], Response | None]:
    """A DRF exception handler rendering known errors in `style`."""

    def handle(exc: Exception, context: dict[str, Any]) -> Response | None:
        fault = fault_of(exc)
        if fault is None:
            return None
        status, message = fault
        detail = getattr(exc, "detail", None)
        kind = str(detail.get("neutron_type", "")) if isinstance(detail, dict) else ""
        response = Response(fault_body(style, status, message, kind=kind), status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Keystone uri="/identity"'
        return response

    return handle


class OpenStackView(KeystoneView):
    """Base of authenticated OpenStack API views: a Keystone token, faults in `fault_style`."""

    fault_style: FaultStyle = FaultStyle.NOVA

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        """DRF hook: this service's fault format."""
        return handler_for(self.fault_style)

    def ctx(self) -> TokenContext:
        """The caller's validated token (project-scoped for every OpenStack service call)."""
        return self.request.auth


def request_json(request: Request) -> Any:
    """The parsed JSON body (DRF parses lazily; a malformed body raises ParseError → 400)."""
    return request.data
