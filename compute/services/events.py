"""Following the backend: the `instance_changed` receiver moves servers to what their instances did.

backend_ganeti sends `instance_changed` after each applied event commits. The receiver locks the
server that owns the instance (`owner_ref` is the server id; other instances are ignored), reads
the instance row again under that lock, and applies it:

- progress and placement (cluster, primary node) are copied at every event;
- while the instance has unfinished jobs, the server's task goes on (only BUILD progress moves);
- once no job is left, the task completes as `states.COMPLETION` says (vm_state from the
  backend, VERIFY_RESIZE after a resize, ERROR with a fault after a failure);
- a `deleted` instance finishes the server's deletion (ports and quota are given back).

Reading the current row rather than the event makes the receiver idempotent: running it twice,
or for an older event, leaves the same server.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend_ganeti.models import Instance, Job
from backend_ganeti.selectors import UNFINISHED_JOB_STATUSES
from backend_ganeti.services import devices
from compute.models import Server
from compute.services import charges
from compute.services.actions import grow_amount, resized, reverted
from compute.services.servers import finish_delete, request_destroy, set_fault
from compute.services.states import COMPLETION, FROM_BACKEND, Completion, TaskState, VmState
from portal.errors import DomainError

log = logging.getLogger(__name__)
S = Instance.Status


def on_instance_changed(sender: Any, instance: Instance, **kwargs: Any) -> None:
    """Signal receiver: follow `instance` if a server owns it."""
    try:
        server_id = uuid.UUID(instance.owner_ref)
    except (TypeError, ValueError):
        return
    apply_instance(server_id, instance.pk)


@transaction.atomic
def apply_instance(server_id: uuid.UUID, instance_pk: int) -> Server | None:
    """Bring server `server_id` in line with backend instance `instance_pk`; the server (None if none)."""
    server = Server.objects.select_for_update().filter(pk=server_id, instance_id=instance_pk).first()
    if server is None or server.deleted_at is not None:
        return None
    instance = Instance.objects.select_related("cluster").get(pk=instance_pk)
    server.host, server.node, server.instance_name = instance.cluster.name, instance.primary_node, instance.name
    server.updated_at = timezone.now()
    if instance.status == S.DELETED:
        finish_delete(server, actor=None)
        return server
    if server.delete_requested:
        request_destroy(server, actor=None)
        if server.task_state is None:  # the delete failed (a volume could not be detached): ERROR stays
            server.save()
            return server
    busy = Job.objects.filter(instance_id=instance_pk, status__in=UNFINISHED_JOB_STATUSES).exists()
    if busy:
        if instance.progress is not None and server.vm_state == VmState.BUILDING:
            server.progress = instance.progress
        server.save()
        return server
    COMPLETE[COMPLETION[TaskState(server.task_state) if server.task_state else None]](server, instance)
    server.save()
    return server


def _follow(server: Server, instance: Instance) -> None:
    """No task left: the server is what the backend says (VERIFY_RESIZE stays until confirmed)."""
    vm_state, power_state = FROM_BACKEND[instance.status]
    if instance.status == S.BUILDING:
        return
    server.power_state = power_state
    server.task_state = None
    if server.vm_state == VmState.RESIZED and vm_state in (VmState.ACTIVE, VmState.STOPPED):
        return
    if vm_state == VmState.ERROR:
        set_fault(server, instance.fault or "The instance failed on its cluster.")
    elif server.launched_at is None:
        server.launched_at = timezone.now()
    server.vm_state = vm_state
    server.progress = 100 if vm_state in (VmState.ACTIVE, VmState.STOPPED) else (instance.progress or 0)


def _resize_failed(server: Server, instance: Instance, reason: str) -> None:
    """The backend refused or failed the resize: the old flavor stays, the charge is given back."""
    charges.refund_resize(server, frm=server.new_flavor or server.flavor, to=server.flavor, actor=None)
    server.new_flavor = server.old_flavor = None
    server.vm_state, server.power_state = FROM_BACKEND[instance.status]
    server.task_state = None
    set_fault(server, f"Resize failed: {reason}")
    log.info("resize of server %s failed: %s", server.pk, reason)


def _resize_step(server: Server, instance: Instance) -> None:
    """The vCPU/RAM change ended: grow the root disk if the flavor wants more, else VERIFY_RESIZE."""
    new = server.new_flavor or server.flavor
    if (instance.vcpus, instance.memory_mb) != (new["vcpus"], new["ram"]):
        _resize_failed(server, instance, instance.fault or "the cluster did not apply the new size")
        return
    amount = grow_amount(instance, new)
    if amount:
        try:
            devices.grow_disk(instance, 0, amount, actor=None)
        except DomainError as exc:
            _resize_failed(server, instance, exc.message)
            return
        server.task_state = TaskState.RESIZE_FINISH
        return
    resized(server, instance)


def _resize_done(server: Server, instance: Instance) -> None:
    """The disk growth ended: VERIFY_RESIZE, or ERROR when the disk is still too small."""
    new = server.new_flavor or server.flavor
    if grow_amount(instance, new):
        server.vm_state, server.task_state = VmState.ERROR, None
        set_fault(server, f"Resize failed: the root disk did not grow ({instance.fault or 'no reason given'})")
        return
    resized(server, instance)


def _reverted(server: Server, instance: Instance) -> None:
    """The revert's resize ended: back on the old flavor, or ERROR when the size did not change back."""
    old = server.old_flavor or server.flavor
    if (instance.vcpus, instance.memory_mb) != (old["vcpus"], old["ram"]):
        server.vm_state, server.task_state = VmState.ERROR, None
        set_fault(server, f"Revert of resize failed: {instance.fault or 'the cluster did not restore the size'}")
        return
    reverted(server, instance, actor=None)


def _delete_failed(server: Server, instance: Instance) -> None:
    """The instance is still there after its destroy job ended: ERROR with the cluster's reason."""
    if server.delete_requested:
        return
    server.vm_state, server.task_state = VmState.ERROR, None
    server.power_state = FROM_BACKEND[instance.status][1]
    set_fault(server, f"Delete failed: {instance.fault or 'the cluster kept the instance'}")


COMPLETE = {
    Completion.FOLLOW: _follow,
    Completion.RESIZE_STEP: _resize_step,
    Completion.RESIZE_DONE: _resize_done,
    Completion.REVERTED: _reverted,
    Completion.DELETE_FAILED: _delete_failed,
}
