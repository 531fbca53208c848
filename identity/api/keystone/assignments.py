"""Role assignment views: grants of a role to a user on a project, and `/v3/role_assignments`.

Granting and revoking are admin-only; a user may read and check their own roles on the project
their token is scoped to. There are no groups, domain roles, system roles or inheritance, so
`effective` listings equal direct ones and filters on those come back empty.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from identity.api.keystone import policy, render
from identity.api.keystone.base import KeystoneView, get_or_404, no_content
from identity.models import Project, Role, RoleAssignment, User
from identity.services import roles
from portal.errors import NotFound

# Filters that can only match group, domain or system assignments, which do not exist here.
EMPTY_FILTERS = ("group.id", "scope.domain.id", "scope.system", "scope.OS-INHERIT:inherited_to")


def query_flag(request: Request, name: str) -> bool:
    """Keystone's flag parameters (`?include_names`, `?effective`): present and not `0`."""
    return name in request.query_params and request.query_params[name] != "0"


class ProjectUserRolesView(KeystoneView):
    """`GET /v3/projects/{project_id}/users/{user_id}/roles`: a user's roles on a project."""

    def get(self, request: Request, project_id: str, user_id: str) -> Response:
        """List the roles."""
        policy.require_admin_or_own_grant(self.ctx(), project_id, user_id, "list_grants")
        get_or_404(Project, project_id, "project")
        get_or_404(User, user_id, "user")
        queryset = Role.objects.filter(assignments__project_id=project_id, assignments__user_id=user_id)
        return Response(render.collection(request, "roles", [render.role(request, r) for r in queryset]))


class ProjectUserRoleView(KeystoneView):
    """`PUT`/`HEAD`/`DELETE /v3/projects/{project_id}/users/{user_id}/roles/{role_id}`."""

    def _objects(self, project_id: str, user_id: str, role_id: str) -> tuple[Project, User, Role]:
        return (
            get_or_404(Project, project_id, "project"),
            get_or_404(User, user_id, "user"),
            get_or_404(Role, role_id, "role"),
        )

    def put(self, request: Request, project_id: str, user_id: str, role_id: str) -> Response:
        """Grant the role (idempotent)."""
        policy.require_admin(self.ctx(), "create_grant")
        project, user, role = self._objects(project_id, user_id, role_id)
        roles.assign_role(user, project, role, actor=request.user)
        return no_content()

    def head(self, request: Request, project_id: str, user_id: str, role_id: str) -> Response:
        """204 when the user has the role on the project, 404 otherwise."""
        policy.require_admin_or_own_grant(self.ctx(), project_id, user_id, "check_grant")
        self._objects(project_id, user_id, role_id)
        if not RoleAssignment.objects.filter(project_id=project_id, user_id=user_id, role_id=role_id).exists():
            raise NotFound(
                f"Could not find role assignment with role: {role_id}, user or group: {user_id}, "
                f"project, domain, or system: {project_id}."
            )
        return no_content()

    get = head

    def delete(self, request: Request, project_id: str, user_id: str, role_id: str) -> Response:
        """Revoke the role (the user's tokens on the project are revoked too)."""
        policy.require_admin(self.ctx(), "revoke_grant")
        project, user, role = self._objects(project_id, user_id, role_id)
        roles.unassign_role(user, project, role, actor=request.user)
        return no_content()


class RoleAssignmentsView(KeystoneView):
    """`GET /v3/role_assignments` (filters: user.id, scope.project.id, role.id; include_names, effective)."""

    def get(self, request: Request) -> Response:
        """List role assignments (admin)."""
        policy.require_admin(self.ctx(), "list_role_assignments")
        params = request.query_params
        queryset = RoleAssignment.objects.select_related("role", "user__domain", "project__domain").order_by(
            "project_id", "user_id", "role__name"
        )
        for param, field in (("user.id", "user_id"), ("scope.project.id", "project_id"), ("role.id", "role_id")):
            if param in params:
                queryset = queryset.filter(**{field: params[param]})
        if any(params.get(name) for name in EMPTY_FILTERS):
            queryset = queryset.none()
        names = query_flag(request, "include_names")
        items = [render.assignment(request, a, names) for a in queryset]
        return Response(render.collection(request, "role_assignments", items))
