"""The quota ledger: two-phase commissions against holdings (Synnefo/Astakos style).

A client (compute, objectstore, ...) `issue`s a commission of signed provisions before it acts,
then `accept`s it once the action happened or `reject`s it if it did not. While pending, a
positive provision raises `usage_max` and a negative one lowers `usage_min`, so the bracket
[usage_min, usage_max] always contains the usage whatever the pending commissions become, and
`usage_max <= limit` holds for every new charge (`usage_min` is derived from pending provisions,
see quota_models). Commissions left pending by a crash are settled
by `resolve_pending` (a periodic Celery task), which asks the client's registered resolver.

Lock order, everywhere: the commission row first (settling), then holding rows in primary-key
order. Every transaction takes its locks in that order, so concurrent ones never deadlock.
A holding is checked and changed by one conditional UPDATE at the end of its transaction, so its
row lock (the one every commission of that holder queues on) is held only until the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from identity.models import Project, User
from identity.quota_models import Commission, Holding, Resource
from identity.services import ledger_fast, ledger_pg, ledger_sql
from identity.services.ledger_fast import commission_from as _commission_from
from identity.services.ledger_fast import refuse as _refuse
from portal import audit
from portal.errors import Conflict, InvalidState, NotFound, QuotaExceeded, ValidationFailed
from portal.models import AuditEvent

# Largest value a BigIntegerField holds; limits and quantities beyond it cannot be stored.
MAX_QUANTITY = 2**63 - 1

Resolver = Callable[[Commission], bool | None]
_resolvers: dict[str, Resolver] = {}


def register_resolver(client: str, fn: Resolver) -> None:
    """Let `client` decide its stale commissions: `fn` returns True (accept), False (reject) or None (leave)."""
    _resolvers[client] = fn


def unregister_resolver(client: str) -> None:
    """Forget `client`'s resolver (its stale commissions are then rejected)."""
    _resolvers.pop(client, None)


def _check_quantity(value: Any, what: str, *, allow_negative: bool) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{what} must be an integer.")
    if abs(value) > MAX_QUANTITY or (value < 0 and not allow_negative):
        low = -MAX_QUANTITY if allow_negative else 0
        raise ValidationFailed(f"{what} must be between {low} and {MAX_QUANTITY}.")
    return value


def _normalise(provisions: Mapping[str, int]) -> dict[str, int]:
    """Validated provisions without zero quantities, keyed by resource name."""
    if not isinstance(provisions, Mapping):
        raise ValidationFailed("Provisions must map resource names to quantities.")
    result = {}
    for name, quantity in provisions.items():
        if not isinstance(name, str) or not name:
            raise ValidationFailed("Provisions must map resource names to quantities.")
        if _check_quantity(quantity, f"The quantity of {name}", allow_negative=True):
            result[name] = quantity
    return result


def resources_named(names: set[str] | list[str]) -> dict[str, Resource]:
    """The Resource rows of `names`; ValidationFailed names the unknown ones."""
    found = {r.name: r for r in Resource.objects.filter(name__in=names)}
    unknown = sorted(set(names) - set(found))
    if unknown:
        raise ValidationFailed(f"Unknown quota resource(s): {', '.join(unknown)}.")
    return found


def ensure_holdings(project: Project, user: User | None = None) -> list[Holding]:
    """Create the missing holdings of a project (or of a user in it) with the resources' default limits.

    User holdings are made only for resources with a default per-user limit; explicit ones (set by
    `set_limit`) are kept. Returns the holder's holdings, by resource name.
    """
    holder = Holding.objects.filter(project=project, user=user)
    existing = set(holder.values_list("resource_id", flat=True))
    missing = []
    for resource in Resource.objects.exclude(name__in=existing):
        limit = resource.default_project_limit if user is None else resource.default_user_limit
        if limit is not None:
            missing.append(Holding(project=project, user=user, resource=resource, limit=limit))
    if missing:
        # A concurrent caller may create the same rows; the unique constraints make that harmless.
        Holding.objects.bulk_create(missing, ignore_conflicts=True)
    return list(holder.with_bracket().order_by("resource_id"))


