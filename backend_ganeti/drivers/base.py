"""The one interface compute and backend_ganeti's services use to reach any cluster.

Every cluster kind implements `ClusterDriver`: the Ganeti RAPI driver (`drivers/ganeti.py`) and
the embedded libvirt host driver (`drivers/libvirt.py`). Operations that change an instance are
asynchronous on every kind: they return the cluster's job id at once, and the job watcher follows
the job (`job`, `wait_job`) and turns its progress into events. Nothing here touches the database.

Errors: drivers raise `backend_ganeti.rapi.errors.RapiError` subclasses (`ClusterUnreachable`,
`NotFound`, `Conflict`, `BadRequest`, ...) whatever the substrate, so callers catch one family.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from backend_ganeti.drivers.types import (
    ClusterSummary,
    ConsoleInfo,
    CreateSpec,
    DiskData,
    DiskSpec,
    InstanceInfo,
    JobStatus,
    NicSpec,
    NodeGroupInfo,
    NodeInfo,
)


@runtime_checkable
class ClusterDriver(Protocol):
    """Lifecycle, queries and jobs of one cluster. Write methods return a job id."""

    # --- queries -------------------------------------------------------------------------
    def summary(self) -> ClusterSummary:
        """Cluster-wide facts (name, version, hypervisor, enabled disk templates)."""
        ...

    def groups(self) -> list[NodeGroupInfo]:
        """Node groups."""
        ...

    def nodes(self) -> list[NodeInfo]:
        """Nodes with capacity."""
        ...

    def instances(self) -> list[InstanceInfo]:
        """Every instance on the cluster."""
        ...

    def instance(self, name: str) -> InstanceInfo:
        """One instance; raises NotFound when the cluster has none by that name."""
        ...

    def networks(self) -> list[str]:
        """Names of the cluster-level networks instances can be connected to."""
        ...

    def console(self, name: str) -> ConsoleInfo:
        """Where the instance's console listens."""
        ...

    # --- instance lifecycle (each returns a job id) --------------------------------------
    def create(self, spec: CreateSpec) -> str:
        """Build (and by default start) an instance."""
        ...

    def start(self, name: str) -> str:
        """Power on."""
        ...

    def stop(self, name: str, *, timeout: int | None = None) -> str:
        """Shut down, forcing it after `timeout` seconds."""
        ...

    def reboot(self, name: str, *, hard: bool = False) -> str:
        """Soft (guest) or hard (reset) reboot."""
        ...

    def destroy(self, name: str) -> str:
        """Remove the instance and its disks."""
        ...

    def resize(self, name: str, *, vcpus: int, memory_mb: int) -> str:
        """Change CPU and memory (takes effect at the next start where the hypervisor needs it)."""
        ...

    def add_disk(self, name: str, disk: DiskSpec) -> str:
        """Attach a new disk."""
        ...

    def remove_disk(self, name: str, index: int) -> str:
        """Detach and delete disk `index`."""
        ...

    def grow_disk(self, name: str, index: int, amount_mb: int) -> str:
        """Grow disk `index` by `amount_mb`."""
        ...

    def attach_disk(self, name: str, disk_name: str) -> str:
        """Attach the detached disk called `disk_name` (its data kept) as the instance's last disk."""
        ...

    def detach_disk(self, name: str, disk_name: str) -> str:
        """Detach the disk called `disk_name`; the cluster keeps it (and its data), attached to nothing."""
        ...

    def delete_detached_disk(self, name: str, disk_name: str) -> str:
        """Delete the detached disk `disk_name` and its data (Ganeti: attach it to `name`, then remove it)."""
        ...

    def add_nic(self, name: str, nic: NicSpec) -> str:
        """Attach a NIC."""
        ...

    def remove_nic(self, name: str, index: int) -> str:
        """Detach NIC `index`."""
        ...

    def migrate(self, name: str, *, target_node: str | None = None, live: bool = True) -> str:
        """Move a running instance to another node (live where possible)."""
        ...

    def failover(self, name: str, *, target_node: str | None = None) -> str:
        """Restart the instance on its secondary (or `target_node` for shared storage)."""
        ...

    def change_disk_template(self, name: str, template: str, *, secondary_node: str | None = None) -> str:
        """Convert the instance's disks (e.g. plain to drbd) where the cluster can."""
        ...

    # --- disk data (synchronous data plane, not jobs) ---------------------------------------
    def disk_data_supported(self) -> bool:
        """Whether `read_disk`/`write_disk` work on this cluster kind (answered without asking it)."""
        ...

    def read_disk(self, name: str, disk: int | str) -> DiskData:
        """The bytes of disk `disk` (an index, or a disk name) of instance `name`, streamed.

        Raises NotSupported where the cluster has no way to serve disk bytes (Ganeti RAPI).
        """
        ...

    def write_disk(self, name: str, disk: int | str, chunks: Iterable[bytes], *, size: int) -> int:
        """Write exactly `size` bytes from `chunks` at the start of disk `disk`; returns the bytes written.

        The rest of the disk is left as it was; more bytes than the disk holds is BadRequest.
        Raises NotSupported where the cluster cannot write disk bytes (Ganeti RAPI).
        """
        ...

    # --- nodes -----------------------------------------------------------------------------
    def evacuate_node(self, node: str, *, mode: str = "all") -> str:
        """Move instances off `node` (mode: all, primary-only, secondary-only)."""
        ...

    def set_node_drained(self, node: str, drained: bool) -> str:
        """Drain (no new instances) or undrain a node."""
        ...

    # --- jobs ------------------------------------------------------------------------------
    def job(self, job_id: str) -> JobStatus:
        """The job's current status and full log."""
        ...

    def wait_job(self, job_id: str, *, previous: JobStatus | None, timeout: float) -> JobStatus:
        """Block until the job differs from `previous` (or `timeout` passes); returns its status."""
        ...

    def cancel_job(self, job_id: str) -> bool:
        """Ask the cluster to cancel a queued job; False when it is too late."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
