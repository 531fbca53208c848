"""Rows for backend_ganeti tests: clusters, and instances that exist on a fake cluster and in the DB."""

from __future__ import annotations

from backend_ganeti.models import Cluster, Instance
from backend_ganeti.services.events import info_fields
from tests.backend_ganeti.fake_driver import FakeCloud


def make_cluster(name: str = "a", **fields) -> Cluster:
    """A cluster row (kind ganeti; only ever reached through the fake driver)."""
    values = {
        "kind": Cluster.Kind.GANETI,
        "endpoint": f"https://{name}.invalid:5080",
        "mem_total_mb": 65536,
        "mem_free_mb": 65536,
        "disk_total_mb": 10**6,
        "disk_free_mb": 10**6,
        "cpu_total": 64,
    }
    values.update(fields)
    return Cluster.objects.create(name=name, **values)


def seed_instance(cloud: FakeCloud, cluster: Cluster, name: str, *, project=None, **cluster_fields) -> Instance:
    """An instance on the fake cluster and its matching, in-sync row."""
    info = cloud.cluster(cluster.name).add_instance(name, **cluster_fields)
    return Instance.objects.create(
        cluster=cluster,
        name=name,
        project=project,
        owner_ref=f"server-{name}",
        backend_time=info.mtime,
        **info_fields(info),
    )
