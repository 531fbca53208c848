"""Celery tasks of identity: take ids or nothing, call services."""

from __future__ import annotations

from celery import shared_task

from identity.services import quotas


@shared_task
def resolve_pending_commissions() -> dict[str, int]:
    """Settle quota commissions left pending past PORTAL_COMMISSION_TIMEOUT (run by beat every minute)."""
    return quotas.resolve_pending()