def _complete(rows: list[tuple[int, str, str | None]], names: list[str], user: User | None) -> bool:
    """Whether `rows` has every project holding of `names` and every user holding they call for."""
    project_level = {name for _, name, user_id in rows if user_id is None}
    if len(project_level) != len(names):
        return False
    if user is None:
        return True
    user_level = {name for _, name, user_id in rows if user_id is not None}
    per_user = set(
        Resource.objects.filter(name__in=names, default_user_limit__isnull=False).values_list("name", flat=True)
    )
    return per_user <= user_level


def _replay(
    project: Project, user: User | None, client: str, client_key: str, wanted: dict[str, int]
) -> Commission | None:
    """The commission already issued under (client, client_key), if it is the same request; else Conflict."""
    commission = Commission.objects.filter(client=client, client_key=client_key).first()
    if commission is None:
        return None
    issued = dict(commission.provisions.filter(holding__user=None).values_list("holding__resource_id", "quantity"))
    user_id = user.pk if user is not None else None
    if commission.project_id != project.pk or commission.user_id != user_id or issued != wanted:
        raise Conflict(f"Commission key {client}/{client_key} was already used for a different request.")
    return commission


def issue(
    project: Project,
    provisions: Mapping[str, int],
    *,
    actor: User | None,
    client: str,
    client_key: str,
    reason: str = "",
    target: str = "",
    user: User | None = None,
) -> Commission:
    """Reserve quota for an action that is about to happen, as one pending commission.

    Idempotent on (client, client_key): the same request returns the first commission, a different
    one raises Conflict. Raises QuotaExceeded when a positive provision would take a holding's
    `usage_max` over its limit, ValidationFailed for unknown resources or a negative provision
    larger than the usage it frees. A refusal is audited as a failure after the rollback.
    """
    wanted = _normalise(provisions)
    if not client or not client_key:
        raise ValidationFailed("A commission needs a client name and an idempotency key.")
    detail: dict[str, Any] = {
        "client": client,
        "client_key": client_key,
        "provisions": wanted,
        "reason": reason,
        "target": target,
        "user_id": user.pk if user is not None else None,
    }
    try:
        if _one_statement(wanted) and not transaction.get_connection().in_atomic_block:
            # All or nothing by itself: on its own, its row locks never wait on a round trip.
            return ledger_fast.issue(
                project,
                user,
                wanted,
                actor=actor,
                detail=detail,
                holding_rows=_holding_rows,
                relaxed=client in _resolvers,
            )
        with transaction.atomic():
            return _issue(project, user, wanted, actor=actor, detail=detail)
    except IntegrityError:
        # The key was used before (or by a concurrent issue that committed first): a replay.
        existing = _replay(project, user, client, client_key, wanted)
        if existing is None:
            raise
        return existing
    except (QuotaExceeded, ValidationFailed) as exc:
        audit.record(
            actor,
            "quota.issue",
            result=AuditEvent.Result.FAILURE,
            project_id=project.pk,
            target_type=Commission._meta.label_lower,
            detail={**detail, "error": exc.message},
        )
        raise


def _issue(
    project: Project, user: User | None, wanted: dict[str, int], *, actor: User | None, detail: dict[str, Any]
) -> Commission:
    """The body of `issue`, inside its transaction."""
    names = sorted(wanted)
    if _one_statement(wanted):
        return ledger_fast.issue(project, user, wanted, actor=actor, detail=detail, holding_rows=_holding_rows)
    commission = Commission.objects.create(
        client=detail["client"],
        client_key=detail["client_key"],
        project=project,
        user=user,
        reason=detail["reason"][:255],
        target=detail["target"][:255],
    )
    # Everything but the holding updates comes first: the updates take the row locks that
    # concurrent commissions queue on, and those are held only from there to the commit.
    audit.record(actor, "quota.issue", commission, project_id=project.pk, detail=detail)
    rows = _holding_rows(project, user, names)
    ledger_sql.insert_provisions(commission.serial, [(pk, wanted[name]) for pk, name, _ in rows])
    for pk, name, _ in rows:
        quantity = wanted[name]
        if quantity > 0 and not ledger_sql.widen(pk, quantity):
            _refuse(Holding.objects.with_bracket().get(pk=pk), quantity)
        if quantity < 0 and ledger_sql.floor_after_release(pk) < 0:
            _refuse(Holding.objects.with_bracket().get(pk=pk), quantity)
    return commission


