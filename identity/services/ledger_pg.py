"""PostgreSQL fast path of the quota ledger: a commission issued, or settled, in one statement.

On a contended holding the ledger's throughput is bounded by round trips and per-statement Python
work, not by the database's own work. PostgreSQL runs data-modifying CTEs, so the whole of
`issue` (commission, audit event, provisions, every holding widened) and of `settle` (claim,
provisions read back) are one statement each. Semantics are those of the portable path in
`quotas`/`ledger_sql`, which SQLite keeps using:

- Holdings are widened in primary-key order: each UPDATE is a CTE that reads the one before it,
  which makes PostgreSQL finish the earlier UPDATE (and take its row lock) first. A holding that
  cannot take its charge stops the chain; the caller raises and the transaction rolls back.
- An accept settled here may be committed asynchronously (`synchronous_commit` off for that
  transaction only) when the commission's client has a resolver: if a database crash loses such a
  commit, the commission is pending again and the resolver settles it from the client's own record
  of what happened. Issues are always durable: the client acts on them.
"""

# ruff: noqa: S608 - identifiers come from model metadata and loop counters; every value is bound

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.db import connection

from identity.quota_models import Commission, Holding, Provision
from portal.models import AuditEvent

_H = Holding._meta.db_table
_P = Provision._meta.db_table
_C = Commission._meta.db_table
_A = AuditEvent._meta.db_table
_AUDIT_COLUMNS = (
    "time",
    "actor_id",
    "actor_name",
    "project_id",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "result",
    "detail",
    "request_id",
)


def available() -> bool:
    """Whether the default database is PostgreSQL (the only backend with data-modifying CTEs)."""
    return connection.vendor == "postgresql"


def issue_charges(
    commission: dict[str, Any], audit_event: dict[str, Any], charges: list[tuple[int, int]]
) -> tuple[int, set[int]]:
    """Insert a pending commission, its audit event and provisions, and widen every holding.

    `charges` are (holding id, positive quantity) pairs in holding-id order. Returns the serial and
    the ids of the holdings widened; a holding missing from them could not take its charge (the
    chain stops there), and the caller must roll back.
    """
    params: list[Any] = [
        commission["client"],
        commission["client_key"],
        commission["project_id"],
        commission["user_id"],
        commission["reason"],
        commission["target"],
        Commission.State.PENDING,
        commission["issued_at"],
    ]
    ctes = [
        f"c AS (INSERT INTO {_C} (client, client_key, project_id, user_id, reason, target, state, issued_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING serial)"
    ]
    widened = []
    for n, (holding_id, quantity) in enumerate(charges):
        after = f" AND EXISTS (SELECT 1 FROM w{n - 1})" if n else ""
        ctes.append(
            f'w{n} AS (UPDATE {_H} SET usage_max = usage_max + %s WHERE id = %s AND usage_max + %s <= "limit"{after} '
            "RETURNING id)"
        )
        params += [quantity, holding_id, quantity]
        widened.append(f"SELECT id FROM w{n}")
    values = ", ".join(["(%s::bigint, %s::bigint)"] * len(charges))
    ctes.append(
        f"p AS (INSERT INTO {_P} (commission_id, holding_id, quantity) "
        f"SELECT c.serial, v.id, v.q FROM c, (VALUES {values}) AS v(id, q))"
    )
    params += [value for pair in charges for value in pair]
    audit_columns = ", ".join(_AUDIT_COLUMNS)
    ctes.append(
        f"a AS (INSERT INTO {_A} ({audit_columns}) SELECT %s, %s, %s, %s, %s, %s, c.serial::text, "
        "'commission ' || c.serial || ' (pending)', %s, %s::jsonb, %s FROM c)"
    )
    params += [
        audit_event["time"],
        audit_event["actor_id"],
        audit_event["actor_name"],
        audit_event["project_id"],
        audit_event["action"],
        audit_event["target_type"],
        audit_event["result"],
        json.dumps(audit_event["detail"]),
        audit_event["request_id"],
    ]
    sql = f"WITH {', '.join(ctes)} SELECT (SELECT serial FROM c), ARRAY({' UNION ALL '.join(widened)})"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        serial, ids = cursor.fetchone()
    return serial, set(ids or ())


def claim_with_provisions(
    serial: int, goal: str, when: datetime, *, relaxed_clients: list[str]
) -> tuple[dict[str, Any] | None, list[tuple[int, str, str | None, int]]]:
    """Move a pending commission to `goal` and read back its row and provisions, in one statement.

    Returns (the commission's columns, or None if it was not pending; its provisions as (holding
    id, resource, user id, quantity) by holding id). When the commission's client is one of
    `relaxed_clients`, this transaction's commit does not wait for the disk (see the module
    docstring for when that is safe).
    """
    sql = (
        "WITH s AS (SELECT CASE WHEN client = ANY(%s) THEN set_config('synchronous_commit', 'off', true) END "
        f"FROM {_C} WHERE serial = %s), "
        f"c AS (UPDATE {_C} SET state = %s, resolved_at = %s WHERE serial = %s AND state = %s "
        "AND EXISTS (SELECT 1 FROM s) "
        "RETURNING serial, client, client_key, project_id, user_id, reason, target, state, issued_at, resolved_at) "
        "SELECT c.serial, c.client, c.client_key, c.project_id, c.user_id, c.reason, c.target, c.state, "
        "c.issued_at, c.resolved_at, p.holding_id, h.resource_id, h.user_id, p.quantity "
        f"FROM c LEFT JOIN {_P} p ON p.commission_id = c.serial LEFT JOIN {_H} h ON h.id = p.holding_id "
        "ORDER BY p.holding_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [relaxed_clients, serial, goal, when, serial, Commission.State.PENDING])
        rows = cursor.fetchall()
    if not rows:
        return None, []
    names = ("serial", "client", "client_key", "project_id", "user_id", "reason", "target", "state")
    first = rows[0]
    columns = dict(zip(names, first[:8], strict=True))
    columns["issued_at"], columns["resolved_at"] = first[8], first[9]
    provisions = [(row[10], row[11], row[12], row[13]) for row in rows if row[10] is not None]
    return columns, provisions
