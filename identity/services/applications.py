"""Project applications (Synnefo-style): a user asks for a project with limits, an admin decides.

Approval creates the project, sets the requested limits through the quota ledger and makes the
applicant a member (roles `member` and `reader`). Who may approve or deny (admins) is the
caller's check; that only the applicant may cancel is checked here, as it depends on the data.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from identity.models import Project, ProjectApplication, Role, User
from identity.services import projects, quotas, roles
from portal import audit
from portal.errors import Conflict, Forbidden, InvalidState, ValidationFailed

APPLICANT_ROLES = ("member", "reader")


def _check_name(name: Any, domain_id: str) -> str:
    """The stripped name; ValidationFailed if empty or too long, Conflict if a project has it."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 255:
        raise ValidationFailed("A project name of 1 to 255 characters is required.")
    if Project.objects.filter(domain_id=domain_id, name=name).exists():
        raise Conflict(f"A project named {name} already exists.")
    return name


def _check_limits(requested_limits: Any) -> dict[str, int]:
    """The requested limits if every resource exists and every limit is a non-negative integer."""
    if not isinstance(requested_limits, dict):
        raise ValidationFailed("Requested limits must map resource names to limits.")
    for name, limit in requested_limits.items():
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= quotas.MAX_QUANTITY:
            raise ValidationFailed(f"The limit of {name} must be an integer between 0 and {quotas.MAX_QUANTITY}.")
    quotas.resources_named(list(requested_limits))
    return dict(sorted(requested_limits.items()))


def _lock_pending(app: ProjectApplication) -> ProjectApplication:
    """The application's row, locked; InvalidState unless it is still pending."""
    locked = ProjectApplication.objects.select_for_update().select_related("applicant").get(pk=app.pk)
    if locked.state != ProjectApplication.State.PENDING:
        raise InvalidState(f"Application {app.pk} is already {locked.state}.")
    return locked


@transaction.atomic
def submit_application(
    applicant: User,
    name: str,
    *,
    description: str = "",
    requested_limits: dict[str, int],
    actor: User | None,
) -> ProjectApplication:
    """Record a pending application of `applicant` for a new project with these limits."""
    name = _check_name(name, applicant.domain_id)
    limits = _check_limits(requested_limits)
    app = ProjectApplication.objects.create(
        applicant=applicant, name=name, description=description or "", requested_limits=limits
    )
    audit.record(actor, "application.submit", app, detail={"name": name, "requested_limits": limits})
    return app


@transaction.atomic
def approve_application(app: ProjectApplication, *, actor: User | None, reason: str = "") -> ProjectApplication:
    """Create the project with the requested limits and make the applicant its member.

    Raises InvalidState unless pending, Conflict if a project took the name meanwhile,
    ValidationFailed if a requested resource no longer exists.
    """
    locked = _lock_pending(app)
    applicant = locked.applicant
    name = _check_name(locked.name, applicant.domain_id)
    limits = _check_limits(locked.requested_limits)
    project = projects.create_project(name, actor=actor, domain_id=applicant.domain_id, description=locked.description)
    for resource, limit in limits.items():
        quotas.set_limit(project, resource, limit, actor=actor)
    for role_name in APPLICANT_ROLES:
        role = Role.objects.get_or_create(name=role_name)[0]
        roles.assign_role(applicant, project, role, actor=actor)
    _decide(locked, ProjectApplication.State.APPROVED, actor=actor, reason=reason, project=project)
    audit.record(actor, "application.approve", locked, project_id=project.pk, detail={"reason": reason})
    app.refresh_from_db()
    return locked


@transaction.atomic
def deny_application(app: ProjectApplication, *, actor: User | None, reason: str) -> ProjectApplication:
    """Refuse a pending application, saying why."""
    locked = _lock_pending(app)
    _decide(locked, ProjectApplication.State.DENIED, actor=actor, reason=reason)
    audit.record(actor, "application.deny", locked, detail={"reason": reason})
    app.refresh_from_db()
    return locked


@transaction.atomic
def cancel_application(app: ProjectApplication, *, actor: User | None) -> ProjectApplication:
    """Withdraw a pending application; only its applicant may (Forbidden otherwise)."""
    locked = _lock_pending(app)
    if actor is None or actor.pk != locked.applicant_id:
        raise Forbidden("Only the applicant may cancel an application.")
    _decide(locked, ProjectApplication.State.CANCELLED, actor=actor, reason="")
    audit.record(actor, "application.cancel", locked)
    app.refresh_from_db()
    return locked


def _decide(
    app: ProjectApplication,
    state: str,
    *,
    actor: User | None,
    reason: str,
    project: Project | None = None,
) -> None:
    """Move a locked application to its final state."""
    app.state = state
    app.reason = reason or ""
    app.project = project
    app.decided_by = actor if isinstance(actor, User) else None
    app.decided_at = timezone.now()
    app.save(update_fields=["state", "reason", "project", "decided_by", "decided_at"])
