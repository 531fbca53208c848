"""User views: `/v3/users` CRUD, `/v3/users/{id}/password` and `/v3/users/{id}/projects`.

Listing, creating and deleting users is admin-only. A user may read their own record, change
their own email, description and default project, and change their own password (which, as in
Keystone, needs the original password rather than a token).
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from identity.api.keystone import policy, render
from identity.api.keystone.base import (
    EMAIL_MAX,
    PASSWORD_MAX,
    KeystoneView,
    PublicView,
    body_entity,
    filter_query,
    get_or_404,
    no_content,
    optional_bool,
    optional_str,
    query_bool,
    required_str,
)
from identity.models import DEFAULT_DOMAIN_ID, Project, User
from identity.services import users
from identity.services.roles import role_names
from portal.errors import Forbidden, Unauthorized, ValidationFailed

IMMUTABLE = {"id": "Cannot change user ID.", "domain_id": "Cannot change Domain ID."}


def _default_project(entity: dict[str, Any]) -> Project | None:
    """The project named by `default_project_id` (null clears it); an unknown id is a 400."""
    project_id = optional_str(entity, "default_project_id", "user")
    if not project_id:
        return None
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise ValidationFailed(f"Invalid input for field 'user.default_project_id': no project {project_id}.")
    return project


def _mutable_fields(user: User, entity: dict[str, Any]) -> dict[str, Any]:
    """The PATCH fields that may change: a different id or domain is a 400, `options` are ignored."""
    for field, message in IMMUTABLE.items():
        if field in entity and entity[field] != getattr(user, field):
            raise ValidationFailed(message)
    return {k: v for k, v in entity.items() if k not in IMMUTABLE and k != "options"}


def _changes(entity: dict[str, Any]) -> dict[str, Any]:
    """Translate a v3 user PATCH body into `users.update_user` keyword arguments."""
    changes: dict[str, Any] = {}
    if "name" in entity:
        changes["name"] = required_str(entity, "name", "user")
    for field, max_length in (("email", EMAIL_MAX), ("description", None), ("password", PASSWORD_MAX)):
        if field in entity:
            changes[field] = optional_str(entity, field, "user", max_length)
    if "enabled" in entity:
        changes["enabled"] = optional_bool(entity, "enabled", "user")
    if "default_project_id" in entity:
        changes["default_project"] = _default_project(entity)
    return changes


class UsersView(KeystoneView):
    """`GET /v3/users` (filters: name, domain_id, enabled) and `POST /v3/users` (admin)."""

    def get(self, request: Request) -> Response:
        """List users."""
        policy.require_admin(self.ctx(), "list_users")
        queryset = filter_query(request, User.objects.all(), {"name": "name", "domain_id": "domain_id"})
        if "enabled" in request.query_params:
            active = User.Status.ACTIVE
            enabled = query_bool(request.query_params["enabled"])
            queryset = queryset.filter(status=active) if enabled else queryset.exclude(status=active)
        return Response(render.collection(request, "users", [render.user(request, u) for u in queryset]))

    def post(self, request: Request) -> Response:
        """Create a user."""
        policy.require_admin(self.ctx(), "create_user")
        entity = body_entity(request, "user")
        enabled = optional_bool(entity, "enabled", "user")
        user = users.create_user(
            required_str(entity, "name", "user"),
            optional_str(entity, "password", "user", PASSWORD_MAX),
            actor=request.user,
            email=optional_str(entity, "email", "user", EMAIL_MAX) or "",
            description=optional_str(entity, "description", "user") or "",
            domain_id=optional_str(entity, "domain_id", "user") or DEFAULT_DOMAIN_ID,
            enabled=True if enabled is None else enabled,
            default_project=_default_project(entity),
        )
        return Response({"user": render.user(request, user)}, status=201)


class UserView(KeystoneView):
    """`GET`/`PATCH`/`DELETE /v3/users/{user_id}`."""

    def get(self, request: Request, user_id: str) -> Response:
        """Show a user (admin, or the user themselves)."""
        policy.require_admin_or_self(self.ctx(), user_id, "get_user")
        return Response({"user": render.user(request, get_or_404(User, user_id, "user"))})

    def patch(self, request: Request, user_id: str) -> Response:
        """Update a user; a non-admin may change only their own email, description and default project."""
        ctx = self.ctx()
        policy.require_admin_or_self(ctx, user_id, "update_user")
        entity = body_entity(request, "user")
        user = get_or_404(User, user_id, "user")
        wanted = entity.get("default_project_id")
        if not ctx.is_admin and wanted and not role_names(user.pk, str(wanted)):
            # Same answer for a missing and a foreign project: no probing of project ids.
            raise Forbidden("The default project must be one the user has a role on.")
        changes = _changes(_mutable_fields(user, entity))
        policy.require_user_update_allowed(ctx, set(changes))
        user = users.update_user(user, actor=request.user, **changes)
        return Response({"user": render.user(request, user)})

    def delete(self, request: Request, user_id: str) -> Response:
        """Delete a user (admin)."""
        policy.require_admin(self.ctx(), "delete_user")
        users.delete_user(get_or_404(User, user_id, "user"), actor=request.user)
        return no_content()


class UserPasswordView(PublicView):
    """`POST /v3/users/{user_id}/password`: the user changes their own password.

    As in Keystone, the original password is the credential (no token is needed, so a user whose
    tokens were revoked can still change it); an unknown user and a wrong password look the same.
    """

    def post(self, request: Request, user_id: str) -> Response:
        """Change the password; every existing token of the user is revoked."""
        entity = body_entity(request, "user")
        new = required_str(entity, "password", "user", PASSWORD_MAX)
        original = required_str(entity, "original_password", "user", PASSWORD_MAX)
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            raise Unauthorized("Error when changing user password: the original password is not correct.")
        users.change_own_password(user, original, new)
        return no_content()


class UserProjectsView(KeystoneView):
    """`GET /v3/users/{user_id}/projects`: the projects a user has a role on."""

    def get(self, request: Request, user_id: str) -> Response:
        """List the user's projects (admin, or the user themselves)."""
        policy.require_admin_or_self(self.ctx(), user_id, "list_user_projects")
        get_or_404(User, user_id, "user")
        queryset = filter_query(
            request,
            Project.objects.filter(assignments__user_id=user_id).distinct(),
            {"name": "name", "domain_id": "domain_id", "enabled": "enabled"},
        )
        return Response(render.collection(request, "projects", [render.project(request, p) for p in queryset]))
