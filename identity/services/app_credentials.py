"""Application credentials: secrets for scripts, bound to one user and project."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from identity.models import ApplicationCredential, Project, Role, User
from identity.services import revocation
from identity.services.roles import role_names
from portal import audit
from portal.errors import Conflict, Forbidden, ValidationFailed


@transaction.atomic
def create_app_credential(
    user: User,
    project: Project,
    name: str,
    *,
    actor: Any,
    secret: str | None = None,
    description: str = "",
    expires_at: datetime | None = None,
    roles: list[str] | None = None,
    unrestricted: bool = False,
) -> tuple[ApplicationCredential, str]:
    """Create a credential; returns it and its secret (shown once, stored hashed)."""
    name = (name or "").strip()
    if not name or len(name) > 255:
        raise ValidationFailed("An application credential name of 1 to 255 characters is required.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("The expiration time must be in the future.")
    if ApplicationCredential.objects.filter(user=user, name=name).exists():
        raise Conflict(f"Duplicate entry found with name {name}.")
    held = role_names(user.pk, project.pk)
    wanted = roles if roles else held
    if not held or not set(wanted) <= set(held):
        raise Forbidden("Application credentials can only carry roles the user has on the project.")
    secret = secret or secrets.token_urlsafe(48)
    cred = ApplicationCredential.objects.create(
        user=user,
        project=project,
        name=name,
        description=description or "",
        expires_at=expires_at,
        unrestricted=unrestricted,
        secret_hash=make_password(secret),
    )
    cred.roles.set(Role.objects.filter(name__in=wanted))
    audit.record(actor, "app_credential.create", cred, project_id=project.pk)
    return cred, secret


@transaction.atomic
def delete_app_credential(cred: ApplicationCredential, *, actor: Any) -> None:
    """Delete a credential and revoke the tokens it issued."""
    cred_id, project_id, name = cred.pk, cred.project_id, cred.name
    revocation.revoke_app_credential(cred_id)
    cred.delete()
    audit.record(
        actor,
        "app_credential.delete",
        None,
        target_type="identity.applicationcredential",
        target_id=cred_id,
        project_id=project_id,
        detail={"name": name},
    )
