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
    """Widen a holding's bracket by a pending provision if the limit (or zero) allows; row-locked."""
    with connection.cursor() as cursor:
        if quantity > 0:
            cursor.execute(
                f"UPDATE {_H} SET usage_max = usage_max + %s WHERE id = %s AND usage_max + %s <= {_limit()}",  # noqa: S608
                [quantity, holding_id, quantity],
            )
        else:
            cursor.execute(
                f"UPDATE {_H} SET usage_min = usage_min + %s WHERE id = %s AND usage_min + %s >= 0",  # noqa: S608
                [quantity, holding_id, quantity],
            )
        return cursor.rowcount == 1


def _limit() -> str:
    return connection.ops.quote_name("limit")


def settle_holding(holding_id: int, quantity: int, *, accept: bool) -> None:
    """Close a provision's bracket: accepting moves the other end, rejecting moves the same end back."""
    if accept:
        field, delta = ("usage_min" if quantity > 0 else "usage_max"), quantity
    else:
        field, delta = ("usage_max" if quantity > 0 else "usage_min"), -quantity
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_H} SET {field} = {field} + %s WHERE id = %s", [delta, holding_id])  # noqa: S608


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
