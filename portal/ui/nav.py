"""Layout helpers shared by every dashboard page: the user's projects, the current project
(kept in the session, switched from the navbar) and whether the user may see the admin pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from identity.models import Project, RoleAssignment, User

SESSION_PROJECT = "nefos_project_id"
ADMIN_ROLE = "admin"


def member_projects(user: User) -> QuerySet[Project]:
    """The projects a user has any role on: the only projects dashboard pages show them.

    A subquery rather than a join, so that annotations over assignments count every member.
    """
    mine = RoleAssignment.objects.filter(user_id=user.pk).values("project_id")
    return Project.objects.filter(pk__in=mine).order_by("name")


def user_projects(request: HttpRequest) -> list[Project]:
    """The signed-in user's projects, fetched once per request."""
    cached = getattr(request, "_nefos_projects", None)
    if cached is None:
        cached = list(member_projects(request.user)) if request.user.is_authenticated else []
        request._nefos_projects = cached  # type: ignore[attr-defined]
    return cached


def current_project(request: HttpRequest) -> Project | None:
    """The project chosen in the navbar, else the user's default project, else their first one."""
    projects = user_projects(request)
    wanted = request.session.get(SESSION_PROJECT) or getattr(request.user, "default_project_id", None)
    for project in projects:
        if project.pk == wanted:
            return project
    return projects[0] if projects else None


def is_portal_admin(user: Any) -> bool:
    """Staff, superusers and users with the admin role on any project may use the admin pages."""
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_nefos_is_admin", None)
    if cached is None:
        cached = bool(
            user.is_staff
            or user.is_superuser
            or RoleAssignment.objects.filter(user=user, role__name=ADMIN_ROLE).exists()
        )
        user._nefos_is_admin = cached
    return cached


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a view: anonymous users go to the login page, non-admins get 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_portal_admin(request.user):
            raise PermissionDenied("This page is for administrators.")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def page_context(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs: navbar projects, the current project, the admin flag, the region."""
    return {
        "nav_projects": user_projects(request),
        "current_project": current_project(request),
        "is_portal_admin": is_portal_admin(request.user),
        "portal_region": settings.PORTAL_REGION,
    }


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HttpResponse:
    """Render a dashboard page with the layout's context."""
    return render(request, template, {**page_context(request), **(context or {})}, status=status)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The `next` parameter if it points back to this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
