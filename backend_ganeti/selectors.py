"""Read-side queries of backend_ganeti for the admin surfaces (commands, admin API, admin pages).

Only reads: every change goes through `backend_ganeti.services`. Lookups raise the portal's
`NotFound` (404) for a missing row and `ValidationFailed` (400) for an ambiguous name, so each
surface maps them the way it maps every other domain error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from backend_ganeti.models import Cluster, Instance, Job, Node
from identity.models import Project
from portal.errors import NotFound, ValidationFailed

UNFINISHED_JOB_STATUSES = tuple(s for s in Job.Status.values if s not in Job.FINISHED)


def _count(rows: QuerySet[Any]) -> Coalesce:
    """How many of `rows` belong to the outer cluster: a correlated subquery, so counts of several
    relations do not multiply each other as joins would (nodes x instances x jobs rows)."""
    per_cluster = rows.filter(cluster=OuterRef("pk")).order_by().values("cluster").annotate(n=Count("pk"))
    return Coalesce(Subquery(per_cluster.values("n")), 0)


def clusters() -> QuerySet[Cluster]:
    """Every cluster with its node, live-instance and unfinished-job counts."""
    return Cluster.objects.annotate(
        node_count=_count(Node.objects.all()),
        instance_count=_count(Instance.objects.exclude(status=Instance.Status.DELETED)),
        active_job_count=_count(Job.objects.filter(status__in=UNFINISHED_JOB_STATUSES)),
    ).order_by("name")


def cluster_named(name: str) -> Cluster:
    """The cluster called `name` (with the counts `clusters()` adds); NotFound otherwise."""
    cluster = clusters().filter(name=name).first()
    if cluster is None:
        raise NotFound(f"Could not find cluster {name}.")
    return cluster


def nodes(*, cluster: Cluster | None = None) -> QuerySet[Node]:
    """Nodes, of one cluster or of all, in `gnt-node list` order (cluster, then name)."""
    rows = Node.objects.select_related("cluster", "group")
    if cluster is not None:
        rows = rows.filter(cluster=cluster)
    return rows.order_by("cluster__name", "name")


def node_by_pk(pk: int | str) -> Node:
    """The node with this id; NotFound otherwise."""
    node = Node.objects.select_related("cluster").filter(pk=_int_or_none(pk)).first()
    if node is None:
        raise NotFound(f"Could not find node {pk}.")
    return node


def node_named(cluster: Cluster, name: str) -> Node:
    """The node called `name` on `cluster` (a unique prefix before the first dot also matches)."""
    node = Node.objects.select_related("cluster").filter(cluster=cluster, name=name).first()
    if node is not None:
        return node
    short = list(Node.objects.select_related("cluster").filter(cluster=cluster, name__startswith=f"{name}."))
    if len(short) == 1:
        return short[0]
    raise NotFound(f"Could not find node {name} on cluster {cluster.name}.")


def instances(
    *, cluster: Cluster | None = None, status: str | None = None, project_id: str | None = None
) -> QuerySet[Instance]:
    """Instances, filtered; deleted ones only when `status` asks for them."""
    rows = Instance.objects.select_related("cluster", "project")
    if cluster is not None:
        rows = rows.filter(cluster=cluster)
    rows = rows.filter(status=status) if status else rows.exclude(status=Instance.Status.DELETED)
    if project_id:
        rows = rows.filter(project_id=project_id)
    return rows.order_by("cluster__name", "name")


def project_id_for(ref: str) -> str:
    """The id of the project whose id or name is `ref`; NotFound otherwise."""
    project = Project.objects.filter(Q(pk=ref) | Q(name=ref)).order_by("name").first()
    if project is None:
        raise NotFound(f"Could not find project {ref}.")
    return str(project.pk)


def instance_by_pk(pk: int | str) -> Instance:
    """The instance with this id; NotFound otherwise."""
    instance = Instance.objects.select_related("cluster", "project").filter(pk=_int_or_none(pk)).first()
    if instance is None:
        raise NotFound(f"Could not find instance {pk}.")
    return instance


def resolve_instance(ref: str, *, cluster: Cluster | None = None) -> Instance:
    """An instance named `ref`, `cluster/name`, or `name` within `cluster`.

    A bare name found on several clusters is ambiguous (ValidationFailed naming them); deleted
    instances only match when nothing else does.
    """
    if "/" in ref and cluster is None:
        cluster_name, _, ref = ref.partition("/")
        cluster = cluster_named(cluster_name)
    rows = Instance.objects.select_related("cluster", "project").filter(name=ref)
    if cluster is not None:
        rows = rows.filter(cluster=cluster)
    found = list(rows.order_by("cluster__name"))
    live = [i for i in found if i.status != Instance.Status.DELETED] or found
    if not live:
        where = f" on cluster {cluster.name}" if cluster is not None else ""
        raise NotFound(f"Could not find instance {ref}{where}.")
    if len(live) > 1:
        names = ", ".join(i.cluster.name for i in live)
        raise ValidationFailed(
            f"Instance name {ref} is ambiguous: it exists on clusters {names}. Use cluster/name or --cluster."
        )
    return live[0]


def jobs(
    *,
    cluster: Cluster | None = None,
    statuses: Iterable[str] = (),
    operation: str | None = None,
    instance: Instance | None = None,
) -> QuerySet[Job]:
    """Jobs, newest first, filtered by cluster, status(es), operation or instance."""
    rows = Job.objects.select_related("cluster", "instance")
    if cluster is not None:
        rows = rows.filter(cluster=cluster)
    wanted = [s for s in statuses if s]
    if wanted:
        rows = rows.filter(status__in=wanted)
    if operation:
        rows = rows.filter(operation=operation)
    if instance is not None:
        rows = rows.filter(instance=instance)
    return rows.order_by("-created_at", "-id")


def job_by_pk(pk: int | str) -> Job:
    """The job with this portal id; NotFound otherwise."""
    job = Job.objects.select_related("cluster", "instance").filter(pk=_int_or_none(pk)).first()
    if job is None:
        raise NotFound(f"Could not find job {pk}.")
    return job


def job_operations() -> list[str]:
    """The operation names jobs have used, for filter choices."""
    return sorted(set(Job.objects.values_list("operation", flat=True).distinct()))


@dataclass(frozen=True)
class LogLine:
    """One line of a job's log as the admin surfaces show it."""

    serial: int
    time: datetime | None
    kind: str
    message: str