def _one_statement(wanted: dict[str, int]) -> bool:
    """Whether this commission can be issued by `ledger_pg`'s one statement (charges, on PostgreSQL)."""
    return bool(wanted) and ledger_pg.available() and all(quantity > 0 for quantity in wanted.values())


def _holding_rows(project: Project, user: User | None, names: list[str]) -> list[tuple[int, str, str | None]]:
    """The holdings a commission of `names` charges (made first if missing), by id."""
    user_id = user.pk if user is not None else None
    rows = ledger_sql.holding_rows(project.pk, user_id, names)
    if not _complete(rows, names, user):
        resources_named(names)  # ValidationFailed for unknown names
        ensure_holdings(project)
        if user is not None:
            ensure_holdings(project, user)
        rows = ledger_sql.holding_rows(project.pk, user_id, names)
    return rows


def _settle(serial: int, *, accept: bool, actor: User | None, via: str) -> tuple[Commission, bool]:
    """Accept or reject a pending commission; return it and whether this call changed it."""
    goal = Commission.State.ACCEPTED if accept else Commission.State.REJECTED
    if accept and ledger_pg.available() and not transaction.get_connection().in_atomic_block:
        fast = ledger_fast.accept(serial, actor=actor, via=via, relaxed_clients=sorted(_resolvers))
        if fast is not None:
            return fast, True
    with transaction.atomic():
        # One conditional UPDATE both claims the commission (row lock) and checks it is pending.
        commission, provisions = _claim(serial, goal)
        if commission is None:
            commission = Commission.objects.filter(pk=serial).first()
            if commission is None:
                raise NotFound(f"Could not find commission {serial}.")
            if commission.state == goal:
                return commission, False
            raise InvalidState(f"Commission {serial} is already {commission.state}.")
        audit.record(
            actor,
            "quota.accept" if accept else "quota.reject",
            commission,
            project_id=commission.project_id,
            detail={
                "via": via,
                "client": commission.client,
                "provisions": {name: q for _, name, user_id, q in provisions if user_id is None},
            },
        )
        # Each UPDATE locks its holding row; going in primary-key order keeps the global lock order.
        for holding_id, _name, _user_id, quantity in provisions:
            ledger_sql.settle_holding(holding_id, quantity, accept=accept)
    return commission, True


def _claim(serial: int, goal: str) -> tuple[Commission | None, list[tuple[int, str, str | None, int]]]:
    """Claim a pending commission for `goal`: it and its provisions, or (None, []) if not pending."""
    now = timezone.now()
    if ledger_pg.available():
        columns, provisions = ledger_pg.claim_with_provisions(serial, goal, now, relaxed_clients=sorted(_resolvers))
        return (_commission_from(columns) if columns is not None else None), provisions
    if not ledger_sql.claim(serial, goal, now):
        return None, []
    return Commission.objects.get(pk=serial), ledger_sql.provisions_of(serial)


def accept(serial: int, *, actor: User | None = None) -> Commission:
    """Make a pending commission's provisions actual usage (no-op if already accepted).

    Raises NotFound for an unknown serial and InvalidState if it was rejected.
    """
    return _settle(serial, accept=True, actor=actor, via="client")[0]


def reject(serial: int, *, actor: User | None = None) -> Commission:
    """Give back a pending commission's reservation (no-op if already rejected).

    Raises NotFound for an unknown serial and InvalidState if it was accepted.
    """
    return _settle(serial, accept=False, actor=actor, via="client")[0]


