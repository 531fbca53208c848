"""What the host agent persists: one `DomainRecord` per instance and one `JobRecord` per job.

Both are plain mutable dataclasses with `to_dict`/`from_dict`, so the store can write them as
JSON and the HTTP layer can answer with them. Sizes are MiB, times are Unix seconds.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class DiskRecord:
    """One disk of an instance; `disk_id` names its file and never changes when others go."""

    size_mb: int
    disk_id: int
    name: str = ""


@dataclass
class NicRecord:
    """One NIC: `link` is a host bridge, else `network` a libvirt network (default: `default`)."""

    mac: str
    ip: str | None = None
    network: str | None = None
    link: str | None = None
    name: str = ""


@dataclass
class DomainRecord:
    """An instance as the agent defines it; `admin_up` is the desired power state."""

    name: str
    uuid: str
    node: str
    vcpus: int
    memory_mb: int
    disk_template: str
    disks: list[DiskRecord] = field(default_factory=list)
    nics: list[NicRecord] = field(default_factory=list)
    os: str = ""
    os_params: dict[str, Any] = field(default_factory=dict)
    hv_params: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    admin_up: bool = False
    building: bool = True
    vnc_port: int = 0
    next_disk_id: int = 0
    ctime: float = 0.0
    mtime: float = 0.0

    @property
    def disk_mb(self) -> int:
        """Disk space the instance takes on its node (diskless: none)."""
        return sum(disk.size_mb for disk in self.disks) if self.disk_template == "file" else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DomainRecord:
        """Inverse of `to_dict` (unknown keys are ignored, so old files still load)."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["disks"] = [DiskRecord(**disk) for disk in data.get("disks", [])]
        known["nics"] = [NicRecord(**nic) for nic in data.get("nics", [])]
        return cls(**known)


class JobStatus(enum.StrEnum):
    """Job states, named as Ganeti names them."""

    QUEUED = "queued"
    WAITING = "waiting"
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"
    CANCELED = "canceled"

    @property
    def finished(self) -> bool:
        """True for the terminal states."""
        return self in (JobStatus.SUCCESS, JobStatus.ERROR, JobStatus.CANCELED)


@dataclass
class JobRecord:
    """One job: an opcode with parameters, its target, status, log and outcome."""

    job_id: int
    operation: str
    target: str
    params: dict[str, Any] = field(default_factory=dict)
    locks: list[str] = field(default_factory=list)
    status: JobStatus = JobStatus.QUEUED
    log: list[dict[str, Any]] = field(default_factory=list)
    progress: int | None = None
    error: str = ""
    result: Any = None
    received_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None

    @property
    def last_serial(self) -> int:
        """Serial of the newest log line (0 when empty)."""
        return int(self.log[-1]["serial"]) if self.log else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy (the status as its string)."""
        data = asdict(self)
        data["status"] = str(self.status)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobRecord:
        """Inverse of `to_dict`."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["status"] = JobStatus(known.get("status", JobStatus.QUEUED))
        return cls(**known)
