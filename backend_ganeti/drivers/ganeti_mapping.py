"""Translation between Ganeti's RAPI shapes and the driver value types (no I/O).

Jobs (``GET /2/jobs/N``: status, per-opcode ``oplog`` with ``[serial, [sec, usec], type,
message]`` entries, ``opresult``) become `JobStatus` with a flat ordered log and a progress
figure parsed from Ganeti's own log lines and the ids of the jobs it submitted (node
evacuation); instances become `InstanceInfo`; disk and NIC specs become Ganeti's parameter dicts.
`GanetiDriver` (drivers/ganeti.py) does the talking.
"""

from __future__ import annotations

import json
import re
from typing import Any

from backend_ganeti.drivers.types import (
    DiskInfo,
    DiskSpec,
    InstanceInfo,
    JobLogEntry,
    JobState,
    JobStatus,
    NicInfo,
    NicSpec,
    PowerState,
)
from backend_ganeti.rapi.models import Instance, Job

# Ganeti's progress lines: WaitForSync's " - INFO: - device disk/0: 45.20% done, ..." and the
# live migration's "* memory transfer progress: 45.00 %".
_SYNC_RE = re.compile(r"- device (?P<dev>\S+):\s*(?P<pct>\d+(?:\.\d+)?)% done")
_IN_SYNC_RE = re.compile(r"disks are in sync")
_MEMORY_RE = re.compile(r"memory transfer progress:\s*(?P<pct>\d+(?:\.\d+)?)\s*%")


def _ts(value: Any) -> float | None:
    """Ganeti timestamps are ``[seconds, microseconds]``; None stays None."""
    if isinstance(value, list | tuple) and len(value) == 2:
        return float(value[0]) + float(value[1]) / 1e6
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _text(message: Any) -> str:
    """A log message as text (some log types carry structured payloads)."""
    return message if isinstance(message, str) else json.dumps(message, sort_keys=True)


def _at(values: list[Any], index: int) -> Any:
    """``values[index]``, or None when Ganeti sent a shorter list."""
    return values[index] if index < len(values) else None


def parse_progress(log: tuple[JobLogEntry, ...]) -> int | None:
    """Percentage (0-100) from disk-sync or migration lines of a job log, else None.

    Several disks sync in parallel: the slowest device's latest figure is the job's.
    """
    devices: dict[str, float] = {}
    progress: float | None = None
    for entry in log:
        if match := _SYNC_RE.search(entry.message):
            devices[match["dev"]] = float(match["pct"])
            progress = min(devices.values())
        elif devices and _IN_SYNC_RE.search(entry.message):
            devices.clear()
            progress = 100.0
        elif match := _MEMORY_RE.search(entry.message):
            progress = float(match["pct"])
    return None if progress is None else max(0, min(100, int(progress)))


def job_status(job: Job) -> JobStatus:
    """Map a RAPI job (``GET /2/jobs/N``) to a `JobStatus` with its flattened, ordered log."""
    entries = [entry for op_log in job.oplog for entry in (op_log or [])]
    log = tuple(
        sorted(
            (
                JobLogEntry(serial=int(e[0]), timestamp=_ts(e[1]) or 0.0, kind=str(e[2]), message=_text(e[3]))
                for e in entries
            ),
            key=lambda entry: entry.serial,
        )
    )
    state = JobState(job.status)
    error = ""
    if state in (JobState.ERROR, JobState.CANCELED):
        error = job.error_message() or state.value
    return JobStatus(
        job_id=str(job.id),
        state=state,
        operations=tuple(job.summary),
        log=log,
        progress=parse_progress(log),
        error=error,
        result=job.opresult,
        received_at=_ts(job.received_ts),
        started_at=_ts(job.start_ts),
        ended_at=_ts(job.end_ts),
        children=submitted_jobs(job.opresult) if state == JobState.SUCCESS else (),
    )


def power_state(inst: Instance) -> PowerState:
    """ERROR for Ganeti's ``ERROR_*`` statuses (down/up/nodedown/nodeoffline/wrongnode), else by oper_state."""
    if inst.status.startswith("ERROR_"):
        return PowerState.ERROR
    return PowerState.RUNNING if inst.oper_state else PowerState.STOPPED


def instance_info(inst: Instance) -> InstanceInfo:
    """Map a RAPI instance (bulk entry or ``GET /2/instances/X``) to an `InstanceInfo`."""
    raw = inst.raw
    disk_names = list(raw.get("disk.names") or [])
    disks = tuple(
        DiskInfo(size_mb=int(size), template=inst.disk_template, name=_at(disk_names, i) or "")
        for i, size in enumerate(inst.disk_sizes)
    )
    networks = list(raw.get("nic.networks.names") or raw.get("nic.networks") or [])
    links = list(raw.get("nic.links") or [])
    nic_names = list(raw.get("nic.names") or [])
    nics = tuple(
        NicInfo(
            mac=mac,
            ip=_at(inst.nic_ips, i),
            network=_at(networks, i),
            link=_at(links, i),
            name=_at(nic_names, i) or "",
        )
        for i, mac in enumerate(inst.nic_macs)
    )
    be = inst.beparams
    return InstanceInfo(
        name=inst.name,
        primary_node=inst.pnode,
        secondary_nodes=tuple(inst.snodes),
        power=power_state(inst),
        admin_up=inst.admin_state == "up",
        vcpus=int(be.get("vcpus") or 0),
        memory_mb=int(be.get("maxmem") or be.get("memory") or 0),
        disk_template=inst.disk_template,
        disks=disks,
        nics=nics,
        os=str(raw.get("os") or ""),
        mtime=float(inst.mtime) if inst.mtime is not None else None,
        tags=tuple(raw.get("tags") or ()),
    )


def disk_params(disk: DiskSpec) -> dict[str, Any]:
    """Ganeti's disk parameters (``size`` MiB, optional ``name``/``dev_type``)."""
    params: dict[str, Any] = {"size": disk.size_mb}
    if disk.name:
        params["name"] = disk.name
    if disk.template:
        params["dev_type"] = disk.template
    return params


def nic_params(nic: NicSpec) -> dict[str, Any]:
    """Ganeti's NIC parameters; unset fields are left to the cluster's defaults."""
    fields = {"mac": nic.mac, "ip": nic.ip, "network": nic.network, "link": nic.link, "name": nic.name}
    return {key: value for key, value in fields.items() if value}


def child_job_ids(status: JobStatus) -> tuple[str, ...]:
    """Ids of the jobs a finished job submitted (node evacuation: ``[{"jobs": [[true, 31]]}]``).

    Ganeti's evacuate job only plans the moves and succeeds once it has queued one job per
    instance; whoever follows it must follow these too. Jobs Ganeti failed to submit are skipped.
    """
    return submitted_jobs(status.result)


def submitted_jobs(opresult: Any) -> tuple[str, ...]:
    """The job ids in a job's ``opresult`` (one entry per opcode; ``{"jobs": [[ok, id or error]]}``)."""
    ids: list[str] = []
    for result in opresult if isinstance(opresult, list) else ():
        if isinstance(result, dict):
            for entry in result.get("jobs") or ():
                if isinstance(entry, list | tuple) and len(entry) == 2 and entry[0]:
                    ids.append(str(entry[1]))
    return tuple(ids)
