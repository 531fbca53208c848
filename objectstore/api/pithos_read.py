"""Serving one given version (an old version, a public link): streamed, with Range and conditions.

Swift's object GET serves only the current version; these answers serve any `ObjectVersion`
through the same block reader (`services.reading`), one block at a time.
"""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from objectstore.api import headers
from objectstore.api.conditions import check_preconditions, parse_ranges
from objectstore.api.errors import domain_error_response, error_response
from objectstore.api.obj import multipart_ranges
from objectstore.blocks import BlockError
from objectstore.errors import NotModified
from objectstore.models import ObjectVersion
from objectstore.services import public, reading
from portal.errors import DomainError


def version_headers(response: HttpResponseBase, version: ObjectVersion) -> HttpResponseBase:
    """ETag, dates, metadata and the version id of a served version."""
    response["ETag"] = version.etag
    response["Last-Modified"] = headers.last_modified(version.modified_at)
    response["X-Timestamp"] = headers.timestamp(version.modified_at)
    response["X-Object-Version"] = str(version.pk)
    response["Accept-Ranges"] = "bytes"
    headers.write_metadata(response, version.metadata, "Object")
    return response


def serve_version(request: HttpRequest, version: ObjectVersion) -> HttpResponseBase:
    """GET or HEAD of one version: whole, one range (206), several ranges, 304/412/416."""
    try:
        check_preconditions(request, version)
    except NotModified:
        return version_headers(HttpResponse(status=304), version)
    ctype = headers.to_wire(version.content_type)
    if request.method == "HEAD":
        response = HttpResponse(status=200, content_type=ctype)
        response["Content-Length"] = str(version.size)
        return version_headers(response, version)
    ranges = parse_ranges(request.headers.get("Range"), version.size)
    if ranges is None:
        response = StreamingHttpResponse(reading.open_range(version), content_type=ctype)
        response["Content-Length"] = str(version.size)
    elif len(ranges) == 1:
        start, end = ranges[0]
        response = StreamingHttpResponse(reading.open_range(version, start, end), status=206, content_type=ctype)
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{version.size}"
    else:
        response = multipart_ranges(version, ranges)
    return version_headers(response, version)


@csrf_exempt
def public_view(request: HttpRequest, token: str) -> HttpResponseBase:
    """`/public/<token>`: the object's current version for anyone (GET/HEAD only, no auth)."""
    method = request.method or "GET"
    if method not in ("GET", "HEAD"):
        response: HttpResponseBase = error_response(405, method=method)
        response["Allow"] = "GET, HEAD"
        return response
    try:
        version = public.resolve(token)
        response = serve_version(request, version)
        response["Content-Disposition"] = _disposition(version.object.name)
    except DomainError as exc:
        response = domain_error_response(exc, method=method)
    except BlockError as exc:
        response = domain_error_response(reading.unavailable(exc), method=method)
    response["X-Trans-Id"] = getattr(request, "request_id", "")
    return response


def _disposition(name: str) -> str:
    """An inline Content-Disposition naming the file (RFC 6266 filename*)."""
    return f"inline; filename*=UTF-8''{quote(name.rsplit('/', 1)[-1] or 'download')}"
