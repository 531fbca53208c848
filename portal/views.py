"""Error handlers: API paths get JSON faults, dashboard paths get HTML pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.api.errors import json_fault

_API_PREFIXES = ("/identity", "/api/", "/compute", "/image", "/volume", "/network", "/v1/", "/info")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(_API_PREFIXES)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: a JSON fault for API clients, a page for people."""
    if _is_api(request):
        return json_fault(404, "Could not find the requested resource.")
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: never a Django debug page in production; the request id helps find the log line."""
    if _is_api(request):
        return json_fault(500, "An unexpected error prevented the server from fulfilling your request.")
    return render(request, "500.html", status=500)
