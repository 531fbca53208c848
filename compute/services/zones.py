"""Availability zones: each cluster a project may use is a zone (the embedded host is `embedded`).

A server booted without a zone goes where backend_ganeti's allocator puts it, and shows that
cluster as its zone. Naming a zone sends the server to that cluster as an explicit choice:
backend_ganeti then reserves no capacity for it, and a cluster without room fails the build
(the server ends in ERROR with the cluster's reason).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from backend_ganeti.models import Cluster, Node
from identity.models import Project
from portal.errors import ValidationFailed

UNAVAILABLE = "The requested availability zone is not available"


@dataclass(frozen=True)
class Zone:
    """One zone as os-availability-zone lists it."""

    name: str
    available: bool


def _usable(project_id: str | None) -> QuerySet[Cluster]:
    access = Q(public=True)
    if project_id:
        access |= Q(projects__pk=project_id)
    return Cluster.objects.filter(access).exclude(state=Cluster.State.OFFLINE).distinct().order_by("name")


def zones_for(project_id: str | None, *, every: bool = False) -> list[Zone]:
    """The zones a project may boot in (with `every`, an admin's view of all clusters)."""
    rows = Cluster.objects.order_by("name") if every else _usable(project_id)
    return [
        Zone(c.name, c.state == Cluster.State.ENABLED and c.reachable) for c in rows.only("name", "state", "reachable")
    ]


def cluster_for_zone(project: Project, name: str) -> Cluster:
    """The enabled cluster a project may use that the zone `name` stands for; 400 otherwise."""
    cluster = _usable(project.pk).filter(name=name, state=Cluster.State.ENABLED).first()
    if cluster is None:
        raise ValidationFailed(UNAVAILABLE)
    return cluster


def zone_hosts(names: list[str]) -> dict[str, dict[str, dict[str, object]]]:
    """For the detail listing: each zone's nodes as Nova's `hosts` (one `nova-compute` service each)."""
    hosts: dict[str, dict[str, dict[str, object]]] = {name: {} for name in names}
    nodes = Node.objects.filter(cluster__name__in=names).select_related("cluster").order_by("cluster__name", "name")
    for node in nodes:
        up = not node.offline and node.cluster.reachable
        hosts[node.cluster.name][node.name] = {
            "nova-compute": {
                "available": up and not node.drained,
                "active": up,
                "updated_at": node.updated_at.strftime("%Y-%m-%dT%H:%M:%S.%f"),
            }
        }
    return hosts
