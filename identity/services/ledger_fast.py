"""The quota ledger's PostgreSQL flows: issue and accept as one statement each (see ledger_pg).

`quotas` calls these when the database is PostgreSQL and the commission qualifies (issue: charges
only; accept: a pending commission of charges only). Outside a transaction each statement runs on
its own, so a holding's row lock is held only inside the database, never across a round trip.

The ids of a project's holdings are cached per process: a project-level holding is made once
(`ensure_holdings`) and only goes away with its project, and the issuing statement itself checks
that every holding it was given exists, so a stale entry can only make it refuse; the entry is then
dropped and the commission retried with fresh ids. Per-user holdings are not cached: an admin can
add one at any time, and a cached list would miss it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from identity.models import Project, User
from identity.quota_models import Commission, Holding
from identity.services import ledger_pg
from portal import audit
from portal.errors import Conflict, QuotaExceeded, ValidationFailed

HoldingRows = list[tuple[int, str, str | None]]
_CACHE_SIZE = 4096
_project_holdings: dict[tuple[str, tuple[str, ...]], HoldingRows] = {}


def commission_from(columns: dict[str, Any]) -> Commission:
    """A Commission instance for a row read or written in SQL (as if loaded by the ORM)."""
    names = [field.attname for field in Commission._meta.concrete_fields]
    return Commission.from_db("default", names, [columns[name] for name in names])


def refuse(holding: Holding, quantity: int) -> None:
    """Raise the error for a provision its holding cannot take."""
    if quantity > 0:
        scope = f" (per-user limit of {holding.user_id})" if holding.user_id else ""
        raise QuotaExceeded(
            f"Quota exceeded for {holding.resource_id}{scope}: limit {holding.limit}, "
            f"in use {holding.usage_max}, requested {quantity}.",
            resource=holding.resource_id,
            limit=holding.limit,
            usage=holding.usage_max,
            requested=quantity,
        )
    in_use = holding.usage_min - quantity  # the floor without this release, which it already counts
    raise ValidationFailed(f"Cannot release {-quantity} of {holding.resource_id}: only {in_use} in use.")


def _rows(
    project: Project, user: User | None, names: list[str], holding_rows: Callable[..., HoldingRows], *, fresh: bool
) -> HoldingRows:
    """The holdings to charge: from the cache for a project-level commission unless `fresh`."""
    if user is not None:
        return holding_rows(project, user, names)
    key = (str(project.pk), tuple(names))
    rows = None if fresh else _project_holdings.get(key)
    if rows is None:
        rows = holding_rows(project, user, names)
        if len(_project_holdings) >= _CACHE_SIZE:
            _project_holdings.clear()
        _project_holdings[key] = rows
    return rows


def issue(
    project: Project,
    user: User | None,
    wanted: dict[str, int],
    *,
    actor: User | None,
    detail: dict[str, Any],
    holding_rows: Callable[..., HoldingRows],
    relaxed: bool = False,
) -> Commission:
    """Issue a commission of charges in one statement; QuotaExceeded names the holding that refused.

    `holding_rows(project, user, names)` is the ledger's lookup (it makes missing holdings).
    """
    now = timezone.now()
    fields = {
        "client": detail["client"],
        "client_key": detail["client_key"],
        "project_id": project.pk,
        "user_id": user.pk if user is not None else None,
        "reason": detail["reason"][:255],
        "target": detail["target"][:255],
        "issued_at": now,
    }
    event = audit.columns(
        actor, "quota.issue", project_id=project.pk, target_type=Commission._meta.label_lower, detail=detail
    )
    event["time"] = now
    names = sorted(wanted)
    for attempt in range(3):
        rows = _rows(project, user, names, holding_rows, fresh=attempt > 0)
        charges = {pk: wanted[name] for pk, name, _ in rows}
        serial = ledger_pg.issue_charges(fields, event, sorted(charges.items()), relaxed=relaxed)
        if serial is not None:
            return commission_from({**fields, "serial": serial, "state": Commission.State.PENDING, "resolved_at": None})
        # Refused, and nothing written: name the holding that cannot take its charge.
        for holding in Holding.objects.with_bracket().filter(pk__in=list(charges)).order_by("pk"):
            if holding.usage_max + charges[holding.pk] > holding.limit:
                refuse(holding, charges[holding.pk])
        # None does now: a stale cached id, or a commission settled meanwhile. Again, with fresh ids.
    raise Conflict("The quota ledger is too busy to take this commission now; try again.")


def accept(serial: int, *, actor: User | None, via: str, relaxed_clients: list[str]) -> Commission | None:
    """Accept a pending commission of charges in one statement; None when it is not one."""
    event = audit.columns(actor, "quota.accept", target_type=Commission._meta.label_lower)
    event["time"] = timezone.now()
    columns, _provisions = ledger_pg.accept_charges(
        serial, event["time"], event, via=via, relaxed_clients=relaxed_clients
    )
    return commission_from(columns) if columns is not None else None
