"""The state table of backend_ganeti's instance operations: which statuses each one accepts.

`services.operations` checks every request against `ALLOWED` (InvalidState, 409, otherwise);
statuses move only through events (`services.events.apply_event`), never here.
"""

from __future__ import annotations

from backend_ganeti.models import Instance
from backend_ganeti.services.dispatch import Operation

S = Instance.Status

# Which instance statuses each operation accepts.
ALLOWED: dict[Operation, frozenset[str]] = {
    Operation.START: frozenset({S.STOPPED, S.ERROR}),
    Operation.STOP: frozenset({S.RUNNING, S.ERROR}),
    Operation.REBOOT: frozenset({S.RUNNING}),
    Operation.DESTROY: frozenset({S.BUILDING, S.RUNNING, S.STOPPED, S.ERROR}),
    Operation.RESIZE: frozenset({S.RUNNING, S.STOPPED}),
    Operation.ADD_DISK: frozenset({S.RUNNING, S.STOPPED}),
    Operation.REMOVE_DISK: frozenset({S.RUNNING, S.STOPPED}),
    Operation.GROW_DISK: frozenset({S.RUNNING, S.STOPPED}),
    Operation.ATTACH_DISK: frozenset({S.RUNNING, S.STOPPED}),
    Operation.DETACH_DISK: frozenset({S.RUNNING, S.STOPPED}),
    Operation.DELETE_DETACHED_DISK: frozenset({S.RUNNING, S.STOPPED}),
    Operation.ADD_NIC: frozenset({S.RUNNING, S.STOPPED}),
    Operation.REMOVE_NIC: frozenset({S.RUNNING, S.STOPPED}),
    Operation.MIGRATE: frozenset({S.RUNNING}),
    Operation.FAILOVER: frozenset({S.RUNNING, S.STOPPED}),
    Operation.CHANGE_DISK_TEMPLATE: frozenset({S.STOPPED}),
}
# How an error message names each operation ("Cannot <phrase> instance X while it is Y.").
PHRASES: dict[Operation, str] = {
    Operation.ADD_DISK: "add a disk to",
    Operation.REMOVE_DISK: "remove a disk from",
    Operation.GROW_DISK: "grow a disk of",
    Operation.ATTACH_DISK: "attach a disk to",
    Operation.DETACH_DISK: "detach a disk from",
    Operation.DELETE_DETACHED_DISK: "delete a detached disk through",
    Operation.ADD_NIC: "add a NIC to",
    Operation.REMOVE_NIC: "remove a NIC from",
    Operation.FAILOVER: "fail over",
    Operation.CHANGE_DISK_TEMPLATE: "change the disk template of",
}
