"""Read-side queries of the image service: Glance's image list with filters, sorting and paging.

Listings start from what the token may see and then follow Glance: the default list holds the
project's own images, public images and shared images it has accepted (not community images);
`visibility` and `member_status` widen or narrow that. Paging is keyset paging on the sort keys
(plus `created_at` and `id` as tie-breakers), so a page costs the same however deep it is.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce

from compute.image.models import Image, ImageProperty, ImageQuerySet, ImageTag, Visibility, membership
from compute.image.services.access import require_project
from identity.tokens import TokenContext
from portal.errors import ValidationFailed

SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
# Nullable sort keys compare through a stand-in so keyset comparisons never meet NULL.
_NULL_STANDIN = {"name": Value(""), "container_format": Value(""), "disk_format": Value(""), "size": Value(-1)}
IN_FILTERS = ("id", "name", "status", "container_format", "disk_format")
TIME_OPS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "eq": "exact"}


@dataclass(frozen=True)
class ListQuery:
    """A parsed image list request."""

    filters: dict[str, Any] = field(default_factory=dict)  # core field -> value (or list for `in:`)
    times: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # created_at/updated_at -> (op, moment)
    properties: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    visibility: str | None = None
    member_status: str = "accepted"
    include_hidden: bool = False
    size_min: int | None = None
    size_max: int | None = None
    minimums: dict[str, int] = field(default_factory=dict)  # min_ram/min_disk -> at least (Nova's proxy)
    sort: tuple[tuple[str, str], ...] = (("created_at", "desc"),)
    limit: int = 25
    marker: str | None = None


def _scope(ctx: TokenContext, query: ListQuery) -> Q:
    """Which images the listing may contain, from visibility and member status."""
    vis = query.visibility
    if ctx.is_admin:
        return Q() if vis in (None, "all") else Q(visibility=vis)
    project_id = require_project(ctx)
    statuses = None if query.member_status == "all" else (query.member_status,)
    mine = Q(project_id=project_id)
    offered = Exists(membership(project_id, statuses))
    shared_with_me = Q(visibility=Visibility.SHARED) & offered
    if vis is None:
        return mine | Q(visibility=Visibility.PUBLIC) | shared_with_me
    if vis == "all":
        return mine | Q(visibility__in=(Visibility.PUBLIC, Visibility.COMMUNITY)) | shared_with_me
    if vis in (Visibility.PUBLIC, Visibility.COMMUNITY):
        return Q(visibility=vis)
    if vis == Visibility.PRIVATE:
        return mine & Q(visibility=Visibility.PRIVATE)
    return Q(visibility=Visibility.SHARED) & (mine | offered)


def _filtered(queryset: ImageQuerySet, query: ListQuery) -> ImageQuerySet:
    for name, value in query.filters.items():
        column = "project_id" if name == "owner" else name
        queryset = queryset.filter(**({f"{column}__in": value} if isinstance(value, list) else {column: value}))
    for name, (op, moment) in query.times.items():
        queryset = queryset.filter(**{f"{name}__{TIME_OPS[op]}": moment})
    if query.size_min is not None:
        queryset = queryset.filter(size__gte=query.size_min)
    if query.size_max is not None:
        queryset = queryset.filter(size__lte=query.size_max)
    for name, least in query.minimums.items():
        queryset = queryset.filter(**{f"{name}__gte": least})
    for tag in query.tags:
        queryset = queryset.filter(Exists(ImageTag.objects.filter(image=OuterRef("pk"), value=tag)))
    for name, value in query.properties.items():
        queryset = queryset.filter(Exists(ImageProperty.objects.filter(image=OuterRef("pk"), name=name, value=value)))
    if not query.include_hidden:
        queryset = queryset.filter(os_hidden=False)
    return queryset


def _sort_keys(query: ListQuery) -> list[tuple[str, str]]:
    keys = list(query.sort)
    last_dir = keys[-1][1] if keys else "desc"
    for tie in ("created_at", "id"):
        if tie not in {k for k, _ in keys}:
            keys.append((tie, last_dir))
    return keys


def _annotations(keys: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        f"sort_{i}": Coalesce(key, _NULL_STANDIN[key]) if key in _NULL_STANDIN else F(key)
        for i, (key, _) in enumerate(keys)
    }


def _after_marker(ctx: TokenContext, keys: list[tuple[str, str]], marker: str) -> Q:
    """Rows after the marker image in the sort order (keyset condition)."""
    annotations = _annotations(keys)
    row = Image.objects.visible_to(ctx).filter(pk=marker.lower()).annotate(**annotations).values(*annotations).first()
    if row is None:
        raise ValidationFailed(f"Marker {marker} could not be found.")
    branches: list[Q] = []
    equal = Q()
    for i, (_, direction) in enumerate(keys):
        name = f"sort_{i}"
        branches.append(equal & Q(**{f"{name}__gt" if direction == "asc" else f"{name}__lt": row[name]}))
        equal &= Q(**{name: row[name]})
    return functools.reduce(operator.or_, branches)


def list_images(ctx: TokenContext, query: ListQuery) -> tuple[list[Image], bool]:
    """One page of images (properties and tags prefetched) and whether more follow."""
    keys = _sort_keys(query)
    queryset = _filtered(Image.objects.filter(_scope(ctx, query)), query).annotate(**_annotations(keys))
    if query.marker:
        queryset = queryset.filter(_after_marker(ctx, keys, query.marker))
    ordering = [F(f"sort_{i}").asc() if d == "asc" else F(f"sort_{i}").desc() for i, (_, d) in enumerate(keys)]
    rows = list(queryset.order_by(*ordering).with_details()[: query.limit + 1])
    return rows[: query.limit], len(rows) > query.limit
