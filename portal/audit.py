"""The audit service: one call records a state-changing service call (actor, action, target, result)."""

from __future__ import annotations

from typing import Any

from django.db import models

from portal.models import AuditEvent
from portal.observability.context import current_request_id


def columns(
    actor: Any,
    action: str,
    target: models.Model | None = None,
    *,
    result: str = AuditEvent.Result.SUCCESS,
    project_id: str = "",
    target_type: str = "",
    target_id: str = "",
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The column values of one audit event (for `record`, and for services that insert it in SQL)."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
        project_id = project_id or str(getattr(target, "project_id", "") or "")
    return {
        "actor_id": str(getattr(actor, "pk", "") or ""),
        "actor_name": str(getattr(actor, "name", "") or ("system" if actor is None else actor))[:255],
        "project_id": project_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "target_repr": str(target)[:255] if target is not None else target_id[:255],
        "result": result,
        "detail": detail or {},
        "request_id": current_request_id(),
    }


def record(actor: Any, action: str, target: models.Model | None = None, **fields: Any) -> AuditEvent:
    """Write one audit event. `actor` is a user (or None for the system); `fields` as for `columns`."""
    return AuditEvent.objects.create(**columns(actor, action, target, **fields))
