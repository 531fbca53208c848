"""Hand-written SQL for the quota ledger's hot path (issue and settle).

The ORM builds each statement anew in Python, which costs more than the database's own work for
these one-row statements; a commission under contention holds its holding's row lock only as long
as the caller takes to reach COMMIT. These statements are plain SQL that runs on PostgreSQL and
SQLite alike, through Django's connection (and so inside the caller's transaction).
"""

from __future__ import annotations

from django.db import connection

from identity.quota_models import Commission, Holding, Provision

_H = Holding._meta.db_table
_P = Provision._meta.db_table
_C = Commission._meta.db_table


def holding_rows(project_id: str, user_id: str | None, names: list[str]) -> list[tuple[int, str, str | None]]:
    """(id, resource, user id) of the project's holdings of `names` and the user's, by id; no lock."""
    if not names:
        return []
    marks = ", ".join(["%s"] * len(names))
    holder = "(user_id IS NULL OR user_id = %s)" if user_id is not None else "user_id IS NULL"
    params: list = [project_id, *names] + ([user_id] if user_id is not None else [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, resource_id, user_id FROM {_H} WHERE project_id = %s AND resource_id IN ({marks}) "  # noqa: S608 - table names from model metadata, values bound
            f"AND {holder} ORDER BY id",
            params,
        )
        return list(cursor.fetchall())


def insert_provisions(serial: int, rows: list[tuple[int, int]]) -> None:
    """One INSERT for all of a commission's provisions: (holding id, quantity) pairs."""
    if not rows:
        return
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    params = [value for holding_id, quantity in rows for value in (serial, holding_id, quantity)]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {_P} (commission_id, holding_id, quantity) VALUES {values}", params)  # noqa: S608


def widen(holding_id: int, quantity: int) -> bool:
    """Add a pending charge to a holding's `usage_max` if the limit allows; takes the row lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_H} SET usage_max = usage_max + %s WHERE id = %s AND usage_max + %s <= {_limit()}",  # noqa: S608
            [quantity, holding_id, quantity],
        )
        return cursor.rowcount == 1


def _limit() -> str:
    return connection.ops.quote_name("limit")


def floor_after_release(holding_id: int) -> int:
    """Lock a holding and return its `usage_min` counting every pending release, this one included.

    Pending charges accepted meanwhile only raise the true floor, so a stale view errs on the safe
    side (a release may be refused, never allowed below zero).
    """
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT usage_max FROM {_H} WHERE id = %s{lock}", [holding_id])  # noqa: S608
        (usage_max,) = cursor.fetchone()
        cursor.execute(
            f"SELECT COALESCE(SUM(CASE WHEN p.quantity > 0 THEN p.quantity ELSE -p.quantity END), 0) "  # noqa: S608
            f"FROM {_P} p JOIN {_C} c ON c.serial = p.commission_id "
            f"WHERE p.holding_id = %s AND c.state = %s",
            [holding_id, Commission.State.PENDING],
        )
        (pending,) = cursor.fetchone()
    return usage_max - pending


def settle_holding(holding_id: int, quantity: int, *, accept: bool) -> None:
    """Close a provision's bracket on the stored end, if it moves.

    Accepting a charge and rejecting a release change only the derived `usage_min`; accepting a
    release and rejecting a charge lower `usage_max` (taking the row lock).
    """
    if (quantity > 0) == accept:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_H} SET usage_max = usage_max - %s WHERE id = %s",  # noqa: S608
            [abs(quantity), holding_id],
        )


def claim(serial: int, goal: str, when: object) -> bool:
    """Move a pending commission to `goal` (locks its row); False if it was not pending."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_C} SET state = %s, resolved_at = %s WHERE serial = %s AND state = %s",  # noqa: S608
            [goal, when, serial, Commission.State.PENDING],
        )
        return cursor.rowcount == 1


def provisions_of(serial: int) -> list[tuple[int, str, str | None, int]]:
    """(holding id, resource, user id, quantity) of a commission's provisions, by holding id."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.holding_id, h.resource_id, h.user_id, p.quantity FROM {_P} p "  # noqa: S608
            f"JOIN {_H} h ON h.id = p.holding_id WHERE p.commission_id = %s ORDER BY p.holding_id",
            [serial],
        )
        return list(cursor.fetchall())
