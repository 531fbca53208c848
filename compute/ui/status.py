"""How a server's state looks on the dashboard: its status, badge colour, and whether it is moving.

Everything comes from the state table (`compute.services.states`): the status shown is
`status_of`, and a server is in a transitional state while it is building (vm_state BUILDING)
or any task runs (a task_state is set: powering on/off, rebooting, resizing, deleting...). Only
then does the servers page poll.
"""

from __future__ import annotations

from typing import Any

from compute.services.states import Action, VmState, check, status_of
from portal.errors import DomainError

BADGES = {"ACTIVE": "success", "SHUTOFF": "secondary", "ERROR": "danger", "VERIFY_RESIZE": "warning"}
# The dashboard's buttons, in the order shown (console and metadata-like actions are elsewhere).
BUTTONS: tuple[Action, ...] = (
    Action.START,
    Action.STOP,
    Action.REBOOT,
    Action.REBOOT_HARD,
    Action.RESIZE,
    Action.CONFIRM_RESIZE,
    Action.REVERT_RESIZE,
    Action.DELETE,
)


def is_transitional(vm_state: str, task_state: str | None) -> bool:
    """Whether the server is on its way to another state (the page should refresh itself)."""
    return task_state is not None or vm_state == VmState.BUILDING


def badge(status: str, transitional: bool) -> str:
    """The Bootstrap colour of a status badge."""
    if transitional:
        return "info"
    return BADGES.get(status, "secondary")


def allowed(action: Action, server: Any) -> bool:
    """Whether the state table lets the server take `action` now (as a project member)."""
    try:
        check(action, server, is_admin=False)
    except DomainError:
        return False
    return True


def available_actions(server: Any) -> list[Action]:
    """The buttons to offer for a server."""
    return [action for action in BUTTONS if allowed(action, server)]


class ServerView:
    """A server row (model or `server_rows` tuple) with what the templates show."""

    def __init__(self, row: Any, addresses: list[tuple[str, str, str]] | None = None) -> None:
        self.row = row
        self.id = row.id
        self.name = row.name
        self.status = status_of(row.vm_state, row.task_state)
        self.transitional = is_transitional(row.vm_state, row.task_state)
        self.badge = badge(self.status, self.transitional)
        self.addresses = addresses or []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)
