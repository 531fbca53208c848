"""Listing servers: Nova's filters, sort keys and keyset paging over the caller's restricted queryset.

One query returns a page (plus one to find the marker); addresses and tags are fetched for the
whole page by the renderer, so a listing costs the same number of queries for 10 or 1,000 servers.
Regular-expression filters (`name`, `ip`, `ip6`) run in the database; a pattern the database
cannot compile is a 400, never a 500.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet

from compute.models import Server, ServerTag
from compute.network.models import Port
from compute.services import server_rows
from compute.services.states import STATUS, states_for_status
from identity.tokens import TokenContext
from portal.errors import Forbidden, ValidationFailed

MAX_LIMIT = 1000
# API sort keys -> columns (only columns that are never NULL, so keyset paging stays exact).
SORT_KEYS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "display_name": "name",
    "uuid": "id",
    "vm_state": "vm_state",
    "power_state": "power_state",
    "availability_zone": "availability_zone",
    "host": "host",
    "node": "node",
    "project_id": "project_id",
    "user_id": "user_id",
    "image_ref": "image_id",
    "instance_type_id": "flavor_id",
}
ADMIN_SORT_KEYS = frozenset({"host", "node"})


@dataclass(frozen=True)
class ServerQuery:
    """What a `GET /servers[/detail]` asks for, as the API layer parsed it."""

    name: str | None = None
    statuses: tuple[str, ...] = ()
    changes_since: datetime | None = None
    image: str | None = None
    flavor: str | None = None
    ip: str | None = None
    ip6: str | None = None
    reservation_id: str | None = None
    tags: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    not_tags: tuple[str, ...] = ()
    not_tags_any: tuple[str, ...] = ()
    all_tenants: bool = False
    project_id: str | None = None
    user_id: str | None = None
    deleted: bool | None = None
    host: str | None = None
    node: str | None = None
    sort: tuple[tuple[str, str], ...] = (("created_at", "desc"),)
    limit: int = MAX_LIMIT
    marker: str | None = None


def _scope(ctx: TokenContext, query: ServerQuery) -> QuerySet[Server]:
    if query.all_tenants:
        if not ctx.is_admin:
            raise Forbidden("Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.")
        rows = Server.objects.all()
        return rows.filter(project_id=query.project_id) if query.project_id else rows
    return Server.objects.for_project(ctx.project_id or "")


def _deleted(ctx: TokenContext, query: ServerQuery, rows: QuerySet[Server]) -> QuerySet[Server]:
    wants_deleted = any(s.upper() == "DELETED" for s in query.statuses)
    if wants_deleted and not ctx.is_admin:
        raise Forbidden("Only administrators may list deleted instances")
    if ctx.is_admin and query.deleted is not None:
        return rows.filter(deleted_at__isnull=not query.deleted)
    if wants_deleted or query.changes_since is not None:
        return rows
    return rows.live()


def _status_q(statuses: tuple[str, ...]) -> Q:
    q = Q(pk__in=[])
    for status in statuses:
        for vm_state, task, exact in states_for_status(status):
            if exact:
                q |= Q(vm_state=vm_state, task_state=task)
            else:
                special = [t for t in STATUS[vm_state] if t != "default"]
                q |= Q(vm_state=vm_state) & ~Q(task_state__in=special)
    return q


def _ip_ids(pattern: str, *, v6: bool) -> QuerySet[Any]:
    """Ids of servers with a fixed IP matching `pattern` (IPv6 addresses contain ':')."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValidationFailed(f"Invalid regular expression for ip filter: {exc}") from None
    ports = Port.objects.filter(device_owner__startswith="compute:", allocations__ip_address__regex=pattern)
    ports = (
        ports.filter(allocations__ip_address__contains=":")
        if v6
        else ports.exclude(allocations__ip_address__contains=":")
    )
    return ports.values("device_id")


def _tag_filters(rows: QuerySet[Server], query: ServerQuery) -> QuerySet[Server]:
    def tagged(*tags: str) -> Q:
        return Q(pk__in=ServerTag.objects.filter(tag__in=tags).values("server_id"))

    for tag in query.tags:
        rows = rows.filter(tagged(tag))
    if query.tags_any:
        rows = rows.filter(tagged(*query.tags_any))
    if query.not_tags:
        having_all = Q()
        for tag in query.not_tags:
            having_all &= tagged(tag)
        rows = rows.exclude(having_all)
    if query.not_tags_any:
        rows = rows.exclude(tagged(*query.not_tags_any))
    return rows


