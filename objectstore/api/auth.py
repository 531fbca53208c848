"""Who may touch which Swift account: the Keystone token's project is the account.

Roles decide ownership of the token's own project: `member` and `admin` own it (every
request), `reader` may GET and HEAD it, any other role has no right of its own. A cloud admin
owns every account. Everyone else — other projects' users, users without an owning role,
callers without a token — gets only what the container's ACLs grant (`services.acl`).
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _acl_allows(
    request: HttpRequest, ctx: TokenContext | None, project: Project, cname: str, oname: str, method: str
) -> bool:
    """Whether the container ACLs allow `method` to a non-owner (container GET/HEAD or object verbs)."""
    container = Container.objects.filter(project=project, name=cname).first() if cname else None
    if container is None:
        return False
    referrer = request.META.get("HTTP_REFERER", "")
    if not oname:
        return method in READ_METHODS and acl.may_read(container.read_acl, ctx, referrer, listing=True)
    if method in READ_METHODS:
        return acl.may_read(container.read_acl, ctx, referrer, listing=False)
    return method in OBJECT_WRITE_METHODS and acl.may_write(container.write_acl, ctx)


def check_access(
    request: HttpRequest, ctx: TokenContext | None, account: str, cname: str, oname: str, method: str
) -> SwiftCaller:
    """The caller `ctx` doing `method` on a path: roles on the account's project first, then container ACLs.

    A missing account is 401 without a token, 403 for someone else's account name and 404 for
    one's own; a refused request is 401 without a token, else 403.
    """
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
    if _acl_allows(request, ctx, project, cname, oname, method):
        return SwiftCaller(
            ctx=ctx, project=project, actor=TokenPrincipal(ctx) if ctx is not None else None, owner=False
        )
    if ctx is None:
        raise Unauthorized("Authentication required.")
    raise Forbidden("Access was denied to this resource.")


def request_context(request: HttpRequest) -> TokenContext | None:
    """The request's token context, or None when it carries no token (Unauthorized if the token is bad)."""
    has_token = bool(request.META.get("HTTP_X_AUTH_TOKEN") or request.META.get("HTTP_X_STORAGE_TOKEN"))
    return token_context(request) if has_token else None


def authorize(request: HttpRequest, account: str, cname: str = "", oname: str = "") -> SwiftCaller:
    """Authenticate (when a token is given) and check the request's own path against roles, then ACLs.

    A COPY is checked here as a read of its source; `api.copying` checks the destination (and, for
    a PUT with X-Copy-From, the source) on its own.
    """
    method = request.method or "GET"
    return check_access(request, request_context(request), account, cname, oname, "GET" if method == "COPY" else method)
