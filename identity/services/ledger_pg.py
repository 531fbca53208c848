"""PostgreSQL fast path of the quota ledger: a commission issued, or accepted, in one statement.

On a contended holding the ledger's throughput is bounded by how long a commission holds the
holding's row lock, and that is round trips and per-statement Python work, not the database's own
work. PostgreSQL runs data-modifying CTEs, so the whole of `issue` (holdings locked and checked,
every one widened, commission, provisions and audit event inserted) and of a plain `accept`
(claim, audit event, provisions read back) are one statement each. Such a statement is
all-or-nothing by itself, so when the caller is not inside a transaction it runs on its own
(autocommit): the row lock is then taken and released inside the database, and no client round
trip is ever made while holding it. Semantics are those of the portable path in
`quotas`/`ledger_sql`, which SQLite keeps using:

- Holdings are locked in primary-key order (`SELECT ... ORDER BY id FOR UPDATE`, the global lock
  order) and checked together: if any one cannot take its charge, nothing is written and the
  statement returns no serial; the caller reports which holding refused.
- An accept settled here may be committed asynchronously (`synchronous_commit` off for that
  transaction only) when the commission's client has a resolver: if a database crash loses such a
  commit, the commission is pending again and the resolver settles it from the client's own record
  of what happened.
- So may an issue that runs on its own (outside the caller's transaction), for the same clients. A
  client with a resolver records what it does in this database before it matters (that record is
  what its resolver reads), and PostgreSQL's log is sequential: the record's own durable commit
  makes every earlier commit durable, the issue included. A crash before that loses the issue and
  the record together, and the resolver has nothing to decide. An issue inside the caller's
  transaction commits as that transaction does.
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
_AUDIT_COLUMNS = ", ".join(
    (
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
)
_COMMISSION_COLUMNS = ("serial", "client", "client_key", "project_id", "user_id", "reason", "target", "state")


def _fetch(sql: str, params: list[Any]) -> list[tuple]:
    """Run one statement as a prepared statement with server-side parameters; return its rows.

    The statements here are long and the same every time but for their values: planning them
    anew costs more than running them. Django's cursors bind values on the client (so every
    statement text differs and none can be prepared), hence a psycopg cursor of its own on
    Django's connection, inside Django's error translation and transaction state.
    """
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchall()


def available() -> bool:
    """Whether the default database is PostgreSQL (the only backend with data-modifying CTEs)."""
    return connection.vendor == "postgresql"


def _audit_params(event: dict[str, Any]) -> list[Any]:
    """The bound values of an audit insert, in the order the statements below use them."""
    return [event["time"], event["actor_id"], event["actor_name"], event["project_id"], event["action"]]


def issue_charges(
    commission: dict[str, Any], audit_event: dict[str, Any], charges: list[tuple[int, int]], *, relaxed: bool = False
) -> int | None:
    """Lock and check every holding, then widen them and insert the commission; all or nothing.

    `charges` are (holding id, positive quantity) pairs. Returns the new serial, or None when a
    holding could not take its charge (or is gone): then nothing was written. `relaxed`: this
    statement's own transaction commits without waiting for the disk (`quotas.issue` asks for it
    only outside a transaction, for clients with a resolver; see the module docstring).
    """
    values = ", ".join(["(%s::bigint, %s::bigint)"] * len(charges))
    params: list[Any] = [value for pair in charges for value in pair]
    sql = (
        f"WITH v(id, q) AS (VALUES {values}), "
        f'l AS (SELECT id, usage_max, "limit" FROM {_H} WHERE id IN (SELECT id FROM v) ORDER BY id FOR NO KEY UPDATE), '
        'ok AS (SELECT COALESCE(bool_and(l.usage_max + v.q <= l."limit"), false) AND count(*) = %s AS ok '
        "FROM l JOIN v ON v.id = l.id), "
        f"w AS (UPDATE {_H} h SET usage_max = h.usage_max + v.q FROM v WHERE h.id = v.id "
        "AND (SELECT ok FROM ok) RETURNING h.id), "
        f"c AS (INSERT INTO {_C} (client, client_key, project_id, user_id, reason, target, state, issued_at) "
        "SELECT %s, %s, %s, %s, %s, %s, %s, %s WHERE (SELECT ok FROM ok) RETURNING serial), "
        f"p AS (INSERT INTO {_P} (commission_id, holding_id, quantity) SELECT c.serial, v.id, v.q FROM c, v), "
        f"a AS (INSERT INTO {_A} ({_AUDIT_COLUMNS}) SELECT %s, %s, %s, %s, %s, %s, c.serial::text, "
        "'commission ' || c.serial || ' (pending)', %s, %s::jsonb, %s FROM c) "
        "SELECT (SELECT serial FROM c), (SELECT count(*) FROM w), "
        "CASE WHEN %s THEN set_config('synchronous_commit', 'off', true) END"
    )
    params.append(len(charges))
    params += [
        commission["client"],
        commission["client_key"],
        commission["project_id"],
        commission["user_id"],
        commission["reason"],
        commission["target"],
        Commission.State.PENDING,
        commission["issued_at"],
    ]
    params += _audit_params(audit_event)
    params += [
        audit_event["target_type"],
        audit_event["result"],
        json.dumps(audit_event["detail"]),
        audit_event["request_id"],
        relaxed,
    ]
    ((serial, _widened, _mode),) = _fetch(sql, params)
    return serial


def accept_charges(
    serial: int, when: datetime, audit_event: dict[str, Any], *, via: str, relaxed_clients: list[str]
) -> tuple[dict[str, Any] | None, list[tuple[int, str, str | None, int]]]:
    """Accept a pending commission of charges only, with its audit event, in one statement.

    Accepting a charge touches no holding (see quota_models), so this is the commission row and
    inserts. Returns (the commission's columns, its provisions as (holding id, resource, user id,
    quantity) by holding id), or (None, []) when it was not a pending commission of charges only:
    the caller then takes the general path, which tells those cases apart.
    `audit_event` gives the actor, request id and time; the detail is built here.
    """
    sql = (
        "WITH s AS (SELECT CASE WHEN client = ANY(%s) THEN set_config('synchronous_commit', 'off', true) END "
        f"FROM {_C} WHERE serial = %s), "
        f"c AS (UPDATE {_C} SET state = %s, resolved_at = %s WHERE serial = %s AND state = %s "
        f"AND EXISTS (SELECT 1 FROM s) AND NOT EXISTS (SELECT 1 FROM {_P} WHERE commission_id = %s AND quantity <= 0) "
        "RETURNING serial, client, client_key, project_id, user_id, reason, target, state, issued_at, resolved_at), "
        "r AS (SELECT c.*, p.holding_id, h.resource_id, h.user_id AS holding_user, p.quantity "
        f"FROM c LEFT JOIN {_P} p ON p.commission_id = c.serial LEFT JOIN {_H} h ON h.id = p.holding_id), "
        f"a AS (INSERT INTO {_A} ({_AUDIT_COLUMNS}) SELECT %s, %s, %s, c.project_id, %s, %s, c.serial::text, "
        "'commission ' || c.serial || ' (accepted)', %s, jsonb_build_object('via', %s::text, 'client', c.client, "
        "'provisions', (SELECT COALESCE(jsonb_object_agg(r.resource_id, r.quantity) "
        "FILTER (WHERE r.holding_user IS NULL AND r.resource_id IS NOT NULL), '{}'::jsonb) FROM r)), %s FROM c) "
        "SELECT serial, client, client_key, project_id, user_id, reason, target, state, issued_at, resolved_at, "
        "holding_id, resource_id, holding_user, quantity FROM r ORDER BY holding_id"
    )
    params = [
        relaxed_clients,
        serial,
        Commission.State.ACCEPTED,
        when,
        serial,
        Commission.State.PENDING,
        serial,
        audit_event["time"],
        audit_event["actor_id"],
        audit_event["actor_name"],
        audit_event["action"],
        audit_event["target_type"],
        audit_event["result"],
        via,
        audit_event["request_id"],
    ]
    return _claimed(_fetch(sql, params))


def _claimed(rows: list[tuple]) -> tuple[dict[str, Any] | None, list[tuple[int, str, str | None, int]]]:
    """Split the rows of a claim into the commission's columns and its provisions."""
    if not rows:
        return None, []
    first = rows[0]
    columns = dict(zip(_COMMISSION_COLUMNS, first[:8], strict=True))
    columns["issued_at"], columns["resolved_at"] = first[8], first[9]
    provisions = [(row[10], row[11], row[12], row[13]) for row in rows if row[10] is not None]
    return columns, provisions


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
    return _claimed(_fetch(sql, [relaxed_clients, serial, goal, when, serial, Commission.State.PENDING]))
