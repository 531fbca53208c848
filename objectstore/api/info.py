"""`GET /info`: the capabilities document, advertising exactly what this store implements."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from objectstore.api import ext_bulk, ext_slo, ext_tempurl
from objectstore.api.errors import error_response
from objectstore.limits import SWIFT_LIMITS
from objectstore.models import DEFAULT_BLOCK_SIZE

SWIFT_VERSION = "2.34.0"


def capabilities() -> dict:
    """The `swift` section (limits, policies, API versions) and one section per middleware built."""
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
        "slo": {
            "max_manifest_segments": ext_slo.MAX_MANIFEST_SEGMENTS,
            "max_manifest_size": ext_slo.MAX_MANIFEST_SIZE,
            "min_segment_size": ext_slo.MIN_SEGMENT_SIZE,
        },
        "bulk_delete": {
            "max_deletes_per_request": ext_bulk.MAX_DELETES_PER_REQUEST,
            "max_failed_deletes": ext_bulk.MAX_FAILED_DELETES,
        },
        "tempurl": {
            "methods": list(ext_tempurl.METHODS),
            "allowed_digests": sorted(ext_tempurl.DIGESTS),
            "incoming_remove_headers": [],
            "incoming_allow_headers": [],
            "outgoing_remove_headers": [],
            "outgoing_allow_headers": [],
        },
        "container_quotas": {},
        "account_quotas": {},
        # Not a Swift middleware: Nefos's Pithos-style extensions (docs/objectstore.md), so that a
        # client can discover them; Swift clients ignore sections they do not know.
        "pithos": {
            "hashmap": {"block_hash": "sha256", "default_block_size": DEFAULT_BLOCK_SIZE},
            "block_upload": True,
            "versions": {"policies": ["auto", "none"], "restore": True},
            "sharing": {"users": True, "groups": True, "shared_listing": True, "folders": False},
            "public_links": True,
            "move": True,
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


@csrf_exempt
def bad_info_view(request: HttpRequest) -> HttpResponse:
    """A path that starts with `/info` but is not it (e.g. `/info asdf`): Swift's 412 "Bad URL"."""
    response = error_response(412, "Bad URL", method=request.method or "GET")
    response["X-Trans-Id"] = getattr(request, "request_id", "")
    return response
