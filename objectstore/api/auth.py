"""Who may touch which Swift account: the Keystone token's project is the account.

Roles decide ownership of the token's own project: `member` and `admin` own it (every
request), `reader` may GET and HEAD it, any other role has no right of its own. A cloud admin
owns every account. Everyone else — other projects' users, users without an owning role,
callers without a token — gets only what the container's ACLs grant (`services.acl`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from django.http import HttpRequest

from identity.models import Project
from identity.tokens import TokenContext, validate
from objectstore.models import Container
from objectstore.services import acl
from portal.api.authentication import TokenPrincipal
from portal.errors import Forbidden, NotFound, Unauthorized

RESELLER_PREFIX = "AUTH_"
READ_METHODS = frozenset({"GET", "HEAD"})
OWNER_ROLES = frozenset({"member", "admin"})
OBJECT_WRITE_METHODS = frozenset({"PUT", "POST", "DELETE"})


@dataclass(frozen=True)
class SwiftCaller:
    """An authorized caller on a resolved account; `owner` is False for ACL-granted access."""

    ctx: TokenContext | None
    project: Project
    actor: TokenPrincipal | None
    owner: bool = True
    # Temp URL callers: `tempurl` is set; `container_scope` names the container whose key signed
    # (a manifest read through it may not reach segments in other containers).
    tempurl: bool = False
    container_scope: str | None = None


def token_context(request: HttpRequest) -> TokenContext:
    """The context of the request's X-Auth-Token / X-Storage-Token (Unauthorized if absent or bad)."""
    token = request.META.get("HTTP_X_AUTH_TOKEN") or request.META.get("HTTP_X_STORAGE_TOKEN")
    if not token:
        raise Unauthorized("Authentication required.")
    return validate(token.strip())


def account_project(account: str) -> Project:
    """The enabled project an `AUTH_<project_id>` account names (NotFound otherwise)."""
    project_id = account[len(RESELLER_PREFIX) :] if account.startswith(RESELLER_PREFIX) else ""
    project = Project.objects.filter(pk=project_id).first() if project_id else None
    if project is None or not project.enabled:
        raise NotFound("The resource could not be found.")
    return project


def _own_access(ctx: TokenContext, project: Project, method: str) -> bool:
    """Whether the token's roles alone allow `method` on `project`'s account."""
    if ctx.is_admin:
        return True
    if ctx.project_id != project.pk:
        return False
    if OWNER_ROLES & set(ctx.roles):
        return True
    return ctx.is_reader_only and method in READ_METHODS


def _acl_allows(request: HttpRequest, ctx: TokenContext | None, project: Project, cname: str, oname: str) -> bool:
    """Whether the container ACLs allow this request to a non-owner (container GET/HEAD or object verbs)."""
    container = Container.objects.filter(project=project, name=cname).first() if cname else None
    if container is None:
        return False
    method = request.method or "GET"
    referrer = request.META.get("HTTP_REFERER", "")
    if not oname:
        return method in READ_METHODS and acl.may_read(container.read_acl, ctx, referrer, listing=True)
    if method in READ_METHODS:
        return acl.may_read(container.read_acl, ctx, referrer, listing=False)
    if method == "COPY":
        destination = unquote(request.META.get("HTTP_DESTINATION", "")).lstrip("/").partition("/")[0]
        target = Container.objects.filter(project=project, name=destination).first()
        return (
            target is not None
            and acl.may_read(container.read_acl, ctx, referrer, listing=False)
            and acl.may_write(target.write_acl, ctx)
        )
    if method not in OBJECT_WRITE_METHODS or not acl.may_write(container.write_acl, ctx):
        return False
    source = request.META.get("HTTP_X_COPY_FROM")
    if method == "PUT" and source:
        src_name = unquote(source).lstrip("/").partition("/")[0]
        src = Container.objects.filter(project=project, name=src_name).first()
        return src is not None and acl.may_read(src.read_acl, ctx, referrer, listing=False)
    return True


def authorize(request: HttpRequest, account: str, cname: str = "", oname: str = "") -> SwiftCaller:
    """Authenticate (when a token is given) and check the request against roles, then container ACLs."""
    has_token = bool(request.META.get("HTTP_X_AUTH_TOKEN") or request.META.get("HTTP_X_STORAGE_TOKEN"))
    ctx = token_context(request) if has_token else None
    method = request.method or "GET"
    if ctx is not None and not ctx.project_id:
        raise Forbidden("Access was denied to this resource.")
    try:
        project = account_project(account)
    except NotFound:
        if ctx is None:
            raise Unauthorized("Authentication required.") from None
        if not ctx.is_admin and account != RESELLER_PREFIX + (ctx.project_id or ""):
            raise Forbidden("Access was denied to this resource.") from None
        raise
    if ctx is not None and _own_access(ctx, project, method):
        return SwiftCaller(ctx=ctx, project=project, actor=TokenPrincipal(ctx))
    if _acl_allows(request, ctx, project, cname, oname):
        return SwiftCaller(
            ctx=ctx, project=project, actor=TokenPrincipal(ctx) if ctx is not None else None, owner=False
        )
    if ctx is None:
        raise Unauthorized("Authentication required.")
    raise Forbidden("Access was denied to this resource.")