def resolve_pending(older_than_seconds: float | None = None, *, dry_run: bool = False) -> dict[str, int]:
    """Settle commissions pending longer than `older_than_seconds` (default PORTAL_COMMISSION_TIMEOUT).

    The client's registered resolver decides each one (accept, reject, or leave pending);
    commissions of clients without a resolver are rejected. With `dry_run` nothing changes and
    the counts say what would have happened. Returns counts: examined, accepted, rejected, left
    (the resolver said wait) and skipped (settled by its client meanwhile).
    """
    timeout = settings.PORTAL_COMMISSION_TIMEOUT if older_than_seconds is None else older_than_seconds
    cutoff = timezone.now() - timedelta(seconds=timeout)
    counts = {"examined": 0, "accepted": 0, "rejected": 0, "left": 0, "skipped": 0}
    stale = Commission.objects.filter(state=Commission.State.PENDING, issued_at__lte=cutoff).order_by("serial")
    last = 0
    while batch := list(stale.filter(serial__gt=last)[:500]):
        for commission in batch:
            last = commission.serial
            counts["examined"] += 1
            resolver = _resolvers.get(commission.client)
            decision = resolver(commission) if resolver is not None else False
            if decision is None:
                counts["left"] += 1
                continue
            outcome = "accepted" if decision else "rejected"
            if dry_run:
                counts[outcome] += 1
                continue
            try:
                _, changed = _settle(commission.serial, accept=bool(decision), actor=None, via="resolver")
            except InvalidState:
                changed = False
            counts[outcome if changed else "skipped"] += 1
    return counts


def set_limit(
    project: Project, resource_name: str, limit: int, *, actor: User | None, user: User | None = None
) -> Holding:
    """Set the limit of a project's holding of a resource, or of a user's within the project.

    A limit below current usage is allowed: it only stops new charges. Raises ValidationFailed for
    an unknown resource or a limit that is not a non-negative integer.
    """
    _check_quantity(limit, "The limit", allow_negative=False)
    resource = resources_named([resource_name])[resource_name]
    with transaction.atomic():
        holding, created = Holding.objects.select_for_update().get_or_create(
            project=project, user=user, resource=resource, defaults={"limit": limit}
        )
        previous = None if created else holding.limit
        if not created:
            holding.limit = limit
            holding.save(update_fields=["limit"])
        audit.record(
            actor,
            "quota.set_limit",
            holding,
            project_id=project.pk,
            detail={
                "resource": resource_name,
                "limit": limit,
                "previous": previous,
                "user_id": user.pk if user is not None else None,
            },
        )
    return holding


def _row(resource: Resource, holding: Holding | None, default_limit: int | None) -> dict[str, Any]:
    return {
        "resource": resource.name,
        "limit": holding.limit if holding is not None else default_limit,
        "usage": holding.usage_min if holding is not None else 0,
        "pending": holding.usage_max - holding.usage_min if holding is not None else 0,
        "unit": resource.unit,
        "description": resource.description,
    }


def usage(project: Project) -> list[dict[str, Any]]:
    """A project's quota per declared resource: limit, usage (accepted), pending, unit, description.

    Resources the project has no holding of yet show their default limit and no usage.
    """
    holdings = {h.resource_id: h for h in Holding.objects.with_bracket().filter(project=project, user=None)}
    return [_row(r, holdings.get(r.name), r.default_project_limit) for r in Resource.objects.order_by("name")]


def user_usage(project: Project, user: User) -> list[dict[str, Any]]:
    """A member's own quota within a project, for the resources that have a per-user limit."""
    holdings = {h.resource_id: h for h in Holding.objects.with_bracket().filter(project=project, user=user)}
    return [
        _row(r, holdings.get(r.name), r.default_user_limit)
        for r in Resource.objects.order_by("name")
        if r.name in holdings or r.default_user_limit is not None
    ]
