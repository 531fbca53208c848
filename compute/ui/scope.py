"""What every compute page needs: the current project, the caller as a service context, write rights.

Every lookup starts from the project chosen in the navbar, so another project's server, network,
floating IP or image is simply not found (404, never data). The dashboard always acts inside that
project as a member: a user's cloud-wide admin role is not carried into these pages (admins use
the API or the admin pages for other projects), so `ctx.is_admin` is always False here.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from compute.models import Server
from identity.models import Project, RoleAssignment
from identity.tokens import TokenContext
from portal.errors import DomainError
from portal.ui.nav import current_project

WRITE_ROLES = frozenset({"member", "admin"})
CTX_TTL = 300


def project_of(request: HttpRequest) -> Project:
    """The current project (404 when the user has none)."""
    project = current_project(request)
    if project is None:
        raise Http404("No project")
    return project


def roles_of(request: HttpRequest, project: Project) -> frozenset[str]:
    """The user's role names on `project`, fetched once per request."""
    cache: dict[str, frozenset[str]] = request.__dict__.setdefault("_nefos_compute_roles", {})
    if project.pk not in cache:
        names = RoleAssignment.objects.filter(user=request.user, project=project).values_list("role__name", flat=True)
        cache[project.pk] = frozenset(names)
    return cache[project.pk]


def can_write(request: HttpRequest, project: Project) -> bool:
    """Whether the user may create and change resources of the project (member or admin role)."""
    return bool(WRITE_ROLES & roles_of(request, project))


def require_write(request: HttpRequest, project: Project) -> None:
    """403 for users who may only read (e.g. the reader role)."""
    if not can_write(request, project):
        raise PermissionDenied("You may not change resources of this project.")


def ctx_for(request: HttpRequest, project: Project) -> TokenContext:
    """The caller as the services see an API token: this user in this project, as a member at most."""
    roles = roles_of(request, project)
    shown = {"member"} if roles & WRITE_ROLES else set()
    if "reader" in roles or not shown:
        shown.add("reader")
    now = time.time()
    user = request.user
    return TokenContext(
        user_id=user.pk,
        user_name=getattr(user, "name", ""),
        user_domain_id=getattr(user, "domain_id", ""),
        project_id=project.pk,
        project_name=project.name,
        project_domain_id=project.domain_id,
        roles=tuple(sorted(shown)),
        methods=("dashboard",),
        issued_at=now,
        expires_at=now + CTX_TTL,
        audit_id="",
    )


def server_of(project: Project, server_id: Any) -> Server:
    """A live server of the project (404 for a foreign, deleted or malformed id)."""
    try:
        pk = uuid.UUID(str(server_id))
    except ValueError:
        raise Http404("No such server") from None
    server = Server.objects.for_project(project.pk).live().select_related("instance").filter(pk=pk).first()
    if server is None:
        raise Http404("No such server")
    return server


def wants_partial(request: HttpRequest) -> bool:
    """Whether htmx asks for a fragment (a history restore wants the whole page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def report(request: HttpRequest, exc: DomainError) -> None:
    """Show a service's refusal as an error message on the next page."""
    messages.error(request, exc.message)


def as_uuid(value: Any) -> uuid.UUID:
    """A UUID from a URL or form value (404 when malformed)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404("Not found") from None
