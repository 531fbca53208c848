"""Server-side copies: COPY (`Destination`, `Destination-Account`) and PUT with `X-Copy-From`(`-Account`).

As in Swift's copy middleware, a copy is a GET of the source and a PUT of the destination, each
authorized on its own: the caller must be able to read the source (own the account or read it,
or pass the source container's read ACL) and to write the destination (own the account, or pass
the destination container's write ACL). Either account may be another project's; the source is
checked first, so a source the caller may not read answers 403 whatever the destination. The
GET side honours the request's `Range` (one range), `part-number` and `multipart-manifest=get`.
A whole plain object is copied by sharing its blocks; anything else (a range, a part, a large
object's assembled content) is read and stored as new blocks. Copying a manifest itself stores
its segment list again where the copy lands, re-checked there, as Swift's manifest PUT would.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote, unquote

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from objectstore.api import ext_manifest, ext_parts, ext_quota, ext_slo, headers
from objectstore.api.auth import SwiftCaller, check_access
from objectstore.api.body import has_body
from objectstore.api.conditions import parse_ranges
from objectstore.errors import PreconditionFailed, RangeNotSatisfiable
from objectstore.models import Container, ObjectVersion
from objectstore.services import charges, containers, manifests, objects, uploads
from objectstore.services.uploads import StoredData
from portal.errors import ValidationFailed


def copy_verb(request: HttpRequest, caller: SwiftCaller, account: str, cname: str, name: str) -> HttpResponse:
    """COPY: this path's object (which `caller` may read) to `Destination` in `Destination-Account` or here."""
    destination = request.META.get("HTTP_DESTINATION")
    if not destination:
        raise PreconditionFailed("Destination header required")
    dest_account = _account_header(request, "HTTP_DESTINATION_ACCOUNT") or account
    dst_cname, dst_name = headers.split_object_path(destination, "Destination")
    headers.check_object_name(dst_name)
    source = _source_version(caller, cname, name)
    if dest_account == account and caller.owner:
        target = caller
    else:
        target = check_access(request, caller.ctx, dest_account, dst_cname, dst_name, "PUT")
    container = containers.get_container(target.project, dst_cname)
    return _copy(request, (caller, account, cname, name), source, target, container, dst_name)


def copy_from(request: HttpRequest, caller: SwiftCaller, account: str, cname: str, name: str) -> HttpResponse:
    """PUT with X-Copy-From: the named object (in `X-Copy-From-Account` or here) to this path."""
    if has_body(request):
        raise ValidationFailed("Copy requests require a zero byte body")
    src_account = _account_header(request, "HTTP_X_COPY_FROM_ACCOUNT") or account
    src_cname, src_name = headers.split_object_path(request.META["HTTP_X_COPY_FROM"], "X-Copy-From")
    headers.check_object_name(name)
    if src_account == account and caller.owner:
        reader = caller
    else:
        reader = check_access(request, caller.ctx, src_account, src_cname, src_name, "GET")
    source = _source_version(reader, src_cname, src_name)
    container = containers.get_container(caller.project, cname)
    return _copy(request, (reader, src_account, src_cname, src_name), source, caller, container, name)


def _account_header(request: HttpRequest, key: str) -> str:
    """An account named by a copy header (URL-quoted); "" when absent; 412 when malformed, as Swift."""
    raw = request.META.get(key)
    if raw is None:
        return ""
    value = headers.check_name(unquote(headers.from_wire(raw)).strip(), key)
    if not value or "/" in value:
        raise headers.InvalidName("Account name cannot be empty or contain slashes")
    return value


def _source_version(reader: SwiftCaller, cname: str, name: str) -> ObjectVersion:
    """The current version of the source (404 when its container or the object is missing)."""
    return objects.get_version(containers.get_container(reader.project, cname), name)


