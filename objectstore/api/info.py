"""`GET /info`: the capabilities document, advertising exactly what this store implements."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from objectstore.limits import SWIFT_LIMITS

SWIFT_VERSION = "2.34.0"


def capabilities() -> dict:
    """The `swift` section: limits, policies, API versions (no middleware such as slo or tempurl yet)."""
    return {
        "swift": {
            "version": SWIFT_VERSION,
            **SWIFT_LIMITS,
            "strict_cors_mode": True,
            "account_autocreate": True,
            "allow_account_management": False,
            "extra_header_count": 0,
            "valid_api_versions": ["v1"],
            "policies": [{"name": "default", "aliases": "default", "default": True}],
        },
    }


@csrf_exempt
def info_view(request: HttpRequest) -> HttpResponse:
    """Serve the capabilities to anyone (no token needed), as Swift does."""
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    response = JsonResponse(capabilities())
    response["X-Trans-Id"] = getattr(request, "request_id", "")
    if request.method == "HEAD":
        response.content = b""
        response["Content-Length"] = "0"
    return response
