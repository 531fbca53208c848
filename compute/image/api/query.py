"""Parsing Glance's image list query (`GET /v2/images?...`) into a `ListQuery`; bad values are 400s."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from compute.image import limits
from compute.image.selectors import IN_FILTERS, SORT_KEYS, TIME_OPS, ListQuery
from portal.errors import ValidationFailed

CORE_FILTERS = ("name", "status", "owner", "disk_format", "container_format", "id", "checksum", "os_hash_value")
VISIBILITIES = ("community", "public", "private", "shared", "all")
MEMBER_STATUSES = ("pending", "accepted", "rejected", "all")
MAX_BIGINT = 2**63 - 1
CONTROL = frozenset({"limit", "marker", "sort", "sort_key", "sort_dir", "member_status", "visibility", "tag"})
CONTROL_FILTERS = frozenset({"size", "size_min", "size_max", "protected", "os_hidden", "created_at", "updated_at"})


def _int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValidationFailed(f"{name} param must be an integer") from exc
    if value < 0:
        raise ValidationFailed(f"{name} param must be positive")
    if value > MAX_BIGINT:
        raise ValidationFailed(f"{name} param is too large")
    return value


def _bool(name: str, raw: str) -> bool:
    raw = raw.lower()  # openstacksdk sends `os_hidden=True`
    if raw not in ("true", "false"):
        raise ValidationFailed(f"Invalid value '{raw}' for '{name}' filter. Valid values are 'true' or 'false'.")
    return raw == "true"


def _sort(params: QueryDict) -> tuple[tuple[str, str], ...]:
    """Both of Glance's sort syntaxes: `sort=name:asc,size` and `sort_key=...&sort_dir=...`."""
    keys: list[str] = []
    dirs: list[str] = []
    if "sort" in params:
        if "sort_key" in params or "sort_dir" in params:
            raise ValidationFailed("Old and new sorting syntax cannot be combined")
        for part in params["sort"].strip().split(","):
            key, _, direction = part.partition(":")
            keys.append(key.strip())
            dirs.append(direction.strip() or "desc")
    else:
        keys = [k.strip() for k in params.getlist("sort_key")]
        dirs = [d.strip() for d in params.getlist("sort_dir")]
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise ValidationFailed("Number of sort dirs does not match the number of sort keys")
        keys = keys or ["created_at"]
        dirs = dirs * len(keys) if len(dirs) == 1 else dirs or ["desc"] * len(keys)
    for key in keys:
        if key not in SORT_KEYS:
            raise ValidationFailed(f"Invalid sort key: {key}. It must be one of the following: {', '.join(SORT_KEYS)}.")
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise ValidationFailed(f"Invalid sort direction: {direction}")
    return tuple(zip(keys, dirs, strict=True))


def _time(name: str, raw: str) -> tuple[str, datetime]:
    op, sep, value = raw.partition(":")
    if not sep or op not in TIME_OPS:
        op, value = "eq", raw
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationFailed(f"Invalid value for '{name}': an ISO 8601 time is required.")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return op, moment


def _filter_value(name: str, raw: str) -> Any:
    if name in IN_FILTERS and raw.startswith("in:"):
        return [part.strip().strip('"') for part in raw[3:].split(",")]
    if name == "id" or name == "owner":
        return raw.lower() if name == "id" else raw
    return raw


def parse_list_query(params: QueryDict) -> ListQuery:
    """The ListQuery of a request's query string."""
    visibility = params.get("visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        raise ValidationFailed(f"Invalid visibility value: {visibility}")
    member_status = params.get("member_status", "accepted")
    if member_status not in MEMBER_STATUSES:
        raise ValidationFailed(f"Invalid status: {member_status}")
    if "changes-since" in params:
        raise ValidationFailed('The "changes-since" filter is no longer available on v2.')
    filters: dict[str, Any] = {}
    properties: dict[str, str] = {}
    for name in params:
        if name in CONTROL or name in CONTROL_FILTERS:
            continue
        if name in CORE_FILTERS:
            filters[name] = _filter_value(name, params[name])
        else:
            properties[name] = params[name]
    if "size" in params:
        filters["size"] = _int("size", params["size"])
    if "protected" in params:
        filters["protected"] = _bool("protected", params["protected"])
    limit = _int("limit", params["limit"]) if "limit" in params else limits.LIST_DEFAULT_LIMIT
    return ListQuery(
        filters=filters,
        times={name: _time(name, params[name]) for name in ("created_at", "updated_at") if name in params},
        properties=properties,
        tags=tuple(tag.strip() for tag in params.getlist("tag")),
        visibility=visibility,
        member_status=member_status,
        include_hidden=_bool("os_hidden", params.get("os_hidden", "false")),
        size_min=_int("size_min", params["size_min"]) if "size_min" in params else None,
        size_max=_int("size_max", params["size_max"]) if "size_max" in params else None,
        sort=_sort(params),
        limit=min(limit, limits.LIST_MAX_LIMIT),
        marker=params.get("marker") or None,
    )
