"""Swift large-object requests: DLO (`X-Object-Manifest`) and SLO (`?multipart-manifest=put|get|delete`).

Hooks called from `api.obj`: `serve` answers GET/HEAD of a manifest with the assembled content,
`dlo_header` validates a dynamic manifest, `manifest_get` returns an SLO's segment list,
`delete_slo` deletes one with its segments. Storing an SLO (`multipart-manifest=put`) is
`api.ext_slo`'s.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from objectstore.api import ext_parts, headers
from objectstore.api.auth import SwiftCaller
from objectstore.api.conditions import check_preconditions, parse_ranges
from objectstore.errors import NotModified
from objectstore.models import Container, ObjectVersion
from objectstore.services import acl, manifests, objects
from portal.errors import Conflict, Forbidden, Unauthorized, ValidationFailed


def mode(request: HttpRequest) -> str:
    """The `multipart-manifest` query value, lower-cased ("" when absent)."""
    return request.GET.get("multipart-manifest", "").lower()


def dlo_header(request: HttpRequest) -> str | None:
    """The validated `X-Object-Manifest` value (`container/prefix`, kept as sent), or None when absent."""
    raw = request.META.get("HTTP_X_OBJECT_MANIFEST")
    if raw is None:
        return None
    value = headers.from_wire(raw).strip().lstrip("/")
    cname, sep, _ = unquote(value).partition("/")
    if not cname or not sep or "\x00" in unquote(value):
        raise ValidationFailed("X-Object-Manifest must be in the format container/prefix")
    return value


def manifest_headers(response: HttpResponseBase, version: ObjectVersion) -> None:
    """Headers that mark a manifest in any response about it."""
    if version.manifest_kind == manifests.DLO:
        response["X-Object-Manifest"] = headers.to_wire(version.manifest or "")
    elif version.manifest_kind == manifests.SLO:
        response["X-Static-Large-Object"] = "True"


def serve(request: HttpRequest, caller: SwiftCaller, version: ObjectVersion) -> HttpResponseBase:
    """GET/HEAD of a manifest: the concatenated segments (ranges across segments, conditions on the big ETag)."""
    pieces = manifests.plan(caller.project, version)
    if not caller.owner:
        check_segment_access(request, caller, version, pieces)
    if caller.container_scope is not None:
        _check_segment_scope(caller.container_scope, pieces)
    size = manifests.size_of(pieces)
    etag = manifests.dlo_etag(caller.project, version) if version.manifest_kind == manifests.DLO else version.etag
    version.etag = etag  # in memory only: conditions and headers compare against the assembled ETag
    ctype = headers.to_wire(version.content_type)
    try:
        check_preconditions(request, version)
    except NotModified:
        response: HttpResponseBase = HttpResponse(status=304)
        return _headers(response, version, etag)
    part = ext_parts.serve_part(request, version, pieces, size, ctype)
    if part is not None:
        return _headers(part, version, etag)
    if request.method == "HEAD":
        response = HttpResponse(status=200, content_type=ctype)
        response["Content-Length"] = str(size)
        return _headers(response, version, etag)
    ranges = parse_ranges(request.headers.get("Range"), size)
    if ranges is not None and len(ranges) > 1 and version.manifest_kind == manifests.DLO:
        ranges = None  # Swift answers a multi-range GET of a DLO with the whole object
    if ranges is None:
        response = StreamingHttpResponse(manifests.stream(pieces), content_type=ctype)
        response["Content-Length"] = str(size)
    elif len(ranges) == 1:
        start, end = ranges[0]
        response = StreamingHttpResponse(manifests.stream(manifests.cut(pieces, start, end)), status=206)
        response["Content-Type"] = ctype
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = _multipart(pieces, ranges, size, ctype)
    return _headers(response, version, etag)


def check_segment_access(
    request: HttpRequest, caller: SwiftCaller, version: ObjectVersion, pieces: list[manifests.Piece]
) -> None:
    """A caller reading through an ACL must be allowed to read every segment's container too.

    A DLO answers 403 otherwise; Swift's SLO middleware meets the segment's 403 and answers 409.
    """
    ids = {piece.version.object.container_id for piece in pieces if piece.version.pk is not None}
    referrer = request.META.get("HTTP_REFERER", "")
    for container in Container.objects.filter(pk__in=ids):
        if not acl.may_read(container.read_acl, caller.ctx, referrer, listing=False):
            if version.manifest_kind == manifests.DLO:
                raise Forbidden("Access was denied to this resource.")
            raise Conflict(f"Segment container {container.name} is not readable.")


def _check_segment_scope(cname: str, pieces: list[manifests.Piece]) -> None:
    """A container-key temp URL reaches only segments in that container (401 otherwise)."""
    ids = {piece.version.object.container_id for piece in pieces if piece.version.pk is not None}
    if Container.objects.filter(pk__in=ids).exclude(name=cname).exists():
        raise Unauthorized("Temp URL invalid")


def check_tempurl_manifest(caller: SwiftCaller, cname: str, dlo: str | None) -> None:
    """A temp URL PUT may only make a DLO over its own container (400 otherwise)."""
    if caller.tempurl and dlo is not None and unquote(dlo).partition("/")[0] != cname:
        raise ValidationFailed("X-Object-Manifest must point to the same container when using a temp URL")


def _headers(response: HttpResponseBase, version: ObjectVersion, etag: str) -> HttpResponseBase:
    response["ETag"] = f'"{etag}"'
    response["Last-Modified"] = headers.last_modified(version.modified_at)
    response["X-Timestamp"] = headers.timestamp(version.modified_at)
    response["Accept-Ranges"] = "bytes"
    headers.write_metadata(response, version.metadata, "Object")
    manifest_headers(response, version)
    if version.manifest_kind == manifests.SLO:
        response["X-Manifest-Etag"] = ext_parts.manifest_etag(version)
    return response


def _multipart(
    pieces: list[manifests.Piece], ranges: list[tuple[int, int]], size: int, ctype: str
) -> StreamingHttpResponse:
    """A multipart/byteranges answer over a manifest's pieces."""
    boundary = secrets.token_hex(16)
    heads = [
        f"--{boundary}\r\nContent-Type: {ctype}\r\nContent-Range: bytes {s}-{e}/{size}\r\n\r\n".encode("latin-1")
        for s, e in ranges
    ]
    tail = f"--{boundary}--".encode()

    def body() -> Iterator[bytes]:
        for head, (start, end) in zip(heads, ranges, strict=True):
            yield head
            yield from manifests.stream(manifests.cut(pieces, start, end))
            yield b"\r\n"
        yield tail

    length = sum(len(h) + (e - s + 1) + 2 for h, (s, e) in zip(heads, ranges, strict=True)) + len(tail)
    response = StreamingHttpResponse(body(), status=206, content_type=f"multipart/byteranges;boundary={boundary}")
    response["Content-Length"] = str(length)
    return response


