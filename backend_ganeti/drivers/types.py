"""Value types exchanged between backend_ganeti's services and its cluster drivers.

Drivers translate their substrate (Ganeti RAPI, the embedded libvirt host) into these frozen
dataclasses, so the services, the job watcher and compute see one vocabulary whatever the cluster
kind. Sizes are MiB for memory and disks (Ganeti's unit), counts are plain ints.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


class PowerState(enum.StrEnum):
    """What the cluster says an instance is doing right now."""

    RUNNING = "running"
    STOPPED = "stopped"
    ERROR = "error"


class JobState(enum.StrEnum):
    """Normalised job status (Ganeti's names; the libvirt host uses the same ones)."""

    QUEUED = "queued"
    WAITING = "waiting"
    RUNNING = "running"
    CANCELING = "canceling"
    SUCCESS = "success"
    ERROR = "error"
    CANCELED = "canceled"

    @property
    def finished(self) -> bool:
        """True for the three terminal states."""
        return self in (JobState.SUCCESS, JobState.ERROR, JobState.CANCELED)


@dataclass(frozen=True)
class ClusterSummary:
    """Cluster-wide facts used to validate and describe a cluster."""

    name: str
    software_version: str
    hypervisor: str
    disk_templates: tuple[str, ...]
    master: str = ""


@dataclass(frozen=True)
class NodeGroupInfo:
    """A node group (Ganeti) or the single implicit group of a libvirt host."""

    name: str
    uuid: str
    alloc_policy: str = "preferred"


@dataclass(frozen=True)
class NodeInfo:
    """One node with its capacity; None capacity values mean the node did not report (offline)."""

    name: str
    group: str
    role: str  # Ganeti's letters: M(aster) C(andidate) R(egular) D(rained) O(ffline)
    mtotal: int | None
    mfree: int | None
    dtotal: int | None
    dfree: int | None
    ctotal: int | None
    pinst_cnt: int = 0
    sinst_cnt: int = 0
    drained: bool = False
    offline: bool = False
    vm_capable: bool = True
    address: str = ""


@dataclass(frozen=True)
class DiskInfo:
    """One instance disk as the cluster sees it."""

    size_mb: int
    template: str = ""
    name: str = ""


@dataclass(frozen=True)
class NicInfo:
    """One instance NIC as the cluster sees it."""

    mac: str
    ip: str | None = None
    network: str | None = None
    link: str | None = None
    name: str = ""


@dataclass(frozen=True)
class InstanceInfo:
    """One instance as the cluster sees it (the source of truth reconciliation compares with)."""

    name: str
    primary_node: str
    secondary_nodes: tuple[str, ...]
    power: PowerState
    admin_up: bool
    vcpus: int
    memory_mb: int
    disk_template: str
    disks: tuple[DiskInfo, ...] = ()
    nics: tuple[NicInfo, ...] = ()
    os: str = ""
    mtime: float | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class NicSpec:
    """A NIC to create: MAC and IP come from compute's IPAM, network/link name the L2 segment."""

    mac: str | None = None
    ip: str | None = None
    network: str | None = None
    link: str | None = None
    name: str = ""


@dataclass(frozen=True)
class DiskSpec:
    """A disk to create; `template` empty means the instance's template."""

    size_mb: int
    template: str = ""
    name: str = ""


@dataclass(frozen=True)
class CreateSpec:
    """Everything a driver needs to build an instance; `hypervisor` empty means the cluster's default."""

    name: str
    vcpus: int
    memory_mb: int
    disk_template: str
    disks: tuple[DiskSpec, ...]
    nics: tuple[NicSpec, ...] = (NicSpec(),)
    os: str = ""
    os_params: dict[str, Any] = field(default_factory=dict)
    hv_params: dict[str, Any] = field(default_factory=dict)
    primary_node: str | None = None
    secondary_node: str | None = None
    start: bool = True
    tags: tuple[str, ...] = ()
    hypervisor: str = ""


@dataclass(frozen=True)
class JobLogEntry:
    """One line of a job's log; `serial` is monotonic within the job."""

    serial: int
    timestamp: float
    kind: str
    message: str


@dataclass(frozen=True)
class JobStatus:
    """A job's state as the cluster reports it; `progress` is 0-100 when known.

    `children` are the ids of jobs this one submitted for its work (Ganeti's node evacuation
    succeeds once it has queued one job per instance): the work is done when they are.
    """

    job_id: str
    state: JobState
    operations: tuple[str, ...] = ()
    log: tuple[JobLogEntry, ...] = ()
    progress: int | None = None
    error: str = ""
    result: Any = None
    received_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    children: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        """True once the job cannot change any more."""
        return self.state.finished

    @property
    def last_serial(self) -> int:
        """Serial of the newest log entry, 0 when the log is empty."""
        return self.log[-1].serial if self.log else 0


@dataclass(frozen=True)
class ConsoleInfo:
    """How to reach an instance's console (VNC on a node)."""

    kind: str
    host: str
    port: int
    password: str | None = field(default=None, repr=False)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DiskData:
    """A disk's bytes as a stream (`read_disk`): its full `size` and the bytes in order.

    `chunks` holds a connection to the cluster until it is exhausted or closed; iterate it to the
    end or call `chunks.close()` (a generator's close).
    """

    size: int
    chunks: Iterator[bytes]
