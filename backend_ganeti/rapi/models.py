"""Typed shapes of what Ganeti's RAPI v2 returns and accepts (cluster, nodes, instances, jobs).

Each dataclass keeps the fields Nefos uses as attributes and the full decoded JSON in ``raw``, so
callers never index dicts for common fields and never lose a field Ganeti adds later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Job statuses (Ganeti's constants.JOB_STATUS_*).
JOB_FINAL_STATUSES = frozenset({"success", "error", "canceled"})


def _int_or_none(value: Any) -> int | None:
    """Ganeti reports unknown capacity of offline nodes as null."""
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class ClusterInfo:
    """``GET /2/info``: the cluster's identity and enabled features."""

    name: str
    master: str
    software_version: str
    default_hypervisor: str
    enabled_hypervisors: list[str]
    enabled_disk_templates: list[str]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ClusterInfo:
        """Build from the decoded RAPI answer."""
        return cls(
            name=data.get("name", ""),
            master=data.get("master", ""),
            software_version=data.get("software_version", ""),
            default_hypervisor=data.get("default_hypervisor", ""),
            enabled_hypervisors=list(data.get("enabled_hypervisors") or []),
            enabled_disk_templates=list(data.get("enabled_disk_templates") or []),
            raw=data,
        )


@dataclass(frozen=True)
class Node:
    """One node of ``GET /2/nodes?bulk=1`` (memory in MiB, disk in MiB; None when unknown)."""

    name: str
    role: str
    offline: bool
    drained: bool
    master_candidate: bool
    vm_capable: bool
    mtotal: int | None
    mfree: int | None
    dtotal: int | None
    dfree: int | None
    ctotal: int | None
    pinst_cnt: int
    sinst_cnt: int
    group_uuid: str
    primary_ip: str
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Node:
        """Build from one bulk entry."""
        return cls(
            name=data["name"],
            role=data.get("role", ""),
            offline=bool(data.get("offline")),
            drained=bool(data.get("drained")),
            master_candidate=bool(data.get("master_candidate")),
            vm_capable=bool(data.get("vm_capable", True)),
            mtotal=_int_or_none(data.get("mtotal")),
            mfree=_int_or_none(data.get("mfree")),
            dtotal=_int_or_none(data.get("dtotal")),
            dfree=_int_or_none(data.get("dfree")),
            ctotal=_int_or_none(data.get("ctotal")),
            pinst_cnt=int(data.get("pinst_cnt") or 0),
            sinst_cnt=int(data.get("sinst_cnt") or 0),
            group_uuid=data.get("group.uuid", ""),
            primary_ip=data.get("pip", ""),
            raw=data,
        )


@dataclass(frozen=True)
class Group:
    """One node group of ``GET /2/groups?bulk=1``."""

    name: str
    uuid: str
    alloc_policy: str
    node_list: list[str]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Group:
        """Build from one bulk entry."""
        return cls(
            name=data["name"],
            uuid=data.get("uuid", ""),
            alloc_policy=data.get("alloc_policy", ""),
            node_list=list(data.get("node_list") or []),
            raw=data,
        )


@dataclass(frozen=True)
class Instance:
    """One instance as the cluster sees it (``GET /2/instances/X`` or a bulk entry)."""

    name: str
    pnode: str
    snodes: list[str]
    admin_state: str
    oper_state: bool | None
    status: str
    disk_template: str
    disk_sizes: list[int]
    nic_macs: list[str]
    nic_ips: list[str | None]
    beparams: dict[str, Any]
    mtime: float | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Instance:
        """Build from the decoded RAPI answer."""
        return cls(
            name=data["name"],
            pnode=data.get("pnode", ""),
            snodes=list(data.get("snodes") or []),
            admin_state=data.get("admin_state", ""),
            oper_state=data.get("oper_state"),
            status=data.get("status", ""),
            disk_template=data.get("disk_template", ""),
            disk_sizes=list(data.get("disk.sizes") or []),
            nic_macs=list(data.get("nic.macs") or []),
            nic_ips=list(data.get("nic.ips") or []),
            beparams=dict(data.get("beparams") or {}),
            mtime=data.get("mtime"),
            raw=data,
        )


