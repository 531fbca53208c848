"""The data plane: a disk's bytes read from or written to an instance, for compute's snapshots and volumes.

Unlike `operations.py` these calls are not jobs: they move bytes through the driver now
(`ClusterDriver.read_disk` / `write_disk`) and answer when done, so callers run them in a
worker (a Celery task), never inside a web request's transaction. Whether a cluster can do it is
`supports_disk_data(cluster)`, a property of its driver answered without asking the cluster:
the embedded libvirt host can, real Ganeti cannot (its RAPI has no call for disk bytes); callers
refuse up front with `DiskDataUnsupported` (409). Errors: an offline or unreachable cluster is
`ClusterOffline` (409), an instance or disk the cluster does not have `NotFound`, anything else
the cluster says `ClusterError` (502).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from backend_ganeti.drivers import registry
from backend_ganeti.drivers.types import DiskData
from backend_ganeti.errors import ClusterError, ClusterOffline
from backend_ganeti.models import Cluster, Instance
from backend_ganeti.rapi.errors import ClusterUnreachable, NotSupported, RapiError
from backend_ganeti.rapi.errors import NotFound as ClusterNotFound
from backend_ganeti.services import jobs
from backend_ganeti.services.operations import check_cluster
from portal.errors import Conflict, NotFound


class DiskDataUnsupported(Conflict):
    """The cluster cannot read or write disk bytes (real Ganeti)."""


def supports_disk_data(cluster: Cluster) -> bool:
    """Whether `cluster`'s driver can read and write disk bytes (no request to the cluster)."""
    driver = registry.driver_for(cluster)
    try:
        return bool(driver.disk_data_supported())
    finally:
        driver.close()


def require_disk_data(cluster: Cluster, *, what: str) -> None:
    """DiskDataUnsupported (409) naming `what` when the cluster cannot move disk bytes."""
    if not supports_disk_data(cluster):
        raise DiskDataUnsupported(
            f"{what} is not supported by cluster {cluster.name} ({cluster.kind}): it cannot read or write "
            "a disk's bytes (Ganeti's RAPI has no call for that)."
        )


def _live(instance: Instance) -> Instance:
    row = Instance.objects.select_related("cluster").filter(pk=instance.pk).first()
    if row is None or row.status == Instance.Status.DELETED:
        raise NotFound(f"Could not find instance {instance.name}.")
    check_cluster(row.cluster)
    return row


def _translate(row: Instance, exc: RapiError) -> Exception:
    if isinstance(exc, NotSupported):
        return DiskDataUnsupported(f"Cluster {row.cluster.name}: {exc.message}")
    if isinstance(exc, ClusterUnreachable):
        jobs.mark_unreachable(row.cluster, exc)
        return ClusterOffline(f"Cluster {row.cluster.name} is unreachable: {exc.message}")
    if isinstance(exc, ClusterNotFound):
        return NotFound(f"Cluster {row.cluster.name}: {exc.message}")
    return ClusterError(str(exc))


@contextlib.contextmanager
def read_instance_disk(instance: Instance, disk: int | str) -> Iterator[DiskData]:
    """The bytes of the instance's disk `disk` (index or name) as a stream, for the `with` block.

    Errors raised while the block iterates the chunks are translated too.
    """
    row = _live(instance)
    driver = registry.driver_for(row.cluster)
    data: DiskData | None = None
    try:
        data = driver.read_disk(row.name, disk)
        yield data
    except RapiError as exc:
        raise _translate(row, exc) from exc
    finally:
        if data is not None:
            close = getattr(data.chunks, "close", None)
            if close is not None:
                close()
        driver.close()


def write_instance_disk(instance: Instance, disk: int | str, chunks: Iterable[bytes], *, size: int) -> int:
    """Write `size` bytes from `chunks` at the start of the instance's disk `disk`; returns the bytes written."""
    row = _live(instance)
    driver = registry.driver_for(row.cluster)
    try:
        return driver.write_disk(row.name, disk, chunks, size=size)
    except RapiError as exc:
        raise _translate(row, exc) from exc
    finally:
        driver.close()
