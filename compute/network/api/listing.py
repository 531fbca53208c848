"""Neutron list semantics shared by every collection: filters, `fields`, sorting and keyset pagination.

- Filters: `?name=a&name=b` (repeated values are OR-ed), typed per field (booleans, UUIDs).
  Unknown query parameters are ignored, as Neutron does without the filter-validation extension.
- `?fields=id&fields=name` (or comma-separated) projects each item.
- `sort_key`/`sort_dir` pairs (only non-null attributes are sortable; `id` breaks ties).
- `limit`/`marker`/`page_reverse`: keyset pagination after the marker's sort values, with
  `<collection>_links` next/previous hrefs as Neutron gives them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db import models
from django.db.models import Q
from rest_framework.request import Request

from compute.network.services.faults import bad_request, not_found
from identity.api.keystone.render import base_url

Render = Callable[[Any], dict[str, Any]]
BIGGEST = 2**63 - 1
MAX_LIMIT = 10_000


def text(value: str) -> Any:
    """A string filter value as given."""
    return value


def boolean(value: str) -> Any:
    """`true`/`false` (any case; also 1/0)."""
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise bad_request(f"Invalid input for operation: '{value}' cannot be converted to boolean.")


def integer(value: str) -> Any:
    """An integer filter value (one a 64-bit column can hold)."""
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or abs(number) > BIGGEST:
        raise bad_request(f"Invalid input for operation: '{value}' is not an integer.")
    return number


def uuid_filter(value: str) -> Any:
    """A UUID filter value; a malformed one matches nothing (None)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Filter:
    """One filterable query parameter: the ORM lookup it maps to and how to parse its values."""

    lookup: str
    parse: Callable[[str], Any] = text


@dataclass(frozen=True)
class Listing:
    """How one collection lists: its name, filters, sortable keys and the kind named by a bad marker."""

    collection: str
    kind: str
    filters: dict[str, Filter]
    sort_keys: dict[str, str]
    special: dict[str, Callable[[models.QuerySet, list[str]], models.QuerySet]] = field(default_factory=dict)


def _values(request: Request, name: str) -> list[str]:
    return list(request.query_params.getlist(name))


def apply_filters(request: Request, queryset: models.QuerySet, listing: Listing) -> models.QuerySet:
    """Narrow `queryset` by every filter parameter present."""
    for name, spec in listing.filters.items():
        raw = _values(request, name)
        if not raw:
            continue
        parsed = [spec.parse(v) for v in raw]
        wanted = [v for v in parsed if v is not None]
        if spec.parse is uuid_filter and not wanted:
            return queryset.none()
        queryset = queryset.filter(**{f"{spec.lookup}__in": wanted})
    for name, narrow in listing.special.items():
        raw = _values(request, name)
        if raw:
            queryset = narrow(queryset, raw)
    return queryset


def _sorting(request: Request, listing: Listing) -> list[tuple[str, bool]]:
    """[(ORM field, ascending)], ending with the primary key."""
    keys, dirs = _values(request, "sort_key"), _values(request, "sort_dir")
    if dirs and len(dirs) != len(keys):
        raise bad_request("The number of sort_keys and sort_dirs must be same")
    order: list[tuple[str, bool]] = []
    for index, key in enumerate(keys):
        if key not in listing.sort_keys:
            raise bad_request(f"{key} is an invalid attribute for sort_keys")
        direction = dirs[index].lower() if dirs else "asc"
        if direction not in ("asc", "desc"):
            raise bad_request(f"{dirs[index]} is an invalid value for sort_dirs, valid values are: ['asc', 'desc']")
        order.append((listing.sort_keys[key], direction == "asc"))
    if not any(name == "pk" for name, _ in order):
        order.append(("pk", order[-1][1] if order else True))
    return order


def _limit(request: Request) -> int | None:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"Limit must be an integer 0 or greater and not '{raw}'") from None
    if value < 0:
        raise bad_request(f"Limit must be an integer 0 or greater and not '{raw}'")
    return min(value, MAX_LIMIT) or None


def _after(queryset: models.QuerySet, order: list[tuple[str, bool]], marker: Any) -> models.QuerySet:
    """Rows strictly after `marker` in `order` (a keyset condition over all sort keys)."""
    condition = Q()
    equal = Q()
    for name, ascending in order:
        value = getattr(marker, "pk" if name == "pk" else name)
        step = Q(**{f"{name}__gt" if ascending else f"{name}__lt": value})
        condition |= equal & step
        equal &= Q(**{name: value})
    return queryset.filter(condition)


def _href(request: Request, **params: Any) -> str:
    query = [(k, v) for k in request.query_params for v in request.query_params.getlist(k) if k not in params]
    query += [(k, v) for k, v in params.items() if v is not None]
    return f"{base_url(request)}{request.path}?{urlencode(query)}"


def project(item: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """Keep only the requested fields of a rendered item."""
    return {key: value for key, value in item.items() if key in fields} if fields else item


def requested_fields(request: Request) -> list[str]:
    """The `fields` parameters (repeated or comma-separated)."""
    return [part for value in _values(request, "fields") for part in value.split(",") if part]


def shown(request: Request, key: str, item: dict[str, Any]) -> dict[str, Any]:
    """The body of a show: `{key: item}`, projected on the request's `fields` as lists are."""
    return {key: project(item, requested_fields(request))}


def paged(request: Request, queryset: models.QuerySet, listing: Listing, render: Render) -> dict[str, Any]:
    """The collection body: filtered, sorted, paged, rendered and projected items (+ links when paged)."""
    visible = queryset
    queryset = apply_filters(request, queryset, listing)
    order = _sorting(request, listing)
    limit = _limit(request)
    reverse = boolean(request.query_params.get("page_reverse", "false"))
    marker_id = request.query_params.get("marker")
    walk = [(name, ascending != reverse) for name, ascending in order]
    if marker_id:
        try:
            marker = visible.filter(pk=uuid.UUID(marker_id)).first()
        except ValueError:
            marker = None
        if marker is None:
            raise not_found(listing.kind, marker_id)
        queryset = _after(queryset, walk, marker)
    queryset = queryset.order_by(*[name if ascending else f"-{name}" for name, ascending in walk])
    rows = list(queryset[: limit + 1] if limit else queryset)
    more = bool(limit) and len(rows) > limit
    rows = rows[:limit] if limit else rows
    if reverse:
        rows.reverse()
    fields = requested_fields(request)
    body: dict[str, Any] = {listing.collection: [project(render(row), fields) for row in rows]}
    if limit:
        links = []
        if rows and (more if not reverse else bool(marker_id)):
            links.append({"rel": "next", "href": _href(request, limit=limit, marker=rows[-1].pk, page_reverse=None)})
        if rows and (bool(marker_id) if not reverse else more):
            links.append(
                {"rel": "previous", "href": _href(request, limit=limit, marker=rows[0].pk, page_reverse="True")}
            )
        body[f"{listing.collection}_links"] = links
    return body
