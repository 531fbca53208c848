"""Application credential views: `/v3/users/{user_id}/application_credentials[/{id}]`.

A user creates credentials for themselves only, on the project their token is scoped to, with
at most the roles they hold there; the secret is returned once. Admins may read and delete
anyone's. A token obtained from a restricted application credential cannot manage credentials.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework.request import Request
from rest_framework.response import Response

from identity.api.keystone import policy, render
from identity.api.keystone.base import (
    KeystoneView,
    body_entity,
    get_or_404,
    no_content,
    optional_bool,
    optional_str,
    required_str,
)
from identity.models import ApplicationCredential, Project, Role
from identity.services import app_credentials
from identity.tokens import TokenContext
from portal.errors import Forbidden, NotFound, ValidationFailed


def _expires_at(entity: dict[str, Any]) -> datetime | None:
    """The optional expiry, ISO 8601; a time without zone is UTC (as Keystone reads it)."""
    text = optional_str(entity, "expires_at", "application_credential")
    if not text:
        return None
    try:
        value = parse_datetime(text)
    except ValueError:
        value = None
    if value is None:
        raise ValidationFailed("Invalid input for field 'application_credential.expires_at': not an ISO 8601 time.")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _role_names(entity: dict[str, Any]) -> list[str] | None:
    """Role names from `roles: [{id} | {name}]`; None (all the caller's roles) when absent."""
    specs = entity.get("roles")
    if specs is None:
        return None
    if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
        raise ValidationFailed("Invalid input for field 'application_credential.roles': expected a list of objects.")
    names = []
    for spec in specs:
        if "id" in spec:
            names.append(get_or_404(Role, str(spec["id"]), "role").name)
        elif isinstance(spec.get("name"), str):
            role = Role.objects.filter(name=spec["name"]).first()
            if role is None:
                raise NotFound(f"Could not find role: {spec['name']}.")
            names.append(role.name)
        else:
            raise ValidationFailed("Each role needs an id or a name.")
    return names


def _check_may_manage(ctx: TokenContext) -> None:
    """Keystone refuses credential management to tokens from restricted application credentials."""
    if ctx.app_cred_id and not ApplicationCredential.objects.filter(pk=ctx.app_cred_id, unrestricted=True).exists():
        raise Forbidden(
            "Using method 'application_credential' is not allowed for managing additional application credentials."
        )


class AppCredentialsView(KeystoneView):
    """`GET` (filter: name) and `POST /v3/users/{user_id}/application_credentials`."""

    def get(self, request: Request, user_id: str) -> Response:
        """List a user's credentials (admin, or the user)."""
        policy.require_admin_or_self(self.ctx(), user_id, "list_application_credentials")
        queryset = ApplicationCredential.objects.filter(user_id=user_id).prefetch_related("roles")
        if "name" in request.query_params:
            queryset = queryset.filter(name=request.query_params["name"])
        items = [render.app_credential(request, c) for c in queryset]
        return Response(render.collection(request, "application_credentials", items))

    def post(self, request: Request, user_id: str) -> Response:
        """Create a credential on the token's project; the secret is in this response only."""
        ctx = self.ctx()
        policy.require_owner(ctx, user_id, "create_application_credential")
        _check_may_manage(ctx)
        if not ctx.project_id:
            raise Forbidden("Application credentials can only be created with a project-scoped token.")
        entity = body_entity(request, "application_credential")
        if entity.get("access_rules"):
            raise ValidationFailed("Application credential access rules are not supported.")
        cred, secret = app_credentials.create_app_credential(
            request.user.model,
            get_or_404(Project, ctx.project_id, "project"),
            required_str(entity, "name", "application_credential"),
            actor=request.user,
            secret=optional_str(entity, "secret", "application_credential"),
            description=optional_str(entity, "description", "application_credential") or "",
            expires_at=_expires_at(entity),
            roles=_role_names(entity),
            unrestricted=bool(optional_bool(entity, "unrestricted", "application_credential")),
        )
        return Response({"application_credential": render.app_credential(request, cred, secret)}, status=201)


class AppCredentialView(KeystoneView):
    """`GET`/`DELETE /v3/users/{user_id}/application_credentials/{cred_id}`."""

    def _cred(self, user_id: str, cred_id: str) -> ApplicationCredential:
        return get_or_404(ApplicationCredential.objects.filter(user_id=user_id), cred_id, "application credential")

    def get(self, request: Request, user_id: str, cred_id: str) -> Response:
        """Show a credential, without its secret."""
        policy.require_admin_or_self(self.ctx(), user_id, "get_application_credential")
        return Response({"application_credential": render.app_credential(request, self._cred(user_id, cred_id))})

    def delete(self, request: Request, user_id: str, cred_id: str) -> Response:
        """Delete a credential and revoke the tokens it issued."""
        ctx = self.ctx()
        policy.require_admin_or_self(ctx, user_id, "delete_application_credential")
        _check_may_manage(ctx)
        app_credentials.delete_app_credential(self._cred(user_id, cred_id), actor=request.user)
        return no_content()
