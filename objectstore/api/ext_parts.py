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


def manifest_etag(version: ObjectVersion) -> str:
    """A stable ETag of the stored manifest itself (not of the assembled content)."""
    return hashlib.md5(json.dumps(version.manifest, sort_keys=True).encode(), usedforsecurity=False).hexdigest()


def _entry_length(entry: dict) -> int:
    """Bytes one manifest entry contributes to the whole object."""
    if entry.get("range"):
        start, _, end = entry["range"].partition("-")
        return int(end) - int(start) + 1
    return int(entry["bytes"])


def serve_part(
    request: HttpRequest, version: ObjectVersion, pieces: list[manifests.Piece], size: int, ctype: str
) -> HttpResponseBase | None:
    """The answer to a part-number read of an SLO, or None when the request names no part."""
    raw = request.GET.get("part-number")
    if raw is None or version.manifest_kind != manifests.SLO:
        return None
    head = request.method == "HEAD"
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        body = b"" if head else b"Part number must be an integer greater than 0"
        return HttpResponse(body, status=400, content_type="text/plain; charset=UTF-8")
    entries = version.manifest or []
    number = int(raw)
    if number > len(entries):
        body = b"" if head else b"The requested part number is not satisfiable"
        response: HttpResponseBase = HttpResponse(body, status=416, content_type="text/plain; charset=UTF-8")
        response["Content-Range"] = f"bytes */{size}"
    else:
        start = sum(_entry_length(entry) for entry in entries[: number - 1])
        end = start + _entry_length(entries[number - 1]) - 1
        if head:
            response = HttpResponse(status=206, content_type=ctype)
        else:
            response = StreamingHttpResponse(manifests.stream(manifests.cut(pieces, start, end)), status=206)
            response["Content-Type"] = ctype
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["X-Parts-Count"] = str(len(entries))
    return response
