"""`?part-number=N` on an SLO: read or HEAD one top-level segment of a static large object.

Answers 206 with the part's bytes and `Content-Range` within the whole object, `X-Parts-Count`
and `X-Manifest-Etag`; a number that is not a positive integer is 400, one past the last part
416 (Swift's S3-style part reads). Other objects ignore the parameter.
"""

from __future__ import annotations

import hashlib
import json

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from objectstore.models import ObjectVersion
from objectstore.services import manifests

PART_NUMBER_INVALID = "Part number must be an integer greater than 0"


def manifest_etag(version: ObjectVersion) -> str:
    """A stable ETag of the stored manifest itself (not of the assembled content)."""
    return hashlib.md5(json.dumps(version.manifest, sort_keys=True).encode(), usedforsecurity=False).hexdigest()


def part_bounds(version: ObjectVersion, raw: str) -> tuple[int, int] | None:
    """Bytes [start, end] of part `raw` (1-based) of an SLO; None if past the last part, ValueError if not a number."""
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ValueError(raw)
    entries = version.manifest or []
    number = int(raw)
    if number > len(entries):
        return None
    start = sum(manifests.entry_length(entry) for entry in entries[: number - 1])
    return start, start + manifests.entry_length(entries[number - 1]) - 1


def serve_part(
    request: HttpRequest, version: ObjectVersion, pieces: list[manifests.Piece], size: int, ctype: str
) -> HttpResponseBase | None:
    """The answer to a part-number read of an SLO, or None when the request names no part."""
    raw = request.GET.get("part-number")
    if raw is None or version.manifest_kind != manifests.SLO:
        return None
    head = request.method == "HEAD"
    try:
        bounds = part_bounds(version, raw)
    except ValueError:
        body = b"" if head else PART_NUMBER_INVALID.encode()
        return HttpResponse(body, status=400, content_type="text/plain; charset=UTF-8")
    entries = version.manifest or []
    if bounds is None:
        body = b"" if head else b"The requested part number is not satisfiable"
        response: HttpResponseBase = HttpResponse(body, status=416, content_type="text/plain; charset=UTF-8")
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = bounds
        if head:
            response = HttpResponse(status=206, content_type=ctype)
        else:
            response = StreamingHttpResponse(manifests.stream(manifests.cut(pieces, start, end)), status=206)
            response["Content-Type"] = ctype
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["X-Parts-Count"] = str(len(entries))
    return response
