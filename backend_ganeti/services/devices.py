"""Devices of an instance: add, remove, grow, attach and detach disks, add and remove NICs.

Each is an instance operation of `operations` (state rules, row lock, job recorded and enqueued on
commit); what is here is only what each one checks and passes to the cluster. Disks are named
(Nefos names a volume's disk after the volume) so a detached disk can be found again.
"""

from __future__ import annotations

from typing import Any

from backend_ganeti.drivers.types import DiskSpec, NicSpec
from backend_ganeti.models import Instance, Job
from backend_ganeti.services.dispatch import Operation
from backend_ganeti.services.operations import checked_index, instance_op, positive
from portal.errors import InvalidState, NotFound, ValidationFailed


def add_disk(instance: Instance, disk: DiskSpec, *, actor: Any) -> Job:
    """Attach a new disk."""
    positive("size_mb", disk.size_mb)
    spec = {"size_mb": disk.size_mb, "template": disk.template, "name": disk.name}
    return instance_op(
        instance, Operation.ADD_DISK, "add_disk", lambda row: {"disk": spec, "disk_count": len(row.disks)}, actor=actor
    )


def remove_disk(instance: Instance, index: int, *, actor: Any) -> Job:
    """Detach and delete disk `index`."""

    def params(row: Instance) -> dict[str, Any]:
        return {"index": checked_index("disk", index, row.disks), "disk_count": len(row.disks)}

    return instance_op(instance, Operation.REMOVE_DISK, "remove_disk", params, actor=actor)


def grow_disk(instance: Instance, index: int, amount_mb: int, *, actor: Any) -> Job:
    """Grow disk `index` by `amount_mb`."""
    positive("amount_mb", amount_mb)

    def params(row: Instance) -> dict[str, Any]:
        checked_index("disk", index, row.disks)
        size = int(row.disks[index].get("size_mb", 0)) if index < len(row.disks) else 0
        return {"index": index, "amount_mb": amount_mb, "size_before": size}

    return instance_op(instance, Operation.GROW_DISK, "grow_disk", params, actor=actor)


def _disk_name(disk_name: str) -> str:
    if not isinstance(disk_name, str) or not disk_name or len(disk_name) > 128:
        raise ValidationFailed("A disk name of 1 to 128 characters is required.")
    return disk_name


def _named(row: Instance, disk_name: str) -> bool:
    return any(disk.get("name") == disk_name for disk in row.disks)


def attach_disk(instance: Instance, disk_name: str, *, actor: Any) -> Job:
    """Attach the detached disk `disk_name` (kept on the instance's cluster) as the last disk."""
    _disk_name(disk_name)

    def params(row: Instance) -> dict[str, Any]:
        if _named(row, disk_name):
            raise InvalidState(f"Instance {row.name} has a disk named {disk_name} already.")
        return {"disk_name": disk_name, "disk_count": len(row.disks)}

    return instance_op(instance, Operation.ATTACH_DISK, "attach_disk", params, actor=actor)


def detach_disk(instance: Instance, disk_name: str, *, actor: Any) -> Job:
    """Detach the disk `disk_name`: the cluster keeps it and its data, attached to no instance."""
    _disk_name(disk_name)

    def params(row: Instance) -> dict[str, Any]:
        if not _named(row, disk_name):
            raise NotFound(f"Instance {row.name} has no disk named {disk_name}.")
        return {"disk_name": disk_name, "disk_count": len(row.disks)}

    return instance_op(instance, Operation.DETACH_DISK, "detach_disk", params, actor=actor)


def delete_detached_disk(instance: Instance, disk_name: str, *, actor: Any) -> Job:
    """Delete the detached disk `disk_name` and its data, through `instance` (same cluster)."""
    _disk_name(disk_name)

    def params(row: Instance) -> dict[str, Any]:
        if _named(row, disk_name):
            raise InvalidState(f"Disk {disk_name} is attached to instance {row.name}; detach or remove it instead.")
        return {"disk_name": disk_name}

    return instance_op(instance, Operation.DELETE_DETACHED_DISK, "delete_detached_disk", params, actor=actor)


def add_nic(instance: Instance, nic: NicSpec, *, actor: Any) -> Job:
    """Attach a NIC."""
    spec = {"mac": nic.mac, "ip": nic.ip, "network": nic.network, "link": nic.link, "name": nic.name}
    return instance_op(
        instance, Operation.ADD_NIC, "add_nic", lambda row: {"nic": spec, "nic_count": len(row.nics)}, actor=actor
    )


def remove_nic(instance: Instance, index: int, *, actor: Any) -> Job:
    """Detach NIC `index`."""

    def params(row: Instance) -> dict[str, Any]:
        return {"index": checked_index("nic", index, row.nics), "nic_count": len(row.nics)}

    return instance_op(instance, Operation.REMOVE_NIC, "remove_nic", params, actor=actor)
