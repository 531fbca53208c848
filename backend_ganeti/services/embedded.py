"""Register the embedded libvirt host (the single-machine default cluster) in the database.

`ensure_embedded_cluster` is idempotent: it creates the `embedded` cluster on the first call,
points it at a moved socket later, and otherwise changes nothing. It never contacts the agent
(it runs while preparing the data dir, before the agent starts); the capacity snapshot is filled
by the first `refresh_cluster`.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from backend_ganeti.libvirt_host import DISK_TEMPLATES
from backend_ganeti.models import Cluster
from portal import audit

EMBEDDED_NAME = "embedded"


def embedded_endpoint(socket_path: Path) -> str:
    """`unix:///abs/path/to/socket`, the endpoint form LibvirtHostDriver reads."""
    return f"unix://{Path(socket_path).absolute()}"


@transaction.atomic
def ensure_embedded_cluster(*, socket_path: Path, actor: object = None) -> Cluster:
    """The `embedded` libvirt cluster, created (public, templates file/diskless) if missing."""
    endpoint = embedded_endpoint(socket_path)
    cluster = Cluster.objects.select_for_update().filter(name=EMBEDDED_NAME).first()
    if cluster is None:
        cluster = Cluster.objects.create(
            name=EMBEDDED_NAME,
            kind=Cluster.Kind.LIBVIRT,
            endpoint=endpoint,
            public=True,
            disk_templates=list(DISK_TEMPLATES),
            hypervisor="libvirt",
        )
        audit.record(
            actor, "backend.add_cluster", cluster, detail={"kind": cluster.kind, "endpoint": endpoint, "embedded": True}
        )
        return cluster
    if cluster.endpoint != endpoint and cluster.kind == Cluster.Kind.LIBVIRT:
        previous = cluster.endpoint
        cluster.endpoint = endpoint
        cluster.save(update_fields=["endpoint"])
        audit.record(
            actor, "backend.update_cluster", cluster, detail={"endpoint": endpoint, "previous_endpoint": previous}
        )
    return cluster
