"""Project views: `/v3/projects` CRUD.

Listing and changing projects is admin-only (as Keystone's default policy: a member's
`GET /v3/projects` is a 403; users find theirs through `/v3/auth/projects` or
`/v3/users/{id}/projects`). A token scoped to a project may read that project.
Projects are flat: each one's parent is its domain, and project tags are not stored.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from identity.api.keystone import policy, render
from identity.api.keystone.base import (
    KeystoneView,
    body_entity,
    filter_query,
    get_or_404,
    no_content,
    optional_bool,
    optional_str,
    required_str,
)
from identity.models import DEFAULT_DOMAIN_ID, Project
from identity.services import projects
from portal.errors import ValidationFailed


def _reject_unsupported(entity: dict[str, Any], domain_id: str) -> None:
    """Refuse what a flat, tag-less project model cannot hold, instead of dropping it silently."""
    if entity.get("is_domain"):
        raise ValidationFailed("Projects acting as domains are not supported.")
    parent_id = entity.get("parent_id")
    if parent_id not in (None, domain_id):
        raise ValidationFailed("Project hierarchies are not supported: parent_id must be the domain.")
    if entity.get("tags"):
        raise ValidationFailed("Project tags are not supported.")


class ProjectsView(KeystoneView):
    """`GET /v3/projects` (filters: name, domain_id, enabled) and `POST /v3/projects` (admin)."""

    def get(self, request: Request) -> Response:
        """List projects."""
        policy.require_admin(self.ctx(), "list_projects")
        queryset = filter_query(
            request, Project.objects.all(), {"name": "name", "domain_id": "domain_id", "enabled": "enabled"}
        )
        return Response(render.collection(request, "projects", [render.project(request, p) for p in queryset]))

    def post(self, request: Request) -> Response:
        """Create a project."""
        policy.require_admin(self.ctx(), "create_project")
        entity = body_entity(request, "project")
        domain_id = optional_str(entity, "domain_id", "project") or DEFAULT_DOMAIN_ID
        _reject_unsupported(entity, domain_id)
        enabled = optional_bool(entity, "enabled", "project")
        project = projects.create_project(
            required_str(entity, "name", "project"),
            actor=request.user,
            domain_id=domain_id,
            description=optional_str(entity, "description", "project") or "",
            enabled=True if enabled is None else enabled,
        )
        return Response({"project": render.project(request, project)}, status=201)


class ProjectView(KeystoneView):
    """`GET`/`PATCH`/`DELETE /v3/projects/{project_id}`."""

    def get(self, request: Request, project_id: str) -> Response:
        """Show a project (admin, or a token scoped to it)."""
        policy.require_admin_or_project(self.ctx(), project_id, "get_project")
        return Response({"project": render.project(request, get_or_404(Project, project_id, "project"))})

    def patch(self, request: Request, project_id: str) -> Response:
        """Rename, describe, enable or disable a project (admin)."""
        policy.require_admin(self.ctx(), "update_project")
        entity = body_entity(request, "project")
        project = get_or_404(Project, project_id, "project")
        if entity.get("domain_id", project.domain_id) != project.domain_id:
            raise ValidationFailed("Cannot change the domain of a project.")
        _reject_unsupported(entity, project.domain_id)
        project = projects.update_project(
            project,
            actor=request.user,
            name=required_str(entity, "name", "project") if "name" in entity else None,
            description=optional_str(entity, "description", "project"),
            enabled=optional_bool(entity, "enabled", "project"),
        )
        return Response({"project": render.project(request, project)})

    def delete(self, request: Request, project_id: str) -> Response:
        """Delete a project (admin)."""
        policy.require_admin(self.ctx(), "delete_project")
        projects.delete_project(get_or_404(Project, project_id, "project"), actor=request.user)
        return no_content()
