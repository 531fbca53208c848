"""Pithos object handlers: hashmap GET/PUT, version reads and restore, MOVE, sharing and public links.

Each handler authorizes through Swift's `authorize` first; when that refuses a foreign caller,
an object's sharing grants may still let them read (GET/HEAD) or write (PUT/POST) it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from objectstore.api import headers, obj
from objectstore.api.auth import SwiftCaller, account_project, authorize, token_context
from objectstore.api.body import body_reader
from objectstore.api.pithos_read import serve_version
from objectstore.models import Container, Object
from objectstore.services import containers, hashmaps, objects, public, sharing, versions
from portal.api.authentication import TokenPrincipal
from portal.errors import DomainError, Forbidden, ValidationFailed

TRUE_VALUES = ("true", "1", "yes")
FALSE_VALUES = ("false", "0", "no", "")
SWIFT_POST_PREFIXES = ("HTTP_X_OBJECT_META_", "HTTP_X_REMOVE_OBJECT_META_", "HTTP_X_DELETE_")


def owner_caller(request: HttpRequest, account: str, cname: str = "", name: str = "") -> SwiftCaller:
    """The caller if they own the account (member/admin of its project), else Forbidden."""
    caller = authorize(request, account, cname, name)
    if not caller.owner:
        raise Forbidden("Access was denied to this resource.")
    return caller


def _shared_caller(request: HttpRequest, account: str, cname: str, name: str, *, write: bool) -> SwiftCaller:
    """A caller the object is shared with (read, or write when `write`), acting on the owner's account."""
    ctx = token_context(request)
    project = account_project(account)
    target = Object.objects.filter(container__project=project, container__name=cname, name=name).first()
    allowed = target is not None and sharing.can_access(target, ctx.user_id, write=write)
    if not allowed or (write and ctx.is_reader_only):
        raise Forbidden("Access was denied to this resource.")
    return SwiftCaller(ctx=ctx, project=project, actor=TokenPrincipal(ctx), owner=False)


def _caller(request: HttpRequest, account: str, cname: str, name: str, *, write: bool) -> SwiftCaller:
    """Roles and ACLs first, then sharing grants."""
    try:
        return authorize(request, account, cname, name)
    except Forbidden:
        return _shared_caller(request, account, cname, name, write=write)


def shared_access(
    request: HttpRequest, account: str, cname: str, name: str, refused: HttpResponseBase
) -> HttpResponseBase:
    """Serve a request Swift refused (403) when the object is shared with the caller; else the refusal."""
    method = request.method or "GET"
    handler = obj.HANDLERS.get(method)
    has_token = "HTTP_X_AUTH_TOKEN" in request.META or "HTTP_X_STORAGE_TOKEN" in request.META
    if handler is None or method not in ("GET", "HEAD", "PUT", "POST") or not has_token:
        return refused
    try:
        caller = _shared_caller(request, account, cname, name, write=method in ("PUT", "POST"))
    except DomainError:
        return refused
    return handler(request, caller, account, cname, name)


def _user_metadata(request: HttpRequest) -> dict[str, str]:
    """The object metadata a write sets (empty values dropped)."""
    return {k: v for k, v in headers.read_metadata(request, "Object").items() if v}


def _json(doc: object, status: int = 200, *, head: bool = False) -> HttpResponse:
    body = json.dumps(doc).encode()
    response = HttpResponse(b"" if head else body, status=status, content_type="application/json; charset=utf-8")
    response["Content-Length"] = str(len(body))
    return response


def read_special(request: HttpRequest, account: str, cname: str, name: str) -> HttpResponseBase:
    """`?version=list`, `?version=<id>` and `?hashmap` on GET/HEAD."""
    caller = _caller(request, account, cname, name, write=False)
    container = containers.get_container(caller.project, cname)
    wanted = request.GET.get("version", "")
    head = request.method == "HEAD"
    if wanted == "list":
        rows = [[v.pk, versions.version_timestamp(v)] for v in versions.list_versions(container, name)]
        return _json({"versions": rows}, head=head)
    version = versions.get_version(container, name, wanted) if wanted else objects.get_version(container, name)
    if "hashmap" in request.GET:
        response = _json(hashmaps.describe(version), head=head)
        response["ETag"] = version.etag
        response["X-Object-Version"] = str(version.pk)
        return response
    return serve_version(request, version)


