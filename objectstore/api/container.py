"""Swift container requests: PUT, HEAD, GET (object listing), POST (metadata), DELETE."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from objectstore import limits
from objectstore.api import ext_quota, headers
from objectstore.api.auth import SwiftCaller
from objectstore.api.listing import listing_query, render_listing
from objectstore.errors import BadRequestHtml
from objectstore.models import Container
from objectstore.services import acl, containers, listing
from portal.errors import ValidationFailed

ACL_HEADERS = {"read_acl": "HTTP_X_CONTAINER_READ", "write_acl": "HTTP_X_CONTAINER_WRITE"}
STORAGE_POLICY = "default"


def check_container_name(name: str) -> None:
    """Swift's container name rule: at most 256 bytes (a slash cannot reach here)."""
    if len(name.encode()) > limits.MAX_CONTAINER_NAME_LENGTH:
        raise BadRequestHtml(
            f"Container name length of {len(name.encode())} longer than {limits.MAX_CONTAINER_NAME_LENGTH}"
        )


def check_storage_policy(request: HttpRequest) -> None:
    """`X-Storage-Policy` may only name the one policy there is (`default`, any case); else 400."""
    given = request.headers.get("X-Storage-Policy")
    if given and given.strip().lower() != STORAGE_POLICY:
        raise ValidationFailed(f"Invalid X-Storage-Policy '{headers.from_wire(given)}'")


def _policy(request: HttpRequest) -> dict[str, str]:
    """ACL strings the request sets, validated (enforced by `api.auth` through `services.acl`)."""
    given = {field: request.META[key] for field, key in ACL_HEADERS.items() if key in request.META}
    return {field: acl.clean(headers.from_wire(value)) for field, value in given.items()}


def _container_headers(response: HttpResponse, container: Container) -> HttpResponse:
    usage = containers.container_usage(container)
    response["X-Container-Object-Count"] = str(usage.objects)
    response["X-Container-Bytes-Used"] = str(usage.bytes)
    response["X-Timestamp"] = headers.timestamp(container.created_at)
    response["X-Put-Timestamp"] = headers.timestamp(container.updated_at)
    response["Last-Modified"] = headers.last_modified(container.updated_at)
    response["X-Storage-Policy"] = STORAGE_POLICY
    if container.read_acl:
        response["X-Container-Read"] = headers.to_wire(container.read_acl)
    if container.write_acl:
        response["X-Container-Write"] = headers.to_wire(container.write_acl)
    headers.write_metadata(response, container.metadata, "Container")
    return response


def put(request: HttpRequest, caller: SwiftCaller, account: str, name: str) -> HttpResponse:
    """Create the container (201) or update its metadata (202)."""
    check_container_name(name)
    check_storage_policy(request)
    metadata = headers.read_metadata(request, "Container")
    ext_quota.check_container_metadata(metadata)
    _, created = containers.put_container(
        caller.project, name, metadata=metadata, actor=caller.actor, policy=_policy(request)
    )
    return HttpResponse(status=201 if created else 202, content_type="text/html; charset=UTF-8")


def head(request: HttpRequest, caller: SwiftCaller, account: str, name: str) -> HttpResponse:
    """Container usage and metadata."""
    container = containers.get_container(caller.project, name)
    return _container_headers(headers.empty_204("text/plain; charset=utf-8"), container)


def get(request: HttpRequest, caller: SwiftCaller, account: str, name: str) -> HttpResponse:
    """The container's objects, one page."""
    container = containers.get_container(caller.project, name)
    query = listing_query(request, limits.CONTAINER_LISTING_LIMIT)
    rows = listing.list_objects(container, query)
    return _container_headers(render_listing(request, "container", name, rows), container)


def post(request: HttpRequest, caller: SwiftCaller, account: str, name: str) -> HttpResponse:
    """Set or remove container metadata and ACLs."""
    metadata = headers.read_metadata(request, "Container")
    ext_quota.check_container_metadata(metadata)
    containers.update_container(caller.project, name, metadata=metadata, policy=_policy(request))
    return HttpResponse(status=204)


def delete(request: HttpRequest, caller: SwiftCaller, account: str, name: str) -> HttpResponse:
    """Delete an empty container (409 when it holds objects)."""
    containers.delete_container(caller.project, name, actor=caller.actor)
    return HttpResponse(status=204)


HANDLERS = {"PUT": put, "HEAD": head, "GET": get, "POST": post, "DELETE": delete}
