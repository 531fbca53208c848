"""Instance events: the one code path that moves an `Instance` row to what its cluster reported.

The job watcher (source "job") and reconciliation (source "reconcile") both describe what they
learnt as an `InstanceEvent` and hand it to `apply_event`. Events are ordered by the cluster's own
clock (`timestamp`): one conditional UPDATE applies an event only when it is not older than the
last one applied (`backend_time`), so duplicates and late arrivals are harmless (Synnefo's rule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field
from django.utils import timezone

from backend_ganeti import signals
from backend_ganeti.drivers.types import DiskInfo, InstanceInfo, NicInfo, PowerState
from backend_ganeti.models import Instance

SOURCE_JOB = "job"
SOURCE_RECONCILE = "reconcile"

# What the cluster's power state means for the portal's view of an instance.
STATUS_FOR_POWER: dict[PowerState, str] = {
    PowerState.RUNNING: Instance.Status.RUNNING,
    PowerState.STOPPED: Instance.Status.STOPPED,
    PowerState.ERROR: Instance.Status.ERROR,
}


@dataclass(frozen=True)
class InstanceEvent:
    """What a cluster said about one instance at cluster time `timestamp`.

    A field left None is unchanged by the event. An event without `status` is a progress event:
    it only updates `progress` (and never moves `backend_time`). An event with a `status` sets
    `progress` to its own value, so a final event (progress None) clears the progress bar.
    """

    cluster_id: int
    name: str
    timestamp: float
    source: str
    status: str | None = None
    admin_up: bool | None = None
    primary_node: str | None = None
    secondary_nodes: tuple[str, ...] | None = None
    vcpus: int | None = None
    memory_mb: int | None = None
    disk_template: str | None = None
    disks: tuple[dict[str, Any], ...] | None = None
    nics: tuple[dict[str, Any], ...] | None = None
    os: str | None = None
    fault: str | None = None
    progress: int | None = None

    @property
    def is_progress(self) -> bool:
        """True for a progress-only event."""
        return self.status is None

    def changes(self) -> dict[str, Any]:
        """The model fields this event sets (column name -> value)."""
        if self.is_progress:
            return {"progress": self.progress}
        values: dict[str, Any] = {"status": self.status, "progress": self.progress, "backend_time": self.timestamp}
        if self.admin_up is not None:
            values["admin_up"] = self.admin_up
        if self.primary_node is not None:
            values["primary_node"] = self.primary_node
        if self.secondary_nodes is not None:
            values["secondary_nodes"] = list(self.secondary_nodes)
        if self.vcpus is not None:
            values["vcpus"] = self.vcpus
        if self.memory_mb is not None:
            values["memory_mb"] = self.memory_mb
        if self.disk_template is not None:
            values["disk_template"] = self.disk_template
        if self.disks is not None:
            values["disks"] = list(self.disks)
        if self.nics is not None:
            values["nics"] = list(self.nics)
        if self.os is not None:
            values["os"] = self.os
        if self.fault is not None:
            values["fault"] = self.fault
        return values


def disk_json(disk: DiskInfo) -> dict[str, Any]:
    """How an instance row stores one disk."""
    return {"size_mb": disk.size_mb, "template": disk.template, "name": disk.name}


def nic_json(nic: NicInfo) -> dict[str, Any]:
    """How an instance row stores one NIC."""
    return {"mac": nic.mac, "ip": nic.ip, "network": nic.network, "link": nic.link, "name": nic.name}


def info_fields(info: InstanceInfo) -> dict[str, Any]:
    """The instance-row values a cluster's `InstanceInfo` implies (shared by events and reconciliation)."""
    return {
        "status": STATUS_FOR_POWER[info.power],
        "admin_up": info.admin_up,
        "primary_node": info.primary_node,
        "secondary_nodes": list(info.secondary_nodes),
        "vcpus": info.vcpus,
        "memory_mb": info.memory_mb,
        "disk_template": info.disk_template,
        "disks": [disk_json(d) for d in info.disks],
        "nics": [nic_json(n) for n in info.nics],
        "os": info.os,
    }


