"""Swift object requests: PUT (upload or X-Copy-From), GET/HEAD (ranges, conditions), POST, DELETE, COPY."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from objectstore import limits
from objectstore.api import copying, ext_manifest, ext_quota, ext_slo, headers
from objectstore.api.auth import SwiftCaller
from objectstore.api.body import body_reader
from objectstore.api.conditions import check_preconditions, parse_ranges
from objectstore.api.errors import domain_error_response
from objectstore.api.headers import check_object_name
from objectstore.errors import (
    EntityTooLarge,
    NotModified,
    PreconditionFailed,
    RangeNotSatisfiable,
    UnprocessableEntity,
)
from objectstore.models import Container, ObjectVersion
from objectstore.services import charges, containers, objects, reading, uploads
from portal.errors import NotFound, ValidationFailed

__all__ = ["HANDLERS", "check_object_name"]


def _object_headers(response: HttpResponseBase, version: ObjectVersion) -> HttpResponseBase:
    response["ETag"] = version.etag
    response["Last-Modified"] = headers.last_modified(version.modified_at)
    response["X-Timestamp"] = headers.timestamp(version.modified_at)
    response["Accept-Ranges"] = "bytes"
    if version.delete_at is not None:
        response["X-Delete-At"] = str(int(version.delete_at.timestamp()))
    headers.write_metadata(response, version.metadata, "Object")
    ext_manifest.manifest_headers(response, version)
    return response


def _user_metadata(request: HttpRequest) -> dict[str, str]:
    """The object metadata a PUT/POST sets (the whole set: empty values are dropped)."""
    return {k: v for k, v in headers.read_metadata(request, "Object").items() if v}


def get(request: HttpRequest, caller: SwiftCaller, account: str, cname: str, name: str) -> HttpResponseBase:
    """The object's bytes (whole, one range, or several as multipart/byteranges), or just headers for HEAD.

    Refusals of a condition (304, 412) or a range (416) still describe the object (ETag, ...), as Swift's do.
    """
    container = containers.get_container(caller.project, cname)
    version = objects.get_version(container, name)
    if version.manifest_kind and ext_manifest.mode(request) != "get":
        return ext_manifest.serve(request, caller, version)
    if version.manifest_kind == "slo":
        return ext_manifest.manifest_get(request, version)
    try:
        check_preconditions(request, version)
        ranges = None if request.method == "HEAD" else parse_ranges(request.headers.get("Range"), version.size)
    except NotModified:
        return _object_headers(HttpResponse(status=304), version)
    except (PreconditionFailed, RangeNotSatisfiable) as exc:
        return _object_headers(domain_error_response(exc, method=request.method or "GET"), version)
    if request.method == "HEAD":
        response = HttpResponse(status=200, content_type=headers.to_wire(version.content_type))
        response["Content-Length"] = str(version.size)
        return _object_headers(response, version)
    if ranges is None:
        ctype = headers.to_wire(version.content_type)
        response = StreamingHttpResponse(reading.open_range(version), content_type=ctype)
        response["Content-Length"] = str(version.size)
    elif len(ranges) == 1:
        start, end = ranges[0]
        response = StreamingHttpResponse(
            reading.open_range(version, start, end),
            status=206,
            content_type=headers.to_wire(version.content_type),
        )
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{version.size}"
    else:
        response = multipart_ranges(version, ranges)
    return _object_headers(response, version)


def multipart_ranges(version: ObjectVersion, ranges: list[tuple[int, int]]) -> StreamingHttpResponse:
    """A 206 multipart/byteranges response reading only the blocks each range needs."""
    boundary = secrets.token_hex(16)
    ctype = headers.to_wire(version.content_type)
    heads = [
        f"--{boundary}\r\nContent-Type: {ctype}\r\nContent-Range: bytes {s}-{e}/{version.size}\r\n\r\n".encode(
            "latin-1"
        )
        for s, e in ranges
    ]
    tail = f"--{boundary}--".encode()

    def body() -> Iterator[bytes]:
        for head, (start, end) in zip(heads, ranges, strict=True):
            yield head
            yield from reading.open_range(version, start, end)
            yield b"\r\n"
        yield tail

    length = sum(len(h) + (e - s + 1) + 2 for h, (s, e) in zip(heads, ranges, strict=True)) + len(tail)
    response = StreamingHttpResponse(body(), status=206, content_type=f"multipart/byteranges;boundary={boundary}")
    response["Content-Length"] = str(length)
    return response


def _created(version: ObjectVersion) -> HttpResponse:
    response = HttpResponse(status=201, content_type="text/html; charset=UTF-8")
    response["ETag"] = version.etag
    response["Last-Modified"] = headers.last_modified(version.modified_at)
    response["X-Timestamp"] = headers.timestamp(version.modified_at)
    return response


def _if_none_match(request: HttpRequest) -> bool:
    """Whether the upload carries `If-None-Match: *` (400 for any other value, as Swift)."""
    value = request.headers.get("If-None-Match")
    if value is not None and value.strip() != "*":
        raise ValidationFailed("If-None-Match only supports *")
    return value is not None


def put(request: HttpRequest, caller: SwiftCaller, account: str, cname: str, name: str) -> HttpResponse:
    """Upload (streamed into blocks), or copy when X-Copy-From is given."""
    check_object_name(name)
    if "HTTP_X_COPY_FROM" in request.META:
        return copying.copy_from(request, caller, account, cname, name)
    container = containers.get_container(caller.project, cname)
    if_none_match = _if_none_match(request)
    if ext_manifest.mode(request) == "put":
        return ext_slo.put_slo(request, caller, container, name)
    dlo = ext_manifest.dlo_header(request)
    ext_manifest.check_tempurl_manifest(caller, cname, dlo)
    metadata = _user_metadata(request)
    attrs = objects.ObjectAttrs(
        content_type=headers.content_type(request, name), metadata=metadata, delete_at=headers.delete_at(request)
    )
    if if_none_match and _exists(container, name):
        raise PreconditionFailed("A precondition for this request was not met.")
    read, length = body_reader(request)
    if length is not None:
        if length > limits.MAX_FILE_SIZE:
            raise EntityTooLarge("Your request is too large.")
        charges.precheck(caller.project, length)
        ext_quota.check_upload(caller.project, container, name, length)
    data = uploads.store_stream(read, block_size=container.block_size, length=length)
    ext_quota.check_upload(caller.project, container, name, data.size)
    client_etag = request.headers.get("ETag")
    if client_etag and headers.strip_etag(client_etag) != data.etag:
        raise UnprocessableEntity("Unable to process the contained instructions")
    if dlo is not None:
        version = ext_manifest.manifests.put_manifest(
            container, name, data, attrs, kind="dlo", manifest=dlo, actor=caller.actor
        )
        return _created(version)
    version = objects.put_object(container, name, data, attrs, actor=caller.actor, if_none_match=if_none_match)
    return _created(version)


def _exists(container: Container, name: str) -> bool:
    try:
        objects.get_version(container, name)
    except NotFound:
        return False
    return True


def post(request: HttpRequest, caller: SwiftCaller, account: str, cname: str, name: str) -> HttpResponse:
    """Replace the object's metadata (and Content-Type, expiry); 202."""
    container = containers.get_container(caller.project, cname)
    given_type = headers.from_wire(request.META.get("CONTENT_TYPE", "")).strip()
    expiry = headers.delete_at(request)
    dlo = ext_manifest.dlo_header(request)
    ext_manifest.check_tempurl_manifest(caller, cname, dlo)
    with transaction.atomic():
        version = objects.update_object(
            container,
            name,
            metadata=_user_metadata(request),
            content_type=given_type or None,
            delete_at=expiry,
            clear_delete_at=expiry is None,
        )
        ext_manifest.post_manifest(version, dlo)
    return HttpResponse(
        b"<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>",
        status=202,
        content_type="text/html; charset=UTF-8",
    )


def _if_delete_at(request: HttpRequest) -> int | None:
    """`X-If-Delete-At` (epoch seconds) a DELETE must match; 400 when not an integer."""
    raw = request.headers.get("X-If-Delete-At")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationFailed("Bad X-If-Delete-At header value") from None


def delete(request: HttpRequest, caller: SwiftCaller, account: str, cname: str, name: str) -> HttpResponse:
    """Delete the object (204); with `X-If-Delete-At`, only if its expiry is exactly that (else 412)."""
    if_delete_at = _if_delete_at(request)
    container = containers.get_container(caller.project, cname)
    if ext_manifest.mode(request) == "delete":
        return ext_manifest.delete_slo(request, caller, container, name)
    objects.delete_object(container, name, actor=caller.actor, if_delete_at=if_delete_at)
    return headers.empty_204("text/html; charset=UTF-8")


HANDLERS = {"GET": get, "HEAD": get, "PUT": put, "POST": post, "DELETE": delete, "COPY": copying.copy_verb}
