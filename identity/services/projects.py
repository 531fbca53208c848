"""Project services: create, update, delete (tokens scoped to a disabled project are revoked)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from identity.models import DEFAULT_DOMAIN_ID, Domain, Project
from identity.services import revocation
from identity.signals import project_deleting
from portal import audit
from portal.errors import Conflict, NotFound, ValidationFailed


@transaction.atomic
def create_project(
    name: str,
    *,
    actor: Any,
    domain_id: str = DEFAULT_DOMAIN_ID,
    description: str = "",
    enabled: bool = True,
) -> Project:
    """Create a project with the default quota holdings."""
    from identity.services import quotas

    name = (name or "").strip()
    if not name or len(name) > 255:
        raise ValidationFailed("A project name of 1 to 255 characters is required.")
    if not Domain.objects.filter(pk=domain_id).exists():
        raise NotFound(f"Could not find domain: {domain_id}.")
    if Project.objects.filter(domain_id=domain_id, name=name).exists():
        raise Conflict(f"Duplicate entry found with name {name} at domain ID {domain_id}.")
    try:
        with transaction.atomic():
            project = Project.objects.create(
                name=name, domain_id=domain_id, description=description or "", enabled=enabled
            )
    except IntegrityError as exc:
        raise Conflict(f"Duplicate entry found with name {name} at domain ID {domain_id}.") from exc
    quotas.ensure_holdings(project)
    audit.record(actor, "project.create", project, project_id=project.pk, detail={"name": name})
    return project


@transaction.atomic
def update_project(project: Project, *, actor: Any, **changes: Any) -> Project:
    """Rename, describe, enable or disable a project; disabling revokes its tokens."""
    fields = []
    if changes.get("name") is not None and changes["name"] != project.name:
        name = changes["name"].strip()
        if not name:
            raise ValidationFailed("A project name cannot be empty.")
        if Project.objects.filter(domain_id=project.domain_id, name=name).exclude(pk=project.pk).exists():
            raise Conflict(f"Duplicate entry found with name {name} at domain ID {project.domain_id}.")
        project.name = name
        fields.append("name")
    if changes.get("description") is not None:
        project.description = changes["description"]
        fields.append("description")
    if changes.get("enabled") is not None and bool(changes["enabled"]) != project.enabled:
        project.enabled = bool(changes["enabled"])
        fields.append("enabled")
        if not project.enabled:
            revocation.revoke_project(project.pk)
    if fields:
        project.save(update_fields=fields)
        audit.record(actor, "project.update", project, detail={"fields": fields})
    return project


@transaction.atomic
@transaction.atomic
def delete_project(project: Project, *, actor: Any) -> None:
    """Delete a project and revoke tokens scoped to it.

    Other apps may refuse first (`identity.signals.project_deleting`), e.g. while the project
    still owns servers; the refusal's error propagates and nothing is changed.
    """
    project_id, name = project.pk, project.name
    project_deleting.send(sender=Project, project=project)
    revocation.revoke_project(project_id)
    project.delete()
    audit.record(
        actor,
        "project.delete",
        None,
        target_type="identity.project",
        target_id=project_id,
        project_id=project_id,
        detail={"name": name},
    )
