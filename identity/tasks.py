"""Celery tasks of identity: take ids or nothing, call services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from identity.services import quotas, revocation


@shared_task
def resolve_pending_commissions() -> dict[str, int]:
    """Settle quota commissions left pending past PORTAL_COMMISSION_TIMEOUT (run by beat every minute)."""
    return quotas.resolve_pending()


@shared_task
def prune_revocations() -> int:
    """Delete revocation events older than a token can live (they can only match expired tokens)."""
    return revocation.prune_revocations(settings.PORTAL_TOKEN_TTL + 60)
