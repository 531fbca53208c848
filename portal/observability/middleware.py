"""Middleware: a request id on every request and response, and per-view request metrics."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from portal.observability.context import reset_request_id, set_request_id
from portal.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

_VALID_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class RequestIdMiddleware:
    """Binds a request id (the caller's `X-Request-Id` if sane, else `tx<32 hex digits>`) to the request.

    The `tx` form is Swift's transaction-id convention (Swift clients and tests look for it in
    `X-Trans-Id` and `X-Openstack-Request-Id`); OpenStack's other clients accept any string.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if _VALID_ID.match(incoming) else f"tx{uuid.uuid4().hex}"
        request.request_id = request_id  # type: ignore[attr-defined]
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Openstack-Request-Id"] = request_id
        response["X-Request-Id"] = request_id
        return response


class MetricsMiddleware:
    """Counts requests and observes latency, labelled by the resolved view's name."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match.route) if match else "<unresolved>"
        HTTP_LATENCY.labels(view).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(view, request.method, str(response.status_code)).inc()
        return response
