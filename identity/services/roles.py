"""Role services: roles and their assignment to users on projects."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from identity.models import Project, Role, RoleAssignment, User
from identity.services import revocation
from portal import audit
from portal.errors import Conflict, NotFound, ValidationFailed

BUILTIN_ROLES = ("admin", "member", "reader")


def get_role(name: str) -> Role:
    """The role with this name, or NotFound."""
    try:
        return Role.objects.get(name=name)
    except Role.DoesNotExist as exc:
        raise NotFound(f"Could not find role: {name}.") from exc


@transaction.atomic
def create_role(name: str, *, actor: Any, description: str = "") -> Role:
    """Create a role with a unique name."""
    name = (name or "").strip()
    if not name or len(name) > 255:
        raise ValidationFailed("A role name of 1 to 255 characters is required.")
    if Role.objects.filter(name=name).exists():
        raise Conflict(f"Duplicate entry found with name {name}.")
    role = Role.objects.create(name=name, description=description or "")
    audit.record(actor, "role.create", role)
    return role


@transaction.atomic
def delete_role(role: Role, *, actor: Any) -> None:
    """Delete a role; tokens of users who held it are revoked on each project."""
    if role.name in BUILTIN_ROLES:
        raise Conflict(f"The built-in role {role.name} cannot be deleted.")
    for user_id, project_id in role.assignments.values_list("user_id", "project_id"):
        revocation.revoke_user_on_project(user_id, project_id)
    role_id, name = role.pk, role.name
    role.delete()
    audit.record(actor, "role.delete", None, target_type="identity.role", target_id=role_id, detail={"name": name})


@transaction.atomic
def assign_role(user: User, project: Project, role: Role, *, actor: Any) -> RoleAssignment:
    """Give a user a role on a project (idempotent); members get per-user quota holdings."""
    from identity.services import quotas

    assignment, created = RoleAssignment.objects.get_or_create(user=user, project=project, role=role)
    if created:
        quotas.ensure_holdings(project, user=user)
        audit.record(
            actor, "role.assign", assignment, project_id=project.pk, detail={"user": user.pk, "role": role.name}
        )
    return assignment


@transaction.atomic
def unassign_role(user: User, project: Project, role: Role, *, actor: Any) -> None:
    """Remove a user's role on a project and revoke their tokens there."""
    deleted, _ = RoleAssignment.objects.filter(user=user, project=project, role=role).delete()
    if not deleted:
        raise NotFound(
            f"Could not find role assignment with role: {role.pk}, user or group: {user.pk}, "
            f"project, domain, or system: {project.pk}."
        )
    revocation.revoke_user_on_project(user.pk, project.pk)
    audit.record(
        actor,
        "role.unassign",
        None,
        target_type="identity.roleassignment",
        target_id=f"{user.pk}:{project.pk}:{role.pk}",
        project_id=project.pk,
        detail={"user": user.pk, "role": role.name},
    )


def role_names(user_id: str, project_id: str) -> list[str]:
    """Names of the roles a user has on a project."""
    return sorted(
        RoleAssignment.objects.filter(user_id=user_id, project_id=project_id).values_list("role__name", flat=True)
    )
