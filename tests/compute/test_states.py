"""The server state table: statuses, the checks of each action, and the status filter's inverse."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from compute.services.states import (
    COMPLETION,
    STATUS,
    TRANSITIONS,
    Action,
    TaskState,
    VmState,
    check,
    states_for_status,
    status_of,
)
from portal.errors import Conflict, InvalidState


@dataclass
class Row:
    vm_state: str
    task_state: str | None = None
    host: str = "embedded"
    locked: bool = False
    id: str = "srv"


@pytest.mark.parametrize(
    ("vm_state", "task_state", "status"),
    [
        (VmState.BUILDING, TaskState.SCHEDULING, "BUILD"),
        (VmState.ACTIVE, None, "ACTIVE"),
        (VmState.ACTIVE, TaskState.REBOOTING, "REBOOT"),
        (VmState.ACTIVE, TaskState.REBOOTING_HARD, "HARD_REBOOT"),
        (VmState.ACTIVE, TaskState.POWERING_OFF, "ACTIVE"),
        (VmState.ACTIVE, TaskState.RESIZE_PREP, "RESIZE"),
        (VmState.STOPPED, None, "SHUTOFF"),
        (VmState.STOPPED, TaskState.RESIZE_FINISH, "RESIZE"),
        (VmState.RESIZED, None, "VERIFY_RESIZE"),
        (VmState.RESIZED, TaskState.RESIZE_REVERTING, "REVERT_RESIZE"),
        (VmState.ERROR, TaskState.DELETING, "ERROR"),
        (VmState.DELETED, None, "DELETED"),
        ("bogus", None, "UNKNOWN"),
    ],
)
def test_status_of_maps_vm_and_task_state_when_known(vm_state, task_state, status):
    assert status_of(vm_state, task_state) == status


def test_check_refuses_start_with_nova_message_when_active():
    with pytest.raises(InvalidState) as caught:
        check(Action.START, Row(VmState.ACTIVE))
    assert caught.value.status == 409
    assert caught.value.message == "Cannot 'start' instance srv while it is in vm_state active"


def test_check_refuses_stop_with_task_state_message_when_busy():
    with pytest.raises(InvalidState) as caught:
        check(Action.STOP, Row(VmState.ACTIVE, TaskState.REBOOTING))
    assert caught.value.message == "Cannot 'stop' instance srv while it is in task_state rebooting"


def test_check_refuses_action_needing_host_when_server_never_reached_cluster():
    with pytest.raises(InvalidState, match="is not ready"):
        check(Action.STOP, Row(VmState.ERROR, host=""))


def test_check_refuses_locked_server_for_member_but_not_admin():
    with pytest.raises(Conflict, match="is locked"):
        check(Action.STOP, Row(VmState.ACTIVE, locked=True))
    assert check(Action.STOP, Row(VmState.ACTIVE, locked=True), is_admin=True).task == TaskState.POWERING_OFF


def test_check_allows_delete_in_every_state_when_unlocked():
    for vm_state in VmState:
        for task in (None, *TaskState):
            assert check(Action.DELETE, Row(vm_state, task)).task == TaskState.DELETING


def test_every_task_state_an_action_sets_has_a_completion():
    tasks = {rule.task for rule in TRANSITIONS.values() if rule.task is not None}
    assert tasks <= set(COMPLETION)


def test_states_for_status_inverts_status_table_for_every_status():
    for vm_state, tasks in STATUS.items():
        for task, status in tasks.items():
            found = states_for_status(status.lower())
            if task == "default":
                assert (vm_state, None, False) in found
            else:
                assert (vm_state, task, True) in found
    assert states_for_status("PAUSED") == []
