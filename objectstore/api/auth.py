"""Who may touch which Swift account: the Keystone token's project is the account.

`AUTH_<project_id>` must be the token's project, unless the caller is a cloud admin.
Reader-only tokens may only GET and HEAD.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from identity.models import Project
from identity.tokens import TokenContext, validate
from portal.api.authentication import TokenPrincipal
from portal.errors import Forbidden, NotFound, Unauthorized

RESELLER_PREFIX = "AUTH_"
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class SwiftCaller:
    """An authenticated caller on a resolved account."""

    ctx: TokenContext
    project: Project
    actor: TokenPrincipal


def token_context(request: HttpRequest) -> TokenContext:
    """The context of the request's X-Auth-Token / X-Storage-Token (Unauthorized if absent or bad)."""
    token = request.META.get("HTTP_X_AUTH_TOKEN") or request.META.get("HTTP_X_STORAGE_TOKEN")
    if not token:
        raise Unauthorized("Authentication required.")
    return validate(token.strip())


def authorize(request: HttpRequest, account: str) -> SwiftCaller:
    """Authenticate and check the account and method; returns the caller and the account's project."""
    ctx = token_context(request)
    project_id = account[len(RESELLER_PREFIX) :] if account.startswith(RESELLER_PREFIX) else None
    if project_id is None or not ctx.project_id:
        raise Forbidden("Access was denied to this resource.")
    if project_id != ctx.project_id and not ctx.is_admin:
        raise Forbidden("Access was denied to this resource.")
    if ctx.is_reader_only and request.method not in READ_METHODS:
        raise Forbidden("Access was denied to this resource.")
    project = Project.objects.filter(pk=project_id).first()
    if project is None or not project.enabled:
        raise NotFound("The resource could not be found.")
    return SwiftCaller(ctx=ctx, project=project, actor=TokenPrincipal(ctx))
