"""Allocation across clusters: pick the cluster for a new instance and reserve its capacity.

The rules live in `services.placement` (filters, score); this module reads capacity from the
Cluster rows and makes the choice safe under concurrency:

1. One query narrows the candidates in SQL (enabled, reachable, public or assigned, enough free
   memory/disk/vCPUs after reservations); placement's rules then decide and rank them in Python.
2. The best candidate's row is locked (SELECT ... FOR UPDATE), its capacity re-checked with the
   same rules, and its reserved_* columns incremented with F() expressions in the same
   transaction. Each attempt runs in a savepoint: when the re-check fails (another create took
   the room meanwhile) the savepoint is rolled back, which releases the lock, and the next
   candidate is tried. At most one cluster row is locked at a time, so allocators cannot
   deadlock one another.
3. No candidate left: every cluster is examined again to say why (NoCapacity, 503).

Reservations are released by `release_reservation` when the create job ends (docs/allocation.md).
Both cluster kinds (ganeti, libvirt) are treated alike; there is no limit on the number of clusters.

`choose_placement` also takes a server group's `placement.NodeHints` (same node as its members, or
none of theirs) and then names the node too, from the clusters' usable Node rows; `node_for`
applies the hints inside a cluster an admin or a zone named.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, ExpressionWrapper, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Greatest

from backend_ganeti.errors import NoCapacity
from backend_ganeti.models import Cluster, Node
from backend_ganeti.services import placement
from portal.errors import ValidationFailed

log = logging.getLogger(__name__)


class _Taken(Exception):
    """The locked cluster no longer fits (rolls back the attempt's savepoint)."""


def cpu_ratio() -> float:
    """vCPUs allowed per physical core (settings.BACKEND_CPU_RATIO, default 4.0)."""
    return float(getattr(settings, "BACKEND_CPU_RATIO", placement.DEFAULT_CPU_RATIO))


def capacity_of(cluster: Cluster, *, project_ids: frozenset[str] | None = None) -> placement.ClusterCapacity:
    """The allocator's view of a cluster row (`project_ids` defaults to the row's assignments)."""
    if project_ids is None:
        project_ids = frozenset(str(pk) for pk in cluster.projects.values_list("pk", flat=True))
    return placement.ClusterCapacity(
        name=cluster.name,
        key=cluster.pk,
        state=cluster.state,
        reachable=cluster.reachable,
        public=cluster.public,
        project_ids=project_ids,
        disk_templates=tuple(cluster.disk_templates or ()),
        mem_total_mb=cluster.mem_total_mb,
        mem_free_mb=cluster.mem_free_mb,
        disk_total_mb=cluster.disk_total_mb,
        disk_free_mb=cluster.disk_free_mb,
        cpu_total=cluster.cpu_total,
        cpu_used=cluster.cpu_used,
        reserved_mem_mb=cluster.reserved_mem_mb,
        reserved_disk_mb=cluster.reserved_disk_mb,
        reserved_cpu=cluster.reserved_cpu,
    )


def candidates(request: placement.Request, *, ratio: float) -> QuerySet[Cluster]:
    """Clusters that pass placement's filters except the disk template, narrowed in SQL.

    This mirrors `placement.rejection` (which stays the authority and is applied to every row
    returned); the template check stays in Python because JSON containment is not portable
    to SQLite.
    """
    access = Q(public=True)
    if request.project_id is not None:
        access |= Q(projects__pk=request.project_id)
    vcpu_limit = ExpressionWrapper(F("cpu_total") * Value(ratio), output_field=FloatField())
    disk_ok = Q(disk_total_mb=0) | Q(disk_room__gte=request.disk_demand_mb)
    ids = (
        Cluster.objects.filter(access, state=Cluster.State.ENABLED, reachable=True)
        .annotate(
            mem_room=F("mem_free_mb") - F("reserved_mem_mb"),
            disk_room=F("disk_free_mb") - F("reserved_disk_mb"),
            vcpu_room=vcpu_limit - F("cpu_used") - F("reserved_cpu"),
        )
        .filter(disk_ok, mem_room__gte=request.memory_mb, vcpu_room__gte=request.vcpus)
        .values("pk")
    )
    return Cluster.objects.filter(pk__in=ids).prefetch_related("projects")


@dataclass(frozen=True)
class Placement:
    """The allocator's answer: the cluster (capacity reserved) and the node, when one is named."""

    cluster: Cluster
    node: str | None = None


def choose_cluster(*, project: Any, vcpus: int, memory_mb: int, disk_mb: int, disk_template: str) -> Cluster:
    """The best cluster for a new instance, with its capacity reserved; NoCapacity when none fits.

    Call it inside the transaction that records the instance: the reservation is then committed
    (or rolled back) together with it. Release it with `release_reservation` when the create job
    ends, passing the same numbers.
    """
    request = _request(project, vcpus, memory_mb, disk_mb, disk_template)
    return choose_placement(request).cluster


def choose_placement(request: placement.Request, hints: placement.NodeHints | None = None) -> Placement:
    """`choose_cluster` for a checked request (see `request_for`), keeping `hints` when given."""
    ratio = cpu_ratio()
    with transaction.atomic():
        caps = [capacity_of(c, project_ids=_project_ids(c)) for c in candidates(request, ratio=ratio)]
        chosen = _reserve_best(_ranked(caps, request, hints, ratio), request, ratio)
        if chosen is not None:
            return chosen
        # Nothing left: look at every cluster to say why. One that fits now had room freed while
        # the attempts above ran (a create failed, a refresh): try those before giving up.
        every = [capacity_of(c, project_ids=_project_ids(c)) for c in Cluster.objects.prefetch_related("projects")]
        reasons = {cap.name: placement.rejection(cap, request, cpu_ratio=ratio) for cap in every}
        fitting = [cap for cap in every if reasons[cap.name] is None]
        ranked = _ranked(fitting, request, hints, ratio)
        chosen = _reserve_best(ranked, request, ratio)
        if chosen is not None:
            return chosen
        kept = {cap.name for cap, _ in ranked}
        for cap in fitting:
            if cap.name not in kept:
                reasons[cap.name] = placement.Reason.AFFINITY
    why = [reason or placement.Reason.MEMORY for reason in reasons.values()]
    raise NoCapacity(
        placement.explain(why, request),
        clusters={name: (reason.value if reason else "taken concurrently") for name, reason in reasons.items()},
    )


def node_for(cluster: Cluster, request: placement.Request, hints: placement.NodeHints) -> str | None:
    """The node of a named cluster that keeps `hints` (None: its allocator picks); NoCapacity when a
    strict hint cannot be kept there."""
    nodes = _nodes([cluster.pk], cpu_ratio()).get(cluster.pk, [])
    choice = placement.pick_node(cluster.name, nodes, request, hints)
    if choice is None:
        raise NoCapacity(
            placement.explain([placement.Reason.AFFINITY], request),
            clusters={cluster.name: placement.Reason.AFFINITY.value},
        )
    return choice.node


def _ranked(
    caps: list[placement.ClusterCapacity],
    request: placement.Request,
    hints: placement.NodeHints | None,
    ratio: float,
) -> list[tuple[placement.ClusterCapacity, str | None]]:
    """The clusters to try in order, each with the node to name (None without hints)."""
    if hints is None:
        return [(cap, None) for cap in placement.rank(caps, request, cpu_ratio=ratio)]
    nodes = _nodes([cap.key for cap in caps], ratio)
    ranked = placement.rank_with_hints(caps, nodes, request, hints, cpu_ratio=ratio)
    return [(cap, choice.node) for cap, choice in ranked]


def _nodes(cluster_ids: list[Any], ratio: float) -> dict[Any, list[placement.NodeCapacity]]:
    """The usable nodes (online, undrained, vm-capable) of clusters, by cluster id. A node that did
    not report a figure is not limited on it; vCPUs are not tracked per node (the cluster's are)."""
    found: dict[Any, list[placement.NodeCapacity]] = {}
    rows = Node.objects.filter(cluster_id__in=cluster_ids, offline=False, drained=False, vm_capable=True)
    for row in rows.order_by("name"):
        unknown = placement.MAX_NODE_FIGURE
        node = placement.NodeCapacity(
            row.name,
            mem_free_mb=row.mfree if row.mfree is not None else unknown,
            disk_free_mb=row.dfree if row.dfree is not None else unknown,
            vcpus_free=unknown,
        )
        found.setdefault(row.cluster_id, []).append(node)
    return found


def _reserve_best(
    ranked: list[tuple[placement.ClusterCapacity, str | None]], request: placement.Request, ratio: float
) -> Placement | None:
    """Reserve on the first cluster of `ranked` that still fits once locked; None when none does."""
    for cap, node in ranked:
        cluster = _reserve(cap, request, ratio)
        if cluster is not None:
            log.info(
                "allocated %s vCPU/%s MiB RAM/%s MiB disk (%s) on cluster %s node %s (score %.3f)",
                request.vcpus,
                request.memory_mb,
                request.disk_mb,
                request.disk_template,
                cluster.name,
                node or "-",
                placement.score(cap, request, cpu_ratio=ratio),
            )
            return Placement(cluster, node)
    return None


def _reserve(cap: placement.ClusterCapacity, request: placement.Request, ratio: float) -> Cluster | None:
    """Lock the cluster row, re-check it, and reserve; None when it no longer fits."""
    try:
        with transaction.atomic():
            cluster = Cluster.objects.select_for_update().get(pk=cap.key)
            fresh = capacity_of(cluster, project_ids=cap.project_ids)
            if placement.rejection(fresh, request, cpu_ratio=ratio) is not None:
                raise _Taken
            Cluster.objects.filter(pk=cluster.pk).update(
                reserved_mem_mb=F("reserved_mem_mb") + request.memory_mb,
                reserved_disk_mb=F("reserved_disk_mb") + request.disk_demand_mb,
                reserved_cpu=F("reserved_cpu") + request.vcpus,
            )
    except (_Taken, Cluster.DoesNotExist):
        return None
    cluster.refresh_from_db(fields=["reserved_mem_mb", "reserved_disk_mb", "reserved_cpu"])
    return cluster


@transaction.atomic
def release_reservation(
    cluster: Cluster,
    *,
    vcpus: int,
    memory_mb: int,
    disk_mb: int,
    disk_template: str = "",
    consumed: bool = False,
) -> None:
    """Give back what `choose_cluster` reserved (never below zero).

    Pass the `disk_template` given to choose_cluster, so a drbd instance's two disk copies are
    released. `consumed=True` (the instance now exists on the cluster) moves the amounts from the
    reservation into the snapshot's used capacity, which stays conservative until the next
    refresh reports the cluster's own numbers; `consumed=False` (the create failed) just frees them.
    """
    disk = placement.disk_demand(disk_template, disk_mb) if disk_template else disk_mb
    changes: dict[str, Any] = {
        "reserved_mem_mb": Greatest(F("reserved_mem_mb") - memory_mb, Value(0)),
        "reserved_disk_mb": Greatest(F("reserved_disk_mb") - disk, Value(0)),
        "reserved_cpu": Greatest(F("reserved_cpu") - vcpus, Value(0)),
    }
    if consumed:
        changes["mem_free_mb"] = Greatest(F("mem_free_mb") - memory_mb, Value(0))
        changes["disk_free_mb"] = Case(
            When(disk_total_mb=0, then=F("disk_free_mb")), default=Greatest(F("disk_free_mb") - disk, Value(0))
        )
        changes["cpu_used"] = F("cpu_used") + vcpus
    Cluster.objects.filter(pk=cluster.pk).update(**changes)
    cluster.refresh_from_db(fields=[*changes])


def request_for(project: Any, *, vcpus: int, memory_mb: int, disk_mb: int, disk_template: str) -> placement.Request:
    """A checked allocation request (ValidationFailed for bad numbers or a missing template)."""
    return _request(project, vcpus, memory_mb, disk_mb, disk_template)


def _request(project: Any, vcpus: int, memory_mb: int, disk_mb: int, disk_template: str) -> placement.Request:
    for label, value, least in (("vcpus", vcpus, 1), ("memory_mb", memory_mb, 1), ("disk_mb", disk_mb, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise ValidationFailed(f"{label} must be an integer >= {least}.")
    if not disk_template:
        raise ValidationFailed("A disk template is required to choose a cluster.")
    return placement.Request(
        vcpus=vcpus,
        memory_mb=memory_mb,
        disk_mb=disk_mb,
        disk_template=disk_template,
        project_id=str(project.pk) if project is not None else None,
    )


def _project_ids(cluster: Cluster) -> frozenset[str]:
    """The projects a cluster is assigned to, from the prefetched relation."""
    return frozenset(str(p.pk) for p in cluster.projects.all())
