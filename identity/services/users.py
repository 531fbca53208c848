"""User services: create, update, enable/disable, activate, passwords, delete, signup."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from identity.models import DEFAULT_DOMAIN_ID, Domain, Project, User
from identity.services import revocation
from portal import audit
from portal.errors import Conflict, NotFound, Unauthorized, ValidationFailed


def _check_password_rules(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages)) from exc


def _domain(domain_id: str) -> Domain:
    try:
        return Domain.objects.get(pk=domain_id)
    except Domain.DoesNotExist as exc:
        raise NotFound(f"Could not find domain: {domain_id}.") from exc


@transaction.atomic
def create_user(
    name: str,
    password: str | None,
    *,
    actor: Any,
    email: str = "",
    description: str = "",
    domain_id: str = DEFAULT_DOMAIN_ID,
    enabled: bool = True,
    default_project: Project | None = None,
    status: str | None = None,
) -> User:
    """Create a user; the name must be unique in its domain."""
    name = (name or "").strip()
    if not name or len(name) > 255:
        raise ValidationFailed("A user name of 1 to 255 characters is required.")
    domain = _domain(domain_id)
    if User.objects.filter(domain=domain, name=name).exists():
        raise Conflict(f"Duplicate entry found with name {name} at domain ID {domain.id}.")
    if password:
        _check_password_rules(password)
    user = User(
        name=name,
        email=email or "",
        description=description or "",
        domain=domain,
        default_project=default_project,
        status=status or (User.Status.ACTIVE if enabled else User.Status.DISABLED),
    )
    user.set_password(password) if password else user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise Conflict(f"Duplicate entry found with name {name} at domain ID {domain.id}.") from exc
    audit.record(actor, "user.create", user, detail={"name": name, "status": user.status})
    return user


@transaction.atomic
def update_user(user: User, *, actor: Any, **changes: Any) -> User:
    """Change a user's name, email, description, default project, enabled flag or password."""
    fields: list[str] = []
    revoke = False
    if "name" in changes and changes["name"] != user.name:
        name = (changes["name"] or "").strip()
        if not name:
            raise ValidationFailed("A user name cannot be empty.")
        if User.objects.filter(domain_id=user.domain_id, name=name).exclude(pk=user.pk).exists():
            raise Conflict(f"Duplicate entry found with name {name} at domain ID {user.domain_id}.")
        user.name = name
        fields.append("name")
    for attr in ("email", "description"):
        if attr in changes and changes[attr] is not None:
            setattr(user, attr, changes[attr])
            fields.append(attr)
    if "default_project" in changes:
        user.default_project = changes["default_project"]
        fields.append("default_project")
    if "enabled" in changes and changes["enabled"] is not None:
        new_status = User.Status.ACTIVE if changes["enabled"] else User.Status.DISABLED
        if new_status != user.status:
            revoke = new_status == User.Status.DISABLED
            user.status = new_status
            fields.append("status")
    if changes.get("password"):
        _check_password_rules(changes["password"], user)
        user.set_password(changes["password"])
        user.password_changed_at = timezone.now()
        fields += ["password", "password_changed_at"]
        revoke = True
    if fields:
        user.save(update_fields=fields)
        if revoke:
            revocation.revoke_user(user.pk)
        audit.record(actor, "user.update", user, detail={"fields": sorted(set(fields) - {"password"})})
    return user


def change_own_password(user: User, original: str, new: str) -> User:
    """A user changes their own password; all their existing tokens are revoked.

    Not one transaction on purpose: a failed attempt is audited, and the audit row must stay.
    """
    if not user.check_password(original or ""):
        audit.record(user, "user.change_password", user, result="failure")
        raise Unauthorized("The original password is not correct.")
    if not new:
        raise ValidationFailed("A new password is required.")
    return update_user(user, actor=user, password=new)


@transaction.atomic
def set_status(user: User, status: str, *, actor: Any) -> User:
    """Activate a pending user, or disable/re-enable one; activation gives a personal project."""
    if status not in User.Status.values:
        raise ValidationFailed(f"Unknown status {status}.")
    previous = user.status
    user.status = status
    user.save(update_fields=["status"])
    if status == User.Status.DISABLED:
        revocation.revoke_user(user.pk)
    if status == User.Status.ACTIVE and previous == User.Status.PENDING:
        ensure_personal_project(user, actor=actor)
    audit.record(
        actor,
        f"user.{'activate' if status == User.Status.ACTIVE else status}",
        user,
        detail={"from": previous, "to": status},
    )
    return user


@transaction.atomic
def delete_user(user: User, *, actor: Any) -> None:
    """Delete a user and revoke their tokens."""
    user_id, name = user.pk, user.name
    revocation.revoke_user(user_id)
    user.delete()
    audit.record(actor, "user.delete", None, target_type="identity.user", target_id=user_id, detail={"name": name})


def ensure_personal_project(user: User, *, actor: Any) -> Project:
    """Give a user their own project (named after them) with member and reader roles, once."""
    from identity.services import projects, roles

    if user.default_project_id:
        return user.default_project
    name = user.name
    suffix = 1
    while Project.objects.filter(domain_id=user.domain_id, name=name).exists():
        suffix += 1
        name = f"{user.name}-{suffix}"
    project = projects.create_project(
        name, actor=actor, domain_id=user.domain_id, description=f"Personal project of {user.name}"
    )
    for role_name in ("member", "reader"):
        roles.assign_role(user, project, roles.get_role(role_name), actor=actor)
    user.default_project = project
    user.save(update_fields=["default_project"])
    return project


@transaction.atomic
def signup(name: str, email: str, password: str) -> User:
    """Self-service sign-up: pending until an admin activates it, unless auto-activation is on."""
    if not email:
        raise ValidationFailed("An email address is required.")
    auto = settings.PORTAL_SIGNUP_AUTO_ACTIVATE
    user = create_user(
        name, password, actor=None, email=email, status=User.Status.ACTIVE if auto else User.Status.PENDING
    )
    audit.record(user, "user.signup", user, detail={"auto_activated": auto})
    if auto:
        ensure_personal_project(user, actor=None)
    return user
