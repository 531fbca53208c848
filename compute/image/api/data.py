"""`/v2/images/{id}/file`: streaming upload (PUT) and download (GET, with a single byte range).

The upload never buffers the body: objectstore's body reader hands the request stream (with
Content-Length, or chunked transfer-encoding) to the data service, which stores it block by
block. The download streams the object's blocks as they are read.
"""

from __future__ import annotations

import re

from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from compute.image.api.base import GlanceView
from compute.image.errors import RangeNotSatisfiable, UnsupportedMediaType
from compute.image.services import access, data
from objectstore.api.body import body_reader

OCTET_STREAM = "application/octet-stream"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def ranger_for(header: str | None) -> data.Ranger | None:
    """A function picking the bytes a `Range: bytes=a-b` header asks of a `size`-byte image.

    Forms other than one range are ignored (the whole image is served), as Glance does.
    """
    match = _RANGE.match((header or "").strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()

    def pick(size: int) -> tuple[int, int]:
        if first == "":
            start, end = max(size - int(last), 0), size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        if size == 0 or start >= size or end < start:
            raise RangeNotSatisfiable(f"Requested range not satisfiable for an image of {size} bytes.")
        return start, end

    return pick


class ImageFileView(GlanceView):
    """`PUT` (upload) and `GET` (download) of an image's data."""

    parser_classes: list = []

    def put(self, request: Request, image_id: str) -> Response:
        """Store the body as the image's data; 204 when the image is active."""
        access.visible(self.ctx(), image_id)  # an unknown or foreign image is a 404 whatever the body
        content_type = (request.META.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
        if content_type and content_type != OCTET_STREAM:
            raise UnsupportedMediaType(f"Invalid media type '{content_type}': use {OCTET_STREAM}.")
        read, length = body_reader(request._request)
        data.upload_image_data(self.ctx(), image_id, read, length=length, actor=self.actor)
        return Response(status=204)

    def get(self, request: Request, image_id: str) -> HttpResponseBase:
        """The data (200, or 206 for a range) with Content-MD5; 204 when the image has none."""
        try:
            opened = data.open_image_data(self.ctx(), image_id, ranger=ranger_for(request.headers.get("Range")))
        except RangeNotSatisfiable:
            response = HttpResponse(status=416)
            response["Content-Range"] = "bytes */*"
            return response
        if opened is None:
            return HttpResponse(status=204)
        response = StreamingHttpResponse(
            opened.chunks, status=206 if opened.partial else 200, content_type=OCTET_STREAM
        )
        response["Content-Length"] = str(opened.end - opened.start + 1 if opened.size else 0)
        if opened.partial:
            response["Content-Range"] = f"bytes {opened.start}-{opened.end}/{opened.size}"
        if opened.checksum:
            response["Content-MD5"] = opened.checksum
        return response
