"""The operations a Job row can carry: how each is submitted to a driver, and how to tell it is done.

Two explicit tables keyed by `Operation` (no method looked up by name): `SUBMIT` calls the driver
method for a job, `ALREADY_DONE` says whether an earlier attempt, which may have reached the
cluster before a worker died, already had its effect (so it is not submitted twice). Also the
JSON form of a `CreateSpec` as kept in a create job's params.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from backend_ganeti.drivers.base import ClusterDriver
from backend_ganeti.drivers.types import CreateSpec, DiskSpec, InstanceInfo, NicSpec

if TYPE_CHECKING:
    from backend_ganeti.models import Job


class Operation(enum.StrEnum):
    """Values of `Job.operation`."""

    CREATE = "create"
    START = "start"
    STOP = "stop"
    REBOOT = "reboot"
    DESTROY = "destroy"
    RESIZE = "resize"
    ADD_DISK = "add_disk"
    REMOVE_DISK = "remove_disk"
    GROW_DISK = "grow_disk"
    ATTACH_DISK = "attach_disk"
    DETACH_DISK = "detach_disk"
    DELETE_DETACHED_DISK = "delete_detached_disk"
    ADD_NIC = "add_nic"
    REMOVE_NIC = "remove_nic"
    MIGRATE = "migrate"
    FAILOVER = "failover"
    CHANGE_DISK_TEMPLATE = "change_disk_template"
    EVACUATE_NODE = "evacuate_node"
    SET_NODE_DRAINED = "set_node_drained"


NODE_OPERATIONS = frozenset({Operation.EVACUATE_NODE, Operation.SET_NODE_DRAINED})


def spec_to_params(spec: CreateSpec) -> dict[str, Any]:
    """A `CreateSpec` as JSON (tuples become lists)."""
    return asdict(spec)


def spec_from_params(data: dict[str, Any]) -> CreateSpec:
    """The `CreateSpec` a create job's params hold."""
    values = dict(data)
    values["disks"] = tuple(DiskSpec(**d) for d in data.get("disks", ()))
    values["nics"] = tuple(NicSpec(**n) for n in data.get("nics", ()))
    values["tags"] = tuple(data.get("tags", ()))
    return CreateSpec(**values)


Submitter = Callable[[ClusterDriver, "Job"], str]

SUBMIT: dict[str, Submitter] = {
    Operation.CREATE: lambda d, j: d.create(spec_from_params(j.params["spec"])),
    Operation.START: lambda d, j: d.start(j.target),
    Operation.STOP: lambda d, j: d.stop(j.target, timeout=j.params.get("timeout")),
    Operation.REBOOT: lambda d, j: d.reboot(j.target, hard=bool(j.params.get("hard"))),
    Operation.DESTROY: lambda d, j: d.destroy(j.target),
    Operation.RESIZE: lambda d, j: d.resize(j.target, vcpus=j.params["vcpus"], memory_mb=j.params["memory_mb"]),
    Operation.ADD_DISK: lambda d, j: d.add_disk(j.target, DiskSpec(**j.params["disk"])),
    Operation.REMOVE_DISK: lambda d, j: d.remove_disk(j.target, j.params["index"]),
    Operation.GROW_DISK: lambda d, j: d.grow_disk(j.target, j.params["index"], j.params["amount_mb"]),
    Operation.ATTACH_DISK: lambda d, j: d.attach_disk(j.target, j.params["disk_name"]),
    Operation.DETACH_DISK: lambda d, j: d.detach_disk(j.target, j.params["disk_name"]),
    Operation.DELETE_DETACHED_DISK: lambda d, j: d.delete_detached_disk(j.target, j.params["disk_name"]),
    Operation.ADD_NIC: lambda d, j: d.add_nic(j.target, NicSpec(**j.params["nic"])),
    Operation.REMOVE_NIC: lambda d, j: d.remove_nic(j.target, j.params["index"]),
    Operation.MIGRATE: lambda d, j: d.migrate(
        j.target, target_node=j.params.get("target_node"), live=bool(j.params.get("live", True))
    ),
    Operation.FAILOVER: lambda d, j: d.failover(j.target, target_node=j.params.get("target_node")),
    Operation.CHANGE_DISK_TEMPLATE: lambda d, j: d.change_disk_template(
        j.target, j.params["template"], secondary_node=j.params.get("secondary_node")
    ),
    Operation.EVACUATE_NODE: lambda d, j: d.evacuate_node(j.target, mode=j.params.get("mode", "all")),
    Operation.SET_NODE_DRAINED: lambda d, j: d.set_node_drained(j.target, bool(j.params["drained"])),
}


def _disk_grown(info: InstanceInfo, params: dict[str, Any]) -> bool:
    index = params["index"]
    return index < len(info.disks) and info.disks[index].size_mb >= params["size_before"] + params["amount_mb"]


def _has_disk(info: InstanceInfo, disk_name: str) -> bool:
    return any(disk.name == disk_name for disk in info.disks)


# Given what the cluster says now (None: no such instance), did an earlier attempt already take
# effect? Operations missing here are safe to repeat (start, stop, reboot, node operations).
ALREADY_DONE: dict[str, Callable[[InstanceInfo | None, dict[str, Any]], bool]] = {
    Operation.CREATE: lambda info, p: info is not None,
    Operation.DESTROY: lambda info, p: info is None,
    Operation.RESIZE: lambda info, p: info is not None and (info.vcpus, info.memory_mb) == (p["vcpus"], p["memory_mb"]),
    Operation.ADD_DISK: lambda info, p: info is not None and len(info.disks) > p["disk_count"],
    Operation.REMOVE_DISK: lambda info, p: info is not None and len(info.disks) < p["disk_count"],
    Operation.GROW_DISK: lambda info, p: info is not None and _disk_grown(info, p),
    Operation.ATTACH_DISK: lambda info, p: info is not None and _has_disk(info, p["disk_name"]),
    Operation.DETACH_DISK: lambda info, p: info is not None and not _has_disk(info, p["disk_name"]),
    Operation.ADD_NIC: lambda info, p: info is not None and len(info.nics) > p["nic_count"],
    Operation.REMOVE_NIC: lambda info, p: info is not None and len(info.nics) < p["nic_count"],
    Operation.MIGRATE: lambda info, p: info is not None and info.primary_node != p["source_node"],
    Operation.FAILOVER: lambda info, p: info is not None and info.primary_node != p["source_node"],
    Operation.CHANGE_DISK_TEMPLATE: lambda info, p: info is not None and info.disk_template == p["template"],
}