def job_log(job: Job) -> list[LogLine]:
    """The job's log lines in the order they were recorded.

    The watcher stores `JobLogEntry` fields as dicts (the portal's own notes carry serial 0, so the
    stored order, not the serial, is the order); Ganeti's `[serial, [sec, usec], type, message]`
    lists are read too, so a log copied from RAPI shows the same.
    """
    lines = [_log_line(entry) for entry in job.log or []]
    return [line for line in lines if line is not None]


def _log_line(entry: Any) -> LogLine | None:
    if isinstance(entry, dict):
        serial = entry.get("serial", 0)
        stamp = entry.get("timestamp", entry.get("time"))
        kind = entry.get("kind", entry.get("type", ""))
        message = entry.get("message", "")
    elif isinstance(entry, list | tuple) and len(entry) >= 4:
        serial, stamp, kind, message = entry[0], entry[1], entry[2], entry[3]
    else:
        return None
    return LogLine(serial=_int_or_none(serial) or 0, time=_time(stamp), kind=str(kind or ""), message=str(message))


def _time(stamp: Any) -> datetime | None:
    if isinstance(stamp, list | tuple) and stamp:  # Ganeti's (seconds, microseconds)
        stamp = float(stamp[0]) + (float(stamp[1]) / 1e6 if len(stamp) > 1 else 0.0)
    if isinstance(stamp, int | float):
        return datetime.fromtimestamp(stamp, tz=UTC)
    return None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