def _filtered(ctx: TokenContext, query: ServerQuery) -> QuerySet[Server]:
    rows = _deleted(ctx, query, _scope(ctx, query))
    if query.name is not None:
        try:
            re.compile(query.name)
        except re.error as exc:
            raise ValidationFailed(f"Invalid regular expression for name filter: {exc}") from None
        rows = rows.filter(name__regex=query.name)
    if query.statuses:
        rows = rows.filter(_status_q(query.statuses))
    if query.changes_since is not None:
        rows = rows.filter(updated_at__gte=query.changes_since)
    if query.image is not None:
        rows = rows.filter(image_id=query.image.rstrip("/").rsplit("/", 1)[-1])
    if query.flavor is not None:
        rows = rows.filter(flavor_id=query.flavor.rstrip("/").rsplit("/", 1)[-1])
    if query.reservation_id is not None:
        rows = rows.filter(reservation_id=query.reservation_id)
    for pattern, v6 in ((query.ip, False), (query.ip6, True)):
        if pattern is not None:
            rows = rows.filter(pk__in=_server_ids(_ip_ids(pattern, v6=v6)))
    if ctx.is_admin:
        for field, value in (("user_id", query.user_id), ("host", query.host), ("node", query.node)):
            if value is not None:
                rows = rows.filter(**{field: value})
    return _tag_filters(rows, query)


def _server_ids(device_ids: QuerySet[Any]) -> list[uuid.UUID]:
    ids = []
    for value in device_ids.values_list("device_id", flat=True):
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    return ids


def _ordering(query: ServerQuery, *, is_admin: bool) -> list[tuple[str, bool]]:
    """(column, descending) pairs, ending with the id as the tie-breaker."""
    order: list[tuple[str, bool]] = []
    for key, direction in query.sort:
        if key not in SORT_KEYS or (key in ADMIN_SORT_KEYS and not is_admin):
            raise ValidationFailed(f"Invalid sort_key {key}")
        if direction not in ("asc", "desc"):
            raise ValidationFailed(f"Invalid sort_dir {direction}")
        column = SORT_KEYS[key]
        if column not in (c for c, _ in order):
            order.append((column, direction == "desc"))
    if "id" not in (c for c, _ in order):
        order.append(("id", order[-1][1] if order else True))
    return order


def _after(marker: Server, order: list[tuple[str, bool]]) -> Q:
    """Rows strictly after `marker` in `order` (a keyset condition)."""
    result = Q(pk__in=[])
    equal = Q()
    for column, descending in order:
        value = getattr(marker, column)
        result |= equal & Q(**{f"{column}__{'lt' if descending else 'gt'}": value})
        equal &= Q(**{column: value})
    return result


def list_servers(ctx: TokenContext, query: ServerQuery, *, brief: bool = False) -> list[Any]:
    """One page of servers (`server_rows` rows, or (id, name) pairs when `brief`)."""
    rows = _filtered(ctx, query)
    order = _ordering(query, is_admin=ctx.is_admin)
    if query.marker is not None:
        marker = _marker(ctx, query)
        rows = rows.filter(_after(marker, order))
    rows = rows.order_by(*[f"-{c}" if d else c for c, d in order])
    limit = min(query.limit, MAX_LIMIT)
    page = rows.values_list("id", "name") if brief else server_rows.row_query(rows, admin=ctx.is_admin)
    if not (query.name or query.ip or query.ip6):
        fetched = list(page[:limit])
    else:
        try:  # a pattern Python compiles may still be one the database refuses
            with transaction.atomic():
                fetched = list(page[:limit])
        except DatabaseError as exc:
            raise ValidationFailed(f"Invalid filter: {exc}".splitlines()[0]) from None
    return fetched if brief else server_rows.to_rows(fetched, admin=ctx.is_admin)


def _marker(ctx: TokenContext, query: ServerQuery) -> Server:
    try:
        pk = uuid.UUID(str(query.marker))
    except ValueError:
        raise ValidationFailed(f"marker [{query.marker}] not found") from None
    marker = _scope(ctx, query).filter(pk=pk).first()
    if marker is None:
        raise ValidationFailed(f"marker [{query.marker}] not found")
    return marker
