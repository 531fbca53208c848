"""Servers as the API renders them: light read-only rows (named tuples) fetched with one query.

Listings of a thousand servers are dominated by building model instances and decoding columns
nobody shows; `rows()` reads only the shown columns with `values_list` into named tuples with the
model's attribute names, so the renderer takes a row or a model alike. Admin rows add the user
data, the fault details and the state of the server's cluster (for 2.16's host_status).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from django.db.models import F, QuerySet

from compute.models import Server

FIELDS = (
    "id", "name", "description", "project_id", "user_id", "vm_state", "task_state", "power_state", "progress",
    "flavor_id", "flavor_name", "vcpus", "ram", "disk", "ephemeral", "swap", "flavor_extra_specs", "image_id",
    "key_name", "metadata", "security_groups", "availability_zone", "reservation_id", "launch_index",
    "config_drive", "disk_config", "access_ipv4", "access_ipv6", "locked", "host", "node", "instance_name",
    "fault_code", "fault_message", "fault_at", "created_at", "updated_at", "launched_at", "terminated_at",
)  # fmt: skip
ADMIN_FIELDS = ("user_data", "fault_details", "cluster_state", "cluster_reachable")

ServerRow = namedtuple("ServerRow", FIELDS)
AdminServerRow = namedtuple("AdminServerRow", FIELDS + ADMIN_FIELDS)


def row_query(queryset: QuerySet[Server], *, admin: bool) -> QuerySet[Any]:
    """`queryset` as tuples of the rendered columns (in FIELDS order, then ADMIN_FIELDS)."""
    if not admin:
        return queryset.values_list(*FIELDS)
    annotated = queryset.annotate(
        cluster_state=F("instance__cluster__state"), cluster_reachable=F("instance__cluster__reachable")
    )
    return annotated.values_list(*FIELDS, *ADMIN_FIELDS)


def to_rows(tuples: list[tuple[Any, ...]], *, admin: bool) -> list[Any]:
    """Named rows from `row_query` tuples."""
    make = AdminServerRow._make if admin else ServerRow._make
    return [make(t) for t in tuples]


def rows(queryset: QuerySet[Server], *, admin: bool) -> list[Any]:
    """The rendered columns of every server of `queryset`."""
    return to_rows(list(row_query(queryset, admin=admin)), admin=admin)