def event_from_info(
    cluster_id: int,
    info: InstanceInfo,
    *,
    timestamp: float,
    source: str,
    status: str | None = None,
    fault: str | None = None,
) -> InstanceEvent:
    """A full-state event from what the cluster reports; `status` overrides the power-derived one."""
    fields = info_fields(info)
    return InstanceEvent(
        cluster_id=cluster_id,
        name=info.name,
        timestamp=timestamp,
        source=source,
        status=status or fields["status"],
        admin_up=info.admin_up,
        primary_node=info.primary_node,
        secondary_nodes=tuple(info.secondary_nodes),
        vcpus=info.vcpus,
        memory_mb=info.memory_mb,
        disk_template=info.disk_template,
        disks=tuple(fields["disks"]),
        nics=tuple(fields["nics"]),
        os=info.os,
        fault=fault,
    )


def release_name(cluster_id: int, name: str) -> float:
    """Free `name` on a cluster for a new row: a deleted namesake keeps its history under a new name.

    Returns the deleted row's backend time (0 when there was none): the new row starts there, so
    late events about the old instance cannot touch the new one. Callers check that any namesake
    is deleted.
    """
    old = Instance.objects.filter(cluster_id=cluster_id, name=name, status=Instance.Status.DELETED).first()
    if old is None:
        return 0.0
    Instance.objects.filter(pk=old.pk).update(name=f"{name}~deleted-{old.pk}")
    return old.backend_time


def apply_event(event: InstanceEvent) -> bool:
    """Apply `event` unless an event newer than it was applied already; True when it was applied.

    One conditional UPDATE (`backend_time <= timestamp`), so it is safe under concurrency and
    idempotent: the same event twice leaves the same row. `instance_changed` follows on commit.
    """
    values = event.changes()
    values["updated_at"] = timezone.now()
    db = router.db_for_write(Instance)
    connection = connections[db]
    fields = _fields()
    params = [fields[name].get_db_prep_save(value, connection) for name, value in values.items()]
    params += [event.cluster_id, event.name, event.timestamp]
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(tuple(values), connection), params)
        applied = cursor.rowcount > 0
    if applied and signals.instance_changed.has_listeners(Instance):
        transaction.on_commit(lambda: _send_changed(event), using=db)
    return applied


@cache
def _fields() -> dict[str, Field]:
    return {f.name: f for f in Instance._meta.concrete_fields}


@cache
def _update_sql_for(vendor: str, columns: tuple[str, ...], quote: Callable[[str], str]) -> str:
    fields = _fields()
    sets = ", ".join(f"{quote(fields[name].column)} = %s" for name in columns)
    table = quote(Instance._meta.db_table)
    where = f"{quote('cluster_id')} = %s AND {quote('name')} = %s AND {quote('backend_time')} <= %s"
    # Identifiers come from the model's own metadata; every value is a bound parameter.
    return f"UPDATE {table} SET {sets} WHERE {where}"  # noqa: S608


def _update_sql(columns: tuple[str, ...], connection: BaseDatabaseWrapper) -> str:
    """The conditional UPDATE for this set of columns, compiled once per set (events are a hot path:
    building the same statement through the ORM each time costs several times the write itself)."""
    return _update_sql_for(connection.vendor, columns, connection.ops.quote_name)


def _send_changed(event: InstanceEvent) -> None:
    """Tell receivers about the committed row (read after commit, so they see what others see)."""
    db = router.db_for_read(Instance)
    sql = _select_sql(connections[db].ops.quote_name)
    instance = next(iter(Instance.objects.db_manager(db).raw(sql, [event.cluster_id, event.name])), None)
    if instance is not None:
        signals.instance_changed.send(sender=Instance, instance=instance, event=event)


@cache
def _select_sql(quote: Callable[[str], str]) -> str:
    """The row by (cluster, name), as a raw statement compiled once (see `_update_sql`)."""
    columns = ", ".join(quote(f.column) for f in Instance._meta.concrete_fields)
    table = quote(Instance._meta.db_table)
    return f"SELECT {columns} FROM {table} WHERE {quote('cluster_id')} = %s AND {quote('name')} = %s"  # noqa: S608
