"""Token revocation: record events and make every process on this host see them at once."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from identity import tokens
from identity.models import RevocationEvent


def _record(**match: str) -> RevocationEvent:
    event = RevocationEvent.objects.create(issued_before=timezone.now(), **match)
    transaction.on_commit(tokens.touch_revocation_stamp)
    return event


def revoke_token(ctx: tokens.TokenContext) -> RevocationEvent:
    """Revoke one token (and, through its audit id, nothing else)."""
    return _record(audit_id=ctx.audit_id)


def revoke_user(user_id: str) -> RevocationEvent:
    """Revoke every token issued so far to a user (disabled, deleted, password changed)."""
    return _record(user_id=user_id)


def revoke_project(project_id: str) -> RevocationEvent:
    """Revoke every token scoped to a project (disabled or deleted)."""
    return _record(project_id=project_id)


def revoke_user_on_project(user_id: str, project_id: str) -> RevocationEvent:
    """Revoke a user's tokens on one project (a role was removed)."""
    return _record(user_id=user_id, project_id=project_id)


def revoke_app_credential(app_cred_id: str) -> RevocationEvent:
    """Revoke every token obtained with an application credential (it was deleted)."""
    return _record(app_cred_id=app_cred_id)


def prune_revocations(older_than_seconds: int) -> int:
    """Drop events older than any token can live: tokens they matched have expired anyway."""
    cutoff = datetime.fromtimestamp(timezone.now().timestamp() - older_than_seconds, tz=UTC)
    deleted, _ = RevocationEvent.objects.filter(revoked_at__lt=cutoff).delete()
    return deleted