@dataclass(frozen=True)
class Network:
    """One Ganeti network of ``GET /2/networks?bulk=1``."""

    name: str
    network: str
    gateway: str | None
    free_count: int | None
    reserved_count: int | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Network:
        """Build from one bulk entry."""
        return cls(
            name=data["name"],
            network=data.get("network", ""),
            gateway=data.get("gateway"),
            free_count=_int_or_none(data.get("free_count")),
            reserved_count=_int_or_none(data.get("reserved_count")),
            raw=data,
        )


@dataclass(frozen=True)
class Job:
    """``GET /2/jobs/N``: a job's status, per-opcode status/result and log."""

    id: int
    status: str
    summary: list[str]
    opstatus: list[str]
    opresult: list[Any]
    oplog: list[list[Any]]
    received_ts: list[int] | None
    start_ts: list[int] | None
    end_ts: list[int] | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Job:
        """Build from the decoded RAPI answer."""
        return cls(
            id=int(data["id"]),
            status=data.get("status", ""),
            summary=list(data.get("summary") or []),
            opstatus=list(data.get("opstatus") or []),
            opresult=list(data.get("opresult") or []),
            oplog=list(data.get("oplog") or []),
            received_ts=data.get("received_ts"),
            start_ts=data.get("start_ts"),
            end_ts=data.get("end_ts"),
            raw=data,
        )

    @property
    def finished(self) -> bool:
        """True once the job reached success, error or canceled."""
        return self.status in JOB_FINAL_STATUSES

    def error_message(self) -> str:
        """The cluster's reason for a failed opcode (``["OpExecError", ["text"]]``), or ''."""
        for result in self.opresult:
            if isinstance(result, list) and len(result) == 2 and isinstance(result[0], str):
                detail = result[1]
                text = detail[0] if isinstance(detail, list) and detail else detail
                return f"{result[0]}: {text}"
        return ""


@dataclass(frozen=True)
class JobChange:
    """One answer of the long-poll ``GET /2/jobs/N/wait``: the fields asked for and new log entries."""

    job_info: list[Any]
    log_entries: list[list[Any]]

    @property
    def last_log_serial(self) -> int | None:
        """Serial of the newest log entry (pass back as ``prev_log_serial``), or None."""
        return max((int(entry[0]) for entry in self.log_entries), default=None)


@dataclass(frozen=True)
class InstanceSpec:
    """What ``POST /2/instances`` (request format version 1) needs to create an instance.

    Disk sizes are MiB; NICs are dicts of Ganeti NIC parameters (``link``, ``mode``, ``ip``,
    ``mac``, ``network``); ``pnode``/``snode`` name nodes, else ``iallocator`` picks them.
    """

    name: str
    disk_template: str
    os_type: str
    disks: list[dict[str, Any]] = field(default_factory=list)
    nics: list[dict[str, Any]] = field(default_factory=lambda: [{}])
    pnode: str | None = None
    snode: str | None = None
    iallocator: str | None = None
    hypervisor: str | None = None
    beparams: dict[str, Any] = field(default_factory=dict)
    hvparams: dict[str, Any] = field(default_factory=dict)
    osparams: dict[str, Any] = field(default_factory=dict)
    start: bool = True
    ip_check: bool = False
    name_check: bool = False
    no_install: bool | None = None
    wait_for_sync: bool | None = None
    tags: list[str] = field(default_factory=list)

    def to_body(self) -> dict[str, Any]:
        """The JSON body, with ``__version__: 1`` and ``mode: create``; unset options omitted."""
        body: dict[str, Any] = {
            "__version__": 1,
            "mode": "create",
            "name": self.name,
            "disk_template": self.disk_template,
            "os_type": self.os_type,
            "disks": [dict(d) for d in self.disks],
            "nics": [dict(n) for n in self.nics],
            "start": self.start,
            "ip_check": self.ip_check,
            "name_check": self.name_check,
        }
        optional = {
            "pnode": self.pnode,
            "snode": self.snode,
            "iallocator": self.iallocator,
            "hypervisor": self.hypervisor,
            "no_install": self.no_install,
            "wait_for_sync": self.wait_for_sync,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        for key in ("beparams", "hvparams", "osparams", "tags"):
            if getattr(self, key):
                body[key] = getattr(self, key)
        return body