def _created(version: objects.ObjectVersion) -> HttpResponse:
    response = HttpResponse(status=201, content_type="text/html; charset=UTF-8")
    response["ETag"] = version.etag
    response["Last-Modified"] = headers.last_modified(version.modified_at)
    response["X-Object-Version"] = str(version.pk)
    return response


def put_hashmap(request: HttpRequest, account: str, cname: str, name: str) -> HttpResponseBase:
    """PUT `?hashmap`: create the object from stored blocks, or 409 with the JSON list of missing hashes."""
    obj.check_object_name(name)
    caller = _caller(request, account, cname, name, write=True)
    pending = check_object_extras(request, account, cname, name) if _has_extras(request) else None
    container = containers.get_container(caller.project, cname)
    read, length = body_reader(request)
    if length is not None and length > hashmaps.MAX_HASHMAP_BODY:
        raise ValidationFailed("Hashmap too large")
    body = _read_small(read, hashmaps.MAX_HASHMAP_BODY)
    hashmap = hashmaps.parse_hashmap(body, container)
    attrs = objects.ObjectAttrs(
        content_type=headers.content_type(request, name),
        metadata=_user_metadata(request),
        delete_at=headers.delete_at(request),
    )
    given = request.headers.get("ETag")
    try:
        version = hashmaps.put_by_hashmap(
            container,
            name,
            hashmap,
            attrs,
            actor=caller.actor,
            expected_etag=headers.strip_etag(given) if given else None,
        )
    except hashmaps.MissingBlocks as exc:
        return _json(exc.missing, status=409)
    if pending is not None:
        apply_object_extras(request, pending)
    return _created(version)


def _read_small(read: Callable[[int], bytes], limit: int) -> bytes:
    """A whole (small) body, read piece by piece to its end; 400 past `limit` bytes."""
    parts: list[bytes] = []
    size = 0
    while piece := read(min(65536, limit + 1 - size)):
        parts.append(piece)
        size += len(piece)
        if size > limit:
            raise ValidationFailed("Hashmap too large")
    return b"".join(parts)


def move(request: HttpRequest, account: str, cname: str, name: str) -> HttpResponseBase:
    """MOVE (to `Destination`) or PUT with `X-Move-From`: a copy sharing blocks, then the source deleted."""
    caller = owner_caller(request, account, cname, name)
    if request.method == "MOVE":
        destination = request.META.get("HTTP_DESTINATION")
        if not destination:
            raise ValidationFailed("Destination header required")
        if request.headers.get("Destination-Account", account) != account:
            raise Forbidden("Access was denied to this resource.")
        (src_cname, src_name), (dst_cname, dst_name) = (
            (cname, name),
            headers.split_object_path(destination, "Destination"),
        )
    else:
        src_cname, src_name = headers.split_object_path(request.META["HTTP_X_MOVE_FROM"], "X-Move-From")
        dst_cname, dst_name = cname, name
    obj.check_object_name(dst_name)
    source_container = containers.get_container(caller.project, src_cname)
    target = containers.get_container(caller.project, dst_cname)
    given_type = headers.from_wire(request.META.get("CONTENT_TYPE", "")).strip()
    version = versions.move_object(
        source_container,
        src_name,
        target,
        dst_name,
        actor=caller.actor,
        metadata=_user_metadata(request),
        content_type=given_type or None,
    )
    sharing.clear_object_extras(source_container, src_name)
    response = _created(version)
    response["X-Moved-From"] = quote(f"{src_cname}/{src_name}")
    return response


