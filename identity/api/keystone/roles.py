"""Role views: `/v3/roles` list/create and `/v3/roles/{role_id}` get/delete (admin, as in Keystone)."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from identity.api.keystone import policy, render
from identity.api.keystone.base import (
    KeystoneView,
    body_entity,
    filter_query,
    get_or_404,
    no_content,
    optional_str,
    required_str,
)
from identity.models import Role
from identity.services import roles
from portal.errors import ValidationFailed


class RolesView(KeystoneView):
    """`GET /v3/roles` (filter: name) and `POST /v3/roles`."""

    def get(self, request: Request) -> Response:
        """List roles."""
        policy.require_admin(self.ctx(), "list_roles")
        queryset = filter_query(request, Role.objects.all(), {"name": "name"})
        if request.query_params.get("domain_id"):
            queryset = queryset.none()
        return Response(render.collection(request, "roles", [render.role(request, r) for r in queryset]))

    def post(self, request: Request) -> Response:
        """Create a global role (domain-specific roles are not supported)."""
        policy.require_admin(self.ctx(), "create_role")
        entity = body_entity(request, "role")
        if entity.get("domain_id"):
            raise ValidationFailed("Domain-specific roles are not supported.")
        role = roles.create_role(
            required_str(entity, "name", "role"),
            actor=request.user,
            description=optional_str(entity, "description", "role") or "",
        )
        return Response({"role": render.role(request, role)}, status=201)


class RoleView(KeystoneView):
    """`GET`/`DELETE /v3/roles/{role_id}`."""

    def get(self, request: Request, role_id: str) -> Response:
        """Show a role."""
        policy.require_admin(self.ctx(), "get_role")
        return Response({"role": render.role(request, get_or_404(Role, role_id, "role"))})

    def delete(self, request: Request, role_id: str) -> Response:
        """Delete a role (built-in roles are kept: 409)."""
        policy.require_admin(self.ctx(), "delete_role")
        roles.delete_role(get_or_404(Role, role_id, "role"), actor=request.user)
        return no_content()
