"""The volume state table: Cinder's statuses and every transition, written once.

- `TRANSITIONS`: for each request, the statuses it is allowed in and the status it sets at once;
  `check()` refuses anything else with Cinder's 400 ("Invalid volume: ... must be available").
- `COMPLETION`: what the end of the backend job of an in-progress status means (success, failure).

Creation needs no cluster work (the disk is made at the first attach), so a new volume is
`available` at once; `creating` is never shown. The module is pure (no database).
"""

from __future__ import annotations

import enum

from portal.errors import ValidationFailed


class Status(enum.StrEnum):
    """Cinder's volume statuses (those Nefos uses)."""

    CREATING = "creating"
    AVAILABLE = "available"
    ATTACHING = "attaching"
    IN_USE = "in-use"
    DETACHING = "detaching"
    DELETING = "deleting"
    ERROR = "error"
    ERROR_DELETING = "error_deleting"


class Action(enum.StrEnum):
    """Every request that depends on a volume's status."""

    ATTACH = "attach"
    DETACH = "detach"
    EXTEND = "extend"
    DELETE = "delete"


S = Status
# action -> (statuses it is allowed in, status it sets; None: unchanged)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.ATTACH: (frozenset({S.AVAILABLE}), S.ATTACHING),
    Action.DETACH: (frozenset({S.IN_USE}), S.DETACHING),
    Action.EXTEND: (frozenset({S.AVAILABLE}), None),
    Action.DELETE: (frozenset({S.AVAILABLE, S.ERROR, S.ERROR_DELETING}), S.DELETING),
}

# in-progress status -> (status after the backend job succeeded, status after it failed);
# DELETING's success is the row's removal (None).
COMPLETION: dict[Status, tuple[Status | None, Status]] = {
    S.ATTACHING: (S.IN_USE, S.AVAILABLE),
    S.DETACHING: (S.AVAILABLE, S.IN_USE),
    S.DELETING: (None, S.ERROR_DELETING),
}

# How Cinder words the status a request needs.
_NEEDS = {
    Action.ATTACH: "status must be available",
    Action.DETACH: "status must be in-use",
    Action.EXTEND: "Volume status must be 'available' to extend",
    Action.DELETE: "Volume status must be available or error or error_restoring or error_extending or "
    "error_managing, and must not be migrating, attached, belong to a group, have snapshots, "
    "awaiting a transfer, or be disassociated from snapshots after volume transfer",
}


def check(action: Action, status: str, volume_id: str) -> Status | None:
    """The status `action` sets, or Cinder's 400 when the volume's `status` does not allow it."""
    allowed, target = TRANSITIONS[action]
    if status not in allowed:
        raise ValidationFailed(f"Invalid volume: {_NEEDS[action]} (volume {volume_id} is {status}).")
    return target
