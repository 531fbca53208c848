"""The server state table: Nova's vm/task/power states, the status they show, and every transition.

Everything about server states is written here once:

- `TRANSITIONS`: for each API action, the vm_states and task_states it is allowed in, and the
  task_state it sets (Nova's `check_instance_state` rules); `check()` refuses anything else with
  Nova's 409 message ("Cannot 'start' instance <id> while it is in vm_state active").
- `COMPLETION`: what the end of a task's backend work means (the event handler applies it).
- `STATUS`: the API `status` shown for a (vm_state, task_state) pair, and its inverse for the
  `status` list filter.
- `FROM_BACKEND`: what a backend_ganeti instance status means for vm_state and power_state.

The module is pure (no database): services lock the server row and then consult it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from portal.errors import Conflict, InvalidState


class VmState(enum.StrEnum):
    """Nova's vm_state (the stable state)."""

    BUILDING = "building"
    ACTIVE = "active"
    STOPPED = "stopped"
    RESIZED = "resized"
    ERROR = "error"
    DELETED = "deleted"


class TaskState(enum.StrEnum):
    """Nova's task_state (what is in progress; None when nothing is)."""

    SCHEDULING = "scheduling"
    SPAWNING = "spawning"
    POWERING_OFF = "powering-off"
    POWERING_ON = "powering-on"
    REBOOTING = "rebooting"
    REBOOTING_HARD = "rebooting_hard"
    RESIZE_PREP = "resize_prep"
    RESIZE_FINISH = "resize_finish"
    RESIZE_REVERTING = "resize_reverting"
    IMAGE_SNAPSHOT = "image_snapshot"
    DELETING = "deleting"


class PowerState(enum.StrEnum):
    """What the hypervisor says; the API shows Nova's integer codes (`POWER_CODES`)."""

    NOSTATE = "nostate"
    RUNNING = "running"
    SHUTDOWN = "shutdown"
    CRASHED = "crashed"


POWER_CODES: dict[str, int] = {
    PowerState.NOSTATE: 0,
    PowerState.RUNNING: 1,
    PowerState.SHUTDOWN: 4,
    PowerState.CRASHED: 6,
}


class Action(enum.StrEnum):
    """Every API request that depends on the server's state."""

    START = "start"
    STOP = "stop"
    REBOOT = "reboot"
    REBOOT_HARD = "reboot_hard"
    RESIZE = "resize"
    CONFIRM_RESIZE = "confirmResize"
    REVERT_RESIZE = "revertResize"
    CREATE_IMAGE = "createImage"
    CONSOLE = "get_vnc_console"
    METADATA = "update metadata"
    TAGS = "update tags"
    SECURITY_GROUPS = "update security groups"
    LOCK = "lock"
    UNLOCK = "unlock"
    DELETE = "delete"


ANY = None  # in a Rule: no condition on this attribute


@dataclass(frozen=True)
class Rule:
    """Where an action is allowed and what it starts.

    `vm_states`/`task_states` None means any. `task` is the task_state set when the action is
    accepted (None: unchanged). `needs_host`: the server must be on a cluster (else 409 "not
    ready"). `honours_lock`: a locked server refuses it (admins excepted).
    """

    name: str
    vm_states: frozenset[str] | None
    task_states: frozenset[str | None] | None
    task: TaskState | None = None
    needs_host: bool = False
    honours_lock: bool = True


V = VmState
T = TaskState
IDLE: frozenset[str | None] = frozenset({None})
RUNNING_OR_OFF = frozenset({V.ACTIVE, V.STOPPED})

TRANSITIONS: dict[Action, Rule] = {
    Action.START: Rule("start", frozenset({V.STOPPED}), IDLE, T.POWERING_ON, needs_host=True),
    Action.STOP: Rule("stop", frozenset({V.ACTIVE, V.ERROR}), IDLE, T.POWERING_OFF, needs_host=True),
    Action.REBOOT: Rule("reboot", frozenset({V.ACTIVE}), IDLE, T.REBOOTING, needs_host=True),
    Action.REBOOT_HARD: Rule(
        "reboot", frozenset({V.ACTIVE, V.STOPPED, V.ERROR}), IDLE, T.REBOOTING_HARD, needs_host=True
    ),
    Action.RESIZE: Rule("resize", RUNNING_OR_OFF, IDLE, T.RESIZE_PREP, needs_host=True),
    Action.CONFIRM_RESIZE: Rule("confirmResize", frozenset({V.RESIZED}), IDLE),
    Action.REVERT_RESIZE: Rule("revertResize", frozenset({V.RESIZED}), IDLE, T.RESIZE_REVERTING, needs_host=True),
    Action.CREATE_IMAGE: Rule("createImage", RUNNING_OR_OFF, IDLE, T.IMAGE_SNAPSHOT, needs_host=True),
    Action.CONSOLE: Rule("get_vnc_console", frozenset({V.ACTIVE}), ANY, needs_host=True, honours_lock=False),
    Action.METADATA: Rule("update metadata", RUNNING_OR_OFF, ANY),
    Action.TAGS: Rule("update", RUNNING_OR_OFF, ANY, honours_lock=False),
    # Nova changes the ports' groups in Neutron whatever the server does, lock or not.
    Action.SECURITY_GROUPS: Rule("update security groups", ANY, ANY, honours_lock=False),
    Action.LOCK: Rule("lock", ANY, ANY, honours_lock=False),
    Action.UNLOCK: Rule("unlock", ANY, ANY, honours_lock=False),
    Action.DELETE: Rule("delete", ANY, ANY, T.DELETING),
}