def restore(request: HttpRequest, account: str, cname: str, name: str) -> HttpResponseBase:
    """POST with `X-Source-Version: <id>`: that version's content becomes current again (201)."""
    caller = owner_caller(request, account, cname, name)
    container = containers.get_container(caller.project, cname)
    version = versions.restore_version(
        container, name, request.META["HTTP_X_SOURCE_VERSION"].strip(), actor=caller.actor
    )
    return _created(version)


@dataclass(frozen=True)
class ObjectExtras:
    """Checked `X-Object-Sharing` / `X-Object-Public` values, applied once the write succeeded."""

    caller: SwiftCaller
    cname: str
    name: str
    sharing: sharing.Sharing | None
    public: bool | None


def _has_extras(request: HttpRequest) -> bool:
    return "HTTP_X_OBJECT_SHARING" in request.META or "HTTP_X_OBJECT_PUBLIC" in request.META


def has_swift_post_headers(request: HttpRequest) -> bool:
    """Whether a POST also changes what Swift's POST owns (metadata, expiry, Content-Type)."""
    if headers.from_wire(request.META.get("CONTENT_TYPE", "")).strip():
        return True
    return any(key.startswith(SWIFT_POST_PREFIXES) for key in request.META)


def check_object_extras(request: HttpRequest, account: str, cname: str, name: str) -> ObjectExtras:
    """Parse and resolve the Pithos object headers before the write (owners only; 400 when malformed)."""
    caller = owner_caller(request, account, cname, name)
    raw_sharing = request.META.get("HTTP_X_OBJECT_SHARING")
    parsed = sharing.parse_sharing(headers.from_wire(raw_sharing), caller.project) if raw_sharing is not None else None
    raw_public = request.META.get("HTTP_X_OBJECT_PUBLIC")
    flag: bool | None = None
    if raw_public is not None:
        value = raw_public.strip().lower()
        if value not in TRUE_VALUES + FALSE_VALUES:
            raise ValidationFailed("X-Object-Public must be true or false")
        flag = value in TRUE_VALUES
    return ObjectExtras(caller=caller, cname=cname, name=name, sharing=parsed, public=flag)


def apply_object_extras(request: HttpRequest, extras: ObjectExtras) -> None:
    """Write the checked sharing and public settings."""
    container = containers.get_container(extras.caller.project, extras.cname)
    if extras.sharing is not None:
        sharing.set_sharing(container, extras.name, extras.sharing, actor=extras.caller.actor)
    if extras.public is not None:
        public.set_public(container, extras.name, extras.public, actor=extras.caller.actor)


def post_extras(request: HttpRequest, account: str, cname: str, name: str) -> HttpResponseBase:
    """A POST that only sets sharing or the public flag (Swift metadata stays as it is): 202."""
    extras = check_object_extras(request, account, cname, name)
    objects.get_version(containers.get_container(extras.caller.project, cname), name)
    apply_object_extras(request, extras)
    return HttpResponse(status=202, content_type="text/html; charset=UTF-8")


def add_object_headers(request: HttpRequest, response: HttpResponseBase, account: str, cname: str, name: str) -> None:
    """On an owner's HEAD: `X-Object-Sharing` and `X-Object-Public: <url>` when set."""
    try:
        caller = owner_caller(request, account, cname, name)
    except DomainError:
        return
    target = Object.objects.filter(container__project=caller.project, container__name=cname, name=name).first()
    if target is None:
        return
    shared = sharing.format_sharing(target)
    if shared:
        response["X-Object-Sharing"] = headers.to_wire(shared)
    token = public.token_of(target.container, name)
    if token:
        response["X-Object-Public"] = request.build_absolute_uri(public.public_path(token))


def forget_object(account: str, cname: str, name: str) -> None:
    """After a DELETE: a deleted name loses its grants and public link."""
    container = Container.objects.filter(project_id=account.removeprefix("AUTH_"), name=cname).first()
    if container is not None:
        sharing.clear_object_extras(container, name)
