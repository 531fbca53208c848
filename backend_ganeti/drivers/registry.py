"""Pick the driver for a cluster row: one explicit match on the cluster kind, no lookup by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend_ganeti.drivers.base import ClusterDriver

if TYPE_CHECKING:
    from backend_ganeti.models import Cluster


def driver_for(cluster: Cluster) -> ClusterDriver:
    """A new driver connected to `cluster` (callers close it, or use `with_driver`)."""
    from backend_ganeti.models import Cluster as ClusterModel

    if cluster.kind == ClusterModel.Kind.GANETI:
        from backend_ganeti.drivers.ganeti import GanetiDriver

        return GanetiDriver.for_cluster(cluster)
    if cluster.kind == ClusterModel.Kind.LIBVIRT:
        from backend_ganeti.drivers.libvirt import LibvirtHostDriver

        return LibvirtHostDriver.for_cluster(cluster)
    raise ValueError(f"cluster {cluster.name!r} has unknown kind {cluster.kind!r}")
