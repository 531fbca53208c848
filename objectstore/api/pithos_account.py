"""Pithos account and container handlers: `?shared` listings, raw block uploads, versioning policy, groups.

- `GET /v1/AUTH_<me>?shared`: the accounts that share something with me.
- `GET /v1/AUTH_<other>?shared`: that account's containers holding objects shared with me.
- `GET /v1/AUTH_<other>/<container>?shared`: the objects there shared with me; on my own
  account, the objects of mine I share with anybody.
- `POST /v1/AUTH_<me>/<container>?update` with `Content-Type: application/octet-stream`: the
  body is raw blocks (cut at the container's block size); the answer lists their hashes.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from objectstore.api import headers
from objectstore.api.auth import account_project, token_context
from objectstore.api.body import body_reader
from objectstore.api.listing import CONTENT_TYPES, listing_format, render_listing
from objectstore.api.pithos_handlers import owner_caller
from objectstore.models import Container, Object
from objectstore.services import containers, hashmaps, sharing, versions
from portal.errors import Forbidden, NotFound, ValidationFailed

POLICY_HEADER = "HTTP_X_CONTAINER_POLICY_VERSIONING"
GROUP_HEADER = "HTTP_X_ACCOUNT_GROUP_"
BLOCK_CONTENT_TYPE = "application/octet-stream"
MAX_GROUPS = 64


def _object_row(item: Object) -> dict[str, Any]:
    version = item.current
    return {
        "name": item.name,
        "bytes": version.size,
        "hash": version.etag,
        "content_type": version.content_type,
        "last_modified": version.modified_at,
    }


def shared_in_container(request: HttpRequest, account: str, cname: str) -> HttpResponseBase:
    """Objects of a container shared with me (or, on my own account, shared by me)."""
    ctx = token_context(request)
    project = account_project(account)
    if ctx.project_id == project.pk:
        caller = owner_caller(request, account, cname)
        items = sharing.shared_by_owner(containers.get_container(caller.project, cname))
    else:
        container = Container.objects.filter(project=project, name=cname).first()
        items = sharing.shared_in_container(container, ctx.user_id) if container is not None else []
        if not items:
            raise Forbidden("Access was denied to this resource.")
    return render_listing(request, "container", cname, [_object_row(item) for item in items])


def shared_accounts(request: HttpRequest, account: str) -> HttpResponseBase:
    """On my account: accounts sharing with me; on another: its containers with something shared with me."""
    ctx = token_context(request)
    if account == f"AUTH_{ctx.project_id}":
        owner_caller(request, account)
        projects = sharing.sharing_accounts(ctx.user_id)
        if listing_format(request) == "json":
            doc = [{"name": f"AUTH_{p.pk}", "project": p.name} for p in projects]
            return HttpResponse(json.dumps(doc), content_type=CONTENT_TYPES["json"])
        if not projects:
            return HttpResponse(status=204, content_type=CONTENT_TYPES["plain"])
        text = "".join(f"AUTH_{p.pk}\n" for p in projects)
        return HttpResponse(text.encode(), content_type=CONTENT_TYPES["plain"])
    project = account_project(account)
    names = sharing.shared_containers(project, ctx.user_id)
    if not names:
        raise Forbidden("Access was denied to this resource.")
    rows = []
    for container in Container.objects.filter(project=project, name__in=names).order_by("name"):
        items = sharing.shared_in_container(container, ctx.user_id)
        rows.append(
            {
                "name": container.name,
                "count": len(items),
                "bytes": sum(item.current.size for item in items),
                "last_modified": container.created_at,
            }
        )
    return render_listing(request, "account", account, rows)


def is_block_upload(request: HttpRequest) -> bool:
    """Whether a container POST carries raw blocks (`Content-Type: application/octet-stream`)."""
    return headers.from_wire(request.META.get("CONTENT_TYPE", "")).split(";")[0].strip() == BLOCK_CONTENT_TYPE


def upload_blocks(request: HttpRequest, account: str, cname: str) -> HttpResponseBase:
    """Store raw blocks; 202 with their hashes, one a line (a JSON list with `format=json`)."""
    caller = owner_caller(request, account, cname)
    container = containers.get_container(caller.project, cname)
    read, length = body_reader(request)
    hashes = hashmaps.upload_blocks(container, read, length)
    if listing_format(request) == "json":
        return HttpResponse(json.dumps(hashes), status=202, content_type=CONTENT_TYPES["json"])
    return HttpResponse("".join(f"{h}\n" for h in hashes).encode(), status=202, content_type=CONTENT_TYPES["plain"])


def check_policy(request: HttpRequest) -> str | None:
    """The `X-Container-Policy-Versioning` value (auto or none), None when absent; 400 when invalid."""
    raw = request.META.get(POLICY_HEADER)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value not in versions.POLICIES:
        raise ValidationFailed("X-Container-Policy-Versioning must be auto or none")
    return value


def apply_policy(request: HttpRequest, account: str, cname: str, policy: str) -> None:
    """Set the container's versioning policy after Swift's PUT/POST succeeded."""
    caller = owner_caller(request, account, cname)
    versions.set_policy(containers.get_container(caller.project, cname), policy, actor=caller.actor)


def add_container_headers(response: HttpResponseBase, account: str, cname: str) -> None:
    """`X-Container-Policy-Versioning` on a container HEAD."""
    policy = (
        Container.objects.filter(project_id=account.removeprefix("AUTH_"), name=cname)
        .values_list("versioning", flat=True)
        .first()
    )
    if policy:
        response["X-Container-Policy-Versioning"] = policy


def check_groups(request: HttpRequest, account: str) -> dict[str, list[str]]:
    """`X-Account-Group-<name>: user1,user2` headers, checked (owner only; users must exist)."""
    owner_caller(request, account)
    groups: dict[str, list[str]] = {}
    for key, value in request.META.items():
        if key.startswith(GROUP_HEADER):
            name = sharing.check_group_name(key[len(GROUP_HEADER) :].replace("_", "-"))
            refs = [ref.strip() for ref in headers.from_wire(value).split(",") if ref.strip()]
            if len(refs) > sharing.MAX_ENTRIES:
                raise ValidationFailed("Too many members in a group")
            for ref in refs:
                sharing.find_user(ref)
            groups[name] = refs
    if len(groups) > MAX_GROUPS:
        raise ValidationFailed("Too many groups")
    return groups


def apply_groups(request: HttpRequest, account: str, groups: dict[str, list[str]]) -> None:
    """Write the checked groups after Swift's account POST succeeded."""
    caller = owner_caller(request, account)
    sharing.set_groups(caller.project, groups, actor=caller.actor)


def add_account_headers(response: HttpResponseBase, account: str) -> None:
    """`X-Account-Group-<name>: members` on an account HEAD."""
    try:
        project = account_project(account)
    except NotFound:
        return
    for name, members in sharing.account_groups(project).items():
        response[f"X-Account-Group-{name}"] = headers.to_wire(",".join(members))