class Completion(enum.StrEnum):
    """What the end of a task's backend work means for the server (see services.events)."""

    FOLLOW = "follow"  # vm_state and power_state become what the backend reports
    RESIZE_STEP = "resize_step"  # check the new size; grow the disk or reach VERIFY_RESIZE
    RESIZE_DONE = "resize_done"  # the disk grew: VERIFY_RESIZE (else ERROR)
    REVERTED = "reverted"  # back on the old flavor
    DELETE_FAILED = "delete_failed"  # the instance is still there: ERROR with the reason


COMPLETION: dict[TaskState | None, Completion] = {
    None: Completion.FOLLOW,
    T.SCHEDULING: Completion.FOLLOW,
    T.SPAWNING: Completion.FOLLOW,
    T.POWERING_OFF: Completion.FOLLOW,
    T.POWERING_ON: Completion.FOLLOW,
    T.REBOOTING: Completion.FOLLOW,
    T.REBOOTING_HARD: Completion.FOLLOW,
    T.RESIZE_PREP: Completion.RESIZE_STEP,
    T.RESIZE_FINISH: Completion.RESIZE_DONE,
    T.RESIZE_REVERTING: Completion.REVERTED,
    # A snapshot runs no backend job; the snapshot worker clears the task itself (an event meanwhile
    # follows the backend, as with no task).
    T.IMAGE_SNAPSHOT: Completion.FOLLOW,
    T.DELETING: Completion.DELETE_FAILED,
}

# The API status for a vm_state, by task_state ("default" when the task has no status of its own).
STATUS: dict[VmState, dict[str | None, str]] = {
    V.BUILDING: {"default": "BUILD"},
    V.ACTIVE: {
        "default": "ACTIVE",
        T.REBOOTING: "REBOOT",
        T.REBOOTING_HARD: "HARD_REBOOT",
        T.RESIZE_PREP: "RESIZE",
        T.RESIZE_FINISH: "RESIZE",
    },
    V.STOPPED: {"default": "SHUTOFF", T.RESIZE_PREP: "RESIZE", T.RESIZE_FINISH: "RESIZE"},
    V.RESIZED: {"default": "VERIFY_RESIZE", T.RESIZE_REVERTING: "REVERT_RESIZE"},
    V.ERROR: {"default": "ERROR"},
    V.DELETED: {"default": "DELETED"},
}
# Statuses whose servers show a `progress` (Nova's list).
PROGRESS_STATUSES = frozenset({"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"})
# Every status Nova knows, including ones Nefos servers never reach (a filter on them is empty).
KNOWN_STATUSES = frozenset(
    {s for tasks in STATUS.values() for s in tasks.values()}
    | {"PAUSED", "SUSPENDED", "RESCUE", "SHELVED", "SHELVED_OFFLOADED", "SOFT_DELETED", "MIGRATING", "REBUILD"}
    | {"PASSWORD", "UNKNOWN"}
)

# backend_ganeti's instance status -> (vm_state, power_state).
FROM_BACKEND: dict[str, tuple[VmState, PowerState]] = {
    "building": (V.BUILDING, PowerState.NOSTATE),
    "running": (V.ACTIVE, PowerState.RUNNING),
    "stopped": (V.STOPPED, PowerState.SHUTDOWN),
    "error": (V.ERROR, PowerState.NOSTATE),
    "deleted": (V.DELETED, PowerState.NOSTATE),
}


def status_of(vm_state: str, task_state: str | None) -> str:
    """The API status of a server."""
    tasks = STATUS.get(vm_state)  # type: ignore[call-overload]  # StrEnum keys hash as their values
    if tasks is None:
        return "UNKNOWN"
    return tasks.get(task_state, tasks["default"])


def states_for_status(status: str) -> list[tuple[VmState, str | None, bool]]:
    """The (vm_state, task_state, exact) triples showing `status`.

    `exact` False means "this vm_state with a task_state that has no status of its own" (the
    default entry), so a filter can express it as "task_state not in the special ones".
    """
    wanted = status.upper()
    found: list[tuple[VmState, str | None, bool]] = []
    for vm_state, tasks in STATUS.items():
        for task, shown in tasks.items():
            if shown == wanted:
                found.append((vm_state, None if task == "default" else task, task != "default"))
    return found


class ServerLike(Protocol):
    """What `check` reads of a server."""

    id: object
    vm_state: str
    task_state: str | None
    host: str
    locked: bool


def check(action: Action, server: ServerLike, *, is_admin: bool = False) -> Rule:
    """The rule of `action` if the server's state allows it; InvalidState (409) with Nova's message otherwise."""
    rule = TRANSITIONS[action]
    if rule.honours_lock and server.locked and not is_admin:
        raise Conflict(f"Instance {server.id} is locked")
    if rule.vm_states is not None and server.vm_state not in rule.vm_states:
        raise InvalidState(f"Cannot '{rule.name}' instance {server.id} while it is in vm_state {server.vm_state}")
    if rule.task_states is not None and server.task_state not in rule.task_states:
        raise InvalidState(f"Cannot '{rule.name}' instance {server.id} while it is in task_state {server.task_state}")
    if rule.needs_host and not server.host:
        raise InvalidState(f"Instance {server.id} is not ready")
    return rule