def _copy(
    request: HttpRequest,
    origin: tuple[SwiftCaller, str, str, str],
    source: ObjectVersion,
    target: SwiftCaller,
    container: Container,
    name: str,
) -> HttpResponse:
    """Write the copy of `source` (read as `origin` = (reader, account, container, object)) to `name`."""
    reader, src_account, src_cname, src_name = origin
    fresh = request.headers.get("X-Fresh-Metadata", "").lower() in ("true", "1", "yes")
    given = {k: v for k, v in headers.read_metadata(request, "Object").items() if v}
    given_type = headers.from_wire(request.META.get("CONTENT_TYPE", "")).strip()
    attrs = objects.ObjectAttrs(
        content_type=given_type or source.content_type,
        metadata=dict(given) if fresh else {**source.metadata, **given},
        delete_at=headers.delete_at(request),
    )
    if source.manifest_kind == manifests.SLO and ext_manifest.mode(request) == "get":
        version = ext_slo.copy_slo(target, source, container, name, attrs)
    elif source.manifest_kind == manifests.DLO and ext_manifest.mode(request) == "get":
        version = _share_blocks(source, target, container, name, attrs, dlo=source.manifest)
    else:
        pieces, whole = _content(request, reader, source)
        if whole and not source.manifest_kind:
            version = _share_blocks(source, target, container, name, attrs)
        else:
            version = _store_copy(pieces, target, container, name, attrs)
    response = HttpResponse(status=201, content_type="text/html; charset=UTF-8")
    response["ETag"] = f'"{version.etag}"' if version.manifest_kind == manifests.SLO else version.etag
    response["Last-Modified"] = headers.last_modified(version.modified_at)
    response["X-Timestamp"] = headers.timestamp(version.modified_at)
    response["X-Copied-From"] = quote(f"{src_cname}/{src_name}")
    response["X-Copied-From-Account"] = quote(src_account)
    response["X-Copied-From-Last-Modified"] = headers.last_modified(source.modified_at)
    return response


def _content(request: HttpRequest, reader: SwiftCaller, source: ObjectVersion) -> tuple[list[manifests.Piece], bool]:
    """The pieces a GET of the source would return (whole, one range, or one SLO part) and whether it is whole."""
    if source.manifest_kind:
        pieces = manifests.plan(reader.project, source)
        if not reader.owner:
            ext_manifest.check_segment_access(request, reader, source, pieces)
    else:
        pieces = [manifests.Piece(source, 0, source.size - 1)] if source.size else []
    size = manifests.size_of(pieces)
    raw_part = request.GET.get("part-number")
    if raw_part is not None and source.manifest_kind == manifests.SLO:
        try:
            bounds = ext_parts.part_bounds(source, raw_part)
        except ValueError:
            raise ValidationFailed(ext_parts.PART_NUMBER_INVALID) from None
        if bounds is None:
            raise RangeNotSatisfiable(size)
        return manifests.cut(pieces, *bounds), False
    ranges = parse_ranges(request.headers.get("Range"), size)
    if ranges is None:
        return pieces, True
    if len(ranges) > 1:
        raise ValidationFailed("A copy takes a single byte range.")
    return manifests.cut(pieces, *ranges[0]), False


def _check_quota(target: SwiftCaller, container: Container, name: str, size: int) -> None:
    charges.precheck(target.project, size)
    ext_quota.check_upload(target.project, container, name, size)


def _share_blocks(
    source: ObjectVersion,
    target: SwiftCaller,
    container: Container,
    name: str,
    attrs: objects.ObjectAttrs,
    *,
    dlo: str | None = None,
) -> ObjectVersion:
    """A new version of `name` made of the source's blocks (no data read); a DLO copy stays a DLO."""
    _check_quota(target, container, name, source.size)
    data = StoredData(hashmap=list(source.hashmap), size=source.size, etag=source.etag, block_size=source.block_size)
    with transaction.atomic():
        version = objects.put_object(container, name, data, attrs, actor=target.actor)
        if dlo is not None:
            manifests.set_manifest(version, manifests.DLO, dlo)
    return version


def _store_copy(
    pieces: list[manifests.Piece], target: SwiftCaller, container: Container, name: str, attrs: objects.ObjectAttrs
) -> ObjectVersion:
    """A new version of `name` holding the bytes of `pieces`, read block by block and stored again."""
    _check_quota(target, container, name, manifests.size_of(pieces))
    chunks: Iterator[bytes] = manifests.stream(pieces)
    pending = b""

    def read(size: int) -> bytes:
        nonlocal pending
        while len(pending) < size:
            piece = next(chunks, b"")
            if not piece:
                break
            pending += piece
        head, pending = pending[:size], pending[size:]
        return head

    data = uploads.store_stream(read, block_size=container.block_size, length=None)
    return objects.put_object(container, name, data, attrs, actor=target.actor)