def manifest_get(request: HttpRequest, version: ObjectVersion) -> HttpResponse:
    """`GET ?multipart-manifest=get` of an SLO: its segment list (`format=raw`: the PUT format, own type)."""
    entries = version.manifest or []
    if request.GET.get("format") == "raw":
        body = json.dumps(manifests.raw_entries(entries)).encode()
        ctype = headers.to_wire(version.content_type)
    else:
        body = manifests.manifest_document(entries)
        ctype = "application/json; charset=utf-8"
    response = HttpResponse(b"" if request.method == "HEAD" else body, content_type=ctype)
    response["Content-Length"] = str(len(body))
    response["ETag"] = hashlib.md5(body, usedforsecurity=False).hexdigest()
    response["X-Static-Large-Object"] = "True"
    response["Last-Modified"] = headers.last_modified(version.modified_at)
    response["X-Timestamp"] = headers.timestamp(version.modified_at)
    response["Accept-Ranges"] = "bytes"
    headers.write_metadata(response, version.metadata, "Object")
    return response


def delete_slo(request: HttpRequest, caller: SwiftCaller, container: Container, name: str) -> HttpResponse:
    """`DELETE ?multipart-manifest=delete`: the manifest and its segments, answered like a bulk delete."""
    version = objects.get_version(container, name)
    if version.manifest_kind != manifests.SLO:
        objects.delete_object(container, name, actor=caller.actor)
        return HttpResponse(status=204)
    deleted, missing, errors = manifests.delete_slo(caller.project, container, name, actor=caller.actor)
    result = {
        "Number Deleted": deleted,
        "Number Not Found": missing,
        "Response Status": "200 OK",
        "Response Body": "",
        "Errors": errors,
    }
    if "json" in request.headers.get("Accept", ""):
        return HttpResponse(json.dumps(result).encode(), content_type="application/json; charset=utf-8")
    text = "".join(f"{key}: {value}\n" for key, value in result.items() if key != "Errors") + "Errors:\n"
    return HttpResponse(text.encode(), content_type="text/plain; charset=utf-8")


def post_manifest(version: ObjectVersion, dlo: str | None) -> None:
    """POST sets a DLO's prefix with `X-Object-Manifest`, and without it turns a DLO back into plain content."""
    if dlo is not None and version.manifest_kind != manifests.SLO:
        manifests.set_manifest(version, manifests.DLO, dlo)
    elif dlo is None and version.manifest_kind == manifests.DLO:
        manifests.set_manifest(version, "", None)
