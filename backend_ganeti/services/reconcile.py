"""Reconciliation: compare one cluster's instances with the database and fix the database.

Three kinds of difference are reported: instances the database has but the cluster lacks
(`missing_in_cluster`), instances the cluster has but the database does not know
(`unknown_in_db`), and instances whose state, nodes, flavor, disks or NICs differ
(`out_of_sync`). Instances with an unfinished job are in flight and left alone. Fixing replays
what the cluster says as `InstanceEvent`s (source "reconcile") through `apply_event`, the same
code path the job watcher uses, timed at the cluster's instance mtime (never earlier than the
row's last event, never later than the cluster said), so a newer job event always wins.

Unknown instances get a row with no project and an empty `owner_ref`: admins see them in the
instance lists (an orphan to adopt or destroy), compute ignores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction

from backend_ganeti.drivers import registry
from backend_ganeti.drivers.types import InstanceInfo
from backend_ganeti.errors import ClusterError, ClusterOffline
from backend_ganeti.models import Cluster, Instance, Job
from backend_ganeti.rapi.errors import ClusterUnreachable, RapiError
from backend_ganeti.services import jobs
from backend_ganeti.services.dispatch import Operation
from backend_ganeti.services.events import (
    SOURCE_RECONCILE,
    InstanceEvent,
    apply_event,
    event_from_info,
    info_fields,
    release_name,
)
from backend_ganeti.services.outcomes import FAULT_NOT_FOUND
from portal import audit

# The row fields compared with the cluster (the order is the report's).
COMPARED = (
    "status",
    "admin_up",
    "primary_node",
    "secondary_nodes",
    "vcpus",
    "memory_mb",
    "disk_template",
    "disks",
    "nics",
)
FAULT_ERROR_STATE = "the cluster reports the instance in an error state"
UNFINISHED = [s for s in Job.Status.values if s not in Job.FINISHED]


@dataclass(frozen=True)
class Drift:
    """One out-of-sync instance: field -> (database value, cluster value)."""

    name: str
    fields: dict[str, tuple[Any, Any]]

    def describe(self) -> str:
        """`status running -> stopped; vcpus 1 -> 2`."""
        return "; ".join(f"{key} {old!r} -> {new!r}" for key, (old, new) in self.fields.items())


@dataclass
class ReconcileReport:
    """What one reconciliation found (and, unless `dry_run`, how many rows it fixed)."""

    cluster: str
    dry_run: bool
    on_cluster: int = 0
    in_database: int = 0
    missing_in_cluster: list[str] = field(default_factory=list)
    unknown_in_db: list[str] = field(default_factory=list)
    out_of_sync: list[Drift] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)
    fixed: int = 0

    @property
    def differences(self) -> int:
        """How many instances differ."""
        return len(self.missing_in_cluster) + len(self.unknown_in_db) + len(self.out_of_sync)

    @property
    def changed(self) -> bool:
        """True when the database was changed."""
        return not self.dry_run and self.fixed > 0

    def summary(self) -> str:
        """One line: counts by kind."""
        fixed = "dry run" if self.dry_run else f"fixed {self.fixed}"
        return (
            f"{len(self.missing_in_cluster)} missing in cluster, {len(self.unknown_in_db)} unknown in database, "
            f"{len(self.out_of_sync)} out of sync, {len(self.in_flight)} in flight; {fixed}"
        )

    def lines(self) -> list[str]:
        """A readable report, one finding per line."""
        mode = "dry run, nothing changed" if self.dry_run else f"{self.fixed} fixed"
        out = [
            f"Cluster {self.cluster}: {self.on_cluster} instances on the cluster, "
            f"{self.in_database} in the database ({mode})"
        ]
        if not self.differences:
            out.append("  in sync")
        for title, names in (
            ("missing in cluster", self.missing_in_cluster),
            ("unknown in database", self.unknown_in_db),
            ("in flight, skipped", self.in_flight),
        ):
            if names:
                out.append(f"  {title} ({len(names)}): {', '.join(sorted(names))}")
        if self.out_of_sync:
            out.append(f"  out of sync ({len(self.out_of_sync)}):")
            out.extend(f"    {drift.name}: {drift.describe()}" for drift in self.out_of_sync)
        return out


def diff_instance(row: Instance, info: InstanceInfo) -> dict[str, tuple[Any, Any]]:
    """The compared fields where the row and the cluster disagree."""
    expected = info_fields(info)
    current = {
        "status": row.status,
        "admin_up": row.admin_up,
        "primary_node": row.primary_node,
        "secondary_nodes": list(row.secondary_nodes),
        "vcpus": row.vcpus,
        "memory_mb": row.memory_mb,
        "disk_template": row.disk_template,
        "disks": list(row.disks),
        "nics": list(row.nics),
    }
    return {key: (current[key], expected[key]) for key in COMPARED if current[key] != expected[key]}


def _in_flight(cluster: Cluster) -> set[str]:
    """Names of instances with an unfinished job."""
    return set(
        Job.objects.filter(cluster=cluster, status__in=UNFINISHED, instance__isnull=False).values_list(
            "target", flat=True
        )
    )


def _fetch(cluster: Cluster) -> list[InstanceInfo]:
    driver = registry.driver_for(cluster)
    try:
        infos = driver.instances()
    except ClusterUnreachable as exc:
        jobs.mark_unreachable(cluster, exc)
        raise ClusterOffline(f"Cluster {cluster.name} is unreachable: {exc.message}") from exc
    except RapiError as exc:
        raise ClusterError(str(exc)) from exc
    finally:
        driver.close()
    jobs.mark_reachable(cluster)
    return infos


def reconcile_cluster(cluster: Cluster, *, dry_run: bool, actor: Any = None) -> ReconcileReport:
    """Compare `cluster` with the database; unless `dry_run`, fix the database through events."""
    cluster = Cluster.objects.get(pk=cluster.pk)
    if cluster.state == Cluster.State.OFFLINE:
        raise ClusterOffline(f"Cluster {cluster.name} is offline: it is not reconciled.")
    infos = {info.name: info for info in _fetch(cluster)}
    rows = {row.name: row for row in Instance.objects.filter(cluster=cluster).exclude(status=Instance.Status.DELETED)}
    report = ReconcileReport(cluster=cluster.name, dry_run=dry_run, on_cluster=len(infos), in_database=len(rows))
    busy = _in_flight(cluster)
    for name, row in rows.items():
        if name in busy:
            report.in_flight.append(name)
        elif name not in infos:
            report.missing_in_cluster.append(name)
        elif drift := diff_instance(row, infos[name]):
            report.out_of_sync.append(Drift(name, drift))
    report.unknown_in_db = [name for name in infos if name not in rows and name not in busy]
    if dry_run or not report.differences:
        return report
    with transaction.atomic():
        report.fixed = _fix(cluster, report, rows, infos)
        if not report.fixed:
            return report
        audit.record(
            actor,
            "backend.reconcile_cluster",
            cluster,
            detail={
                "missing_in_cluster": report.missing_in_cluster[:100],
                "unknown_in_db": report.unknown_in_db[:100],
                "out_of_sync": [d.name for d in report.out_of_sync][:100],
                "fixed": report.fixed,
            },
        )
    return report


def _fix(cluster: Cluster, report: ReconcileReport, rows: dict[str, Instance], infos: dict[str, InstanceInfo]) -> int:
    """Apply the report's findings as events; returns how many were applied."""
    busy = _in_flight(cluster)  # again, inside the transaction: a job may have started meanwhile
    fixed = 0
    for drift in report.out_of_sync:
        if drift.name not in busy:
            fixed += apply_event(_event(cluster, infos[drift.name], rows[drift.name].backend_time))
    for name in report.missing_in_cluster:
        row = rows[name]
        event = _missing_event(cluster, row)
        settled = row.status == event.status  # marked already (an error keeps its first reason)
        if name not in busy and not settled:
            fixed += apply_event(event)
    for name in report.unknown_in_db:
        info = infos[name]
        start = release_name(cluster.pk, name)
        Instance.objects.create(
            cluster=cluster, name=name, project=None, owner_ref="", status=Instance.Status.BUILDING, backend_time=start
        )
        fixed += apply_event(_event(cluster, info, start))
    return fixed


def _event(cluster: Cluster, info: InstanceInfo, backend_time: float) -> InstanceEvent:
    """The cluster's view as an event, timed no earlier than the row's last event."""
    timestamp = max(info.mtime or 0.0, backend_time)
    event = event_from_info(cluster.pk, info, timestamp=timestamp, source=SOURCE_RECONCILE)
    fault = FAULT_ERROR_STATE if event.status == Instance.Status.ERROR else ""
    return replace(event, fault=fault)


def _missing_event(cluster: Cluster, row: Instance) -> InstanceEvent:
    """A row the cluster lacks: deleted when its last job was a destroy, else an error."""
    last = Job.objects.filter(instance=row).order_by("-created_at", "-id").values_list("operation", flat=True).first()
    gone = last == Operation.DESTROY
    return InstanceEvent(
        cluster_id=cluster.pk,
        name=row.name,
        timestamp=row.backend_time,
        source=SOURCE_RECONCILE,
        status=Instance.Status.DELETED if gone else Instance.Status.ERROR,
        fault="" if gone else FAULT_NOT_FOUND,
        progress=None,
    )
