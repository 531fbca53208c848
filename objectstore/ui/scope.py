"""What every file-browser view needs: the current project, its containers, write rights, names.

All lookups start from the project chosen in the navbar, so another project's container (or a
project the user is not in) is simply not found: 404, never data.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from identity.models import Project, RoleAssignment
from identity.services import quotas
from objectstore import limits
from objectstore.models import Container
from objectstore.services import charges, containers
from portal.errors import NotFound, ValidationFailed
from portal.ui.nav import current_project
from portal.ui.quota_bars import QuotaBar, quota_bars

WRITE_ROLES = ("member", "admin")


def project_of(request: HttpRequest) -> Project:
    """The current project (404 when the user has none)."""
    project = current_project(request)
    if project is None:
        raise Http404("No project")
    return project


def container_of(request: HttpRequest, name: str) -> Container:
    """A container of the current project by name (404 otherwise)."""
    try:
        return containers.get_container(project_of(request), name)
    except NotFound as exc:
        raise Http404("No such container") from exc


def can_write(request: HttpRequest, project: Project) -> bool:
    """Whether the user holds a role that may change the project's files."""
    return RoleAssignment.objects.filter(user=request.user, project=project, role__name__in=WRITE_ROLES).exists()


def require_write(request: HttpRequest, project: Project) -> None:
    """403 for users who may only read (e.g. the reader role)."""
    if not can_write(request, project):
        raise PermissionDenied("You may not change files in this project.")


def check_object_name(name: str) -> str:
    """An object name from a form or query: 1 to 1024 bytes, no NUL (ValidationFailed otherwise)."""
    if not name or "\x00" in name:
        raise ValidationFailed("A name is required and cannot contain NUL.")
    if len(name.encode()) > limits.MAX_OBJECT_NAME_LENGTH:
        raise ValidationFailed(f"Names are at most {limits.MAX_OBJECT_NAME_LENGTH} bytes.")
    return name


def storage_bars(project: Project) -> list[QuotaBar]:
    """The project's object storage quota bar (`objectstore.bytes`)."""
    return quota_bars([row for row in quotas.usage(project) if row["resource"] == charges.RESOURCE])
