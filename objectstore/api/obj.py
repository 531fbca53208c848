"""Swift object requests: PUT (upload or X-Copy-From), GET/HEAD (ranges, conditions), POST, DELETE, COPY."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import quote

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from objectstore import limits
from objectstore.api import ext_manifest, ext_quota, headers
from objectstore.api.auth import SwiftCaller
from objectstore.api.body import body_reader, has_body
from objectstore.api.conditions import check_preconditions, parse_ranges
from objectstore.errors import NotModified, PreconditionFailed, UnprocessableEntity
from objectstore.models import Container, ObjectVersion
from objectstore.services import charges, containers, objects, reading, uploads
from portal.errors import Forbidden, NotFound, ValidationFailed


def check_object_name(name: str) -> None:
    """Swift's object name rule: 1 to 1024 bytes of UTF-8."""
    size = len(name.encode())
    if size > limits.MAX_OBJECT_NAME_LENGTH:
        raise ValidationFailed(f"Object name length of {size} longer than {limits.MAX_OBJECT_NAME_LENGTH}")


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
    """The object's bytes (whole, one range, or several as multipart/byteranges), or just headers for HEAD."""
    container = containers.get_container(caller.project, cname)
    version = objects.get_version(container, name)
    if version.manifest_kind and ext_manifest.mode(request) != "get":
        return ext_manifest.serve(request, caller, version)
    if version.manifest_kind == "slo":
        return ext_manifest.manifest_get(request, version)
    try:
        check_preconditions(request, version)
    except NotModified:
        return _object_headers(HttpResponse(status=304), version)
    if request.method == "HEAD":
        response = HttpResponse(status=200, content_type=headers.to_wire(version.content_type))
        response["Content-Length"] = str(version.size)
        return _object_headers(response, version)
    ranges = parse_ranges(request.headers.get("Range"), version.size)
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


def put(request: HttpRequest, caller: SwiftCaller, account: str, cname: str, name: str) -> HttpResponse:
    """Upload (streamed into blocks), or copy when X-Copy-From is given."""
    check_object_name(name)
    container = containers.get_container(caller.project, cname)
    if "HTTP_X_COPY_FROM" in request.META:
        if has_body(request):
            raise ValidationFailed("Copy requests require a zero byte body")
        if request.headers.get("X-Copy-From-Account", account) != account:
            raise Forbidden("Access was denied to this resource.")
        src_container, src_name = headers.split_object_path(request.META["HTTP_X_COPY_FROM"], "X-Copy-From")
        return _copy(request, caller, src_container, src_name, container, name)
    if ext_manifest.mode(request) == "put":
        return ext_manifest.put_slo(request, caller, container, name)
    dlo = ext_manifest.dlo_header(request)
    ext_manifest.check_tempurl_manifest(caller, cname, dlo)
    metadata = _user_metadata(request)
    attrs = objects.ObjectAttrs(
        content_type=headers.content_type(request, name), metadata=metadata, delete_at=headers.delete_at(request)
    )
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and if_none_match.strip() != "*":
        raise ValidationFailed("Only If-None-Match: * is supported")
    if if_none_match is not None and _exists(container, name):
        raise PreconditionFailed("A precondition for this request was not met.")
    read, length = body_reader(request)
    if length is not None:
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
    version = objects.put_object(
        container, name, data, attrs, actor=caller.actor, if_none_match=if_none_match is not None
    )
    return _created(version)


def _exists(container: Container, name: str) -> bool:
    try:
        objects.get_version(container, name)
    except NotFound:
        return False
    return True


def _copy(
    request: HttpRequest, caller: SwiftCaller, src_cname: str, src_name: str, container: Container, name: str
) -> HttpResponse:
    """Copy a same-account object: a new version sharing the source's blocks."""
    check_object_name(name)
    source = objects.get_version(containers.get_container(caller.project, src_cname), src_name)
    if source.manifest_kind and ext_manifest.mode(request) != "get":
        source = ext_manifest.materialize(caller, source, container)
    charges.precheck(caller.project, source.size)
    ext_quota.check_upload(caller.project, container, name, source.size)
    given_type = headers.from_wire(request.META.get("CONTENT_TYPE", "")).strip()
    with transaction.atomic():
        version = objects.copy_object(
            source,
            container,
            name,
            actor=caller.actor,
            metadata=_user_metadata(request),
            content_type=given_type or None,
            delete_at=headers.delete_at(request),
            fresh_metadata=request.headers.get("X-Fresh-Metadata", "").lower() in ("true", "1", "yes"),
        )
        ext_manifest.keep_manifest(source, version)
    response = _created(version)
    response["X-Copied-From"] = quote(f"{src_cname}/{src_name}")
    response["X-Copied-From-Last-Modified"] = headers.last_modified(source.modified_at)
    return response


def copy(request: HttpRequest, caller: SwiftCaller, account: str, cname: str, name: str) -> HttpResponse:
    """The COPY verb: copy this object to `Destination: container/object`."""
    destination = request.META.get("HTTP_DESTINATION")
    if not destination:
        raise PreconditionFailed("Destination header required")
    if request.headers.get("Destination-Account", account) != account:
        raise Forbidden("Access was denied to this resource.")
    dst_cname, dst_name = headers.split_object_path(destination, "Destination")
    target = containers.get_container(caller.project, dst_cname)
    return _copy(request, caller, cname, name, target, dst_name)


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


def delete(request: HttpRequest, caller: SwiftCaller, account: str, cname: str, name: str) -> HttpResponse:
    """Delete the object (204)."""
    container = containers.get_container(caller.project, cname)
    if ext_manifest.mode(request) == "delete":
        return ext_manifest.delete_slo(request, caller, container, name)
    objects.delete_object(container, name, actor=caller.actor)
    return headers.empty_204("text/html; charset=UTF-8")


HANDLERS = {"GET": get, "HEAD": get, "PUT": put, "POST": post, "DELETE": delete, "COPY": copy}
