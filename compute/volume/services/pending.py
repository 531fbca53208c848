"""Volumes waiting for a new server: attached once the server is first ACTIVE.

The dashboard's create wizard lets the user pick volumes for the server it boots, but Nova's rule
(`attachments.READY`) refuses an attach while the server builds. The wizard therefore records
each choice as a `PendingVolumeAttachment` (`add`, in the transaction that creates the server)
and `settle` attaches them through `attachments.attach_volume`, one job at a time (the backend
takes one disk change at a time on an instance):

- `settle` runs on every `instance_changed` event of the server's instance (receiver connected
  after compute's, so the server already shows what the event did, and after the volume
  completion receiver, so an attach job that ended is already applied), and once right after
  the wizard's commit (the server may be ACTIVE by then);
- while the server builds, has a task, or an attach/detach job of its volumes runs, it waits;
- once it is ACTIVE (or stopped) with no task, the next pending volume's attach is queued and its
  row goes; the attach's own end is `completion`'s (`in-use`, or `available` with the job's error);
- an attach refused for good (volume deleted, in use elsewhere, wrong type, ...), or a server
  that was deleted or failed before it could take its volumes, drops the row: the volume stays
  `available` with the reason in its `fault`, and the audit log records `volume.pending_dropped`.

Reading the rows again under the server's lock makes it idempotent: the same event twice, or the
event and the wizard's call racing, queue one attach.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend_ganeti.models import Instance
from compute.models import PendingVolumeAttachment, Server
from compute.services.states import VmState
from compute.volume.models import Volume
from compute.volume.services import attachments
from compute.volume.states import Status
from portal import audit
from portal.errors import Conflict, DomainError, ValidationFailed

log = logging.getLogger(__name__)
# Volume statuses during which a job of the server's instance is still running for a volume.
MOVING = (Status.ATTACHING, Status.DETACHING)
# Server states from which it never becomes ACTIVE by itself: its pending volumes are given up.
GIVEN_UP = frozenset({VmState.ERROR, VmState.DELETED})


def add(server: Server, volumes: Iterable[Volume], *, actor: Any) -> list[PendingVolumeAttachment]:
    """Record `volumes` (locked, available, of the server's project) as waiting for `server`.

    Runs inside the caller's transaction; a volume of another project or already waiting for a
    server is refused (400)."""
    rows = []
    for volume in volumes:
        if volume.project_id != server.project_id:
            raise ValidationFailed(f"Volume {volume.pk} could not be found.")
        if volume.status != Status.AVAILABLE:
            raise ValidationFailed(f"Invalid volume: status must be available (volume {volume.pk} is {volume.status}).")
        earlier = PendingVolumeAttachment.objects.select_related("server", "volume").filter(volume_id=volume.pk).first()
        if earlier is not None and earlier.server.deleted_at is not None:
            # Its server was deleted before reaching a cluster (no instance event dropped the wait).
            drop(earlier, f"server {earlier.server.name} ({earlier.server_id}) was deleted", actor=actor)
        elif earlier is not None:
            raise ValidationFailed(f"Volume {volume.pk} is already chosen for another new server.")
        rows.append(PendingVolumeAttachment.objects.create(server=server, volume=volume))
        audit.record(actor, "volume.attach_pending", volume, detail={"server": str(server.pk)})
    return rows


def on_instance_changed(sender: Any, instance: Instance, **kwargs: Any) -> None:
    """Signal receiver: attach the next volume waiting for the server that owns `instance`."""
    try:
        server_id = uuid.UUID(instance.owner_ref)
    except (TypeError, ValueError):
        return
    if PendingVolumeAttachment.objects.filter(server_id=server_id).exists():
        settle(server_id)


@transaction.atomic
def settle(server_id: uuid.UUID, *, actor: Any = None) -> int:
    """Queue the attach of the server's next pending volume if it can take one now; how many wait still."""
    server = Server.objects.select_for_update(of=("self",)).filter(pk=server_id).first()
    if server is None:
        return 0
    rows = list(
        PendingVolumeAttachment.objects.select_for_update(of=("self",))
        .select_related("volume")
        .filter(server_id=server.pk)
        .order_by("created_at", "id")
    )
    if not rows:
        return 0
    if server.deleted_at is not None or server.delete_requested or server.vm_state in GIVEN_UP:
        why = "was deleted" if server.deleted_at or server.delete_requested else f"went to {server.vm_state}"
        for row in rows:
            drop(row, f"server {server.name} ({server.pk}) {why} before it could take the volume", actor=actor)
        return 0
    ready = server.vm_state in attachments.READY and not server.task_state and server.instance_id is not None
    if not ready or Volume.objects.filter(server_id=server.pk, status__in=MOVING).exists():
        return len(rows)
    for index, row in enumerate(rows):
        try:
            with transaction.atomic():
                attachments.attach_volume(server, row.volume, actor=actor)
        except Conflict as exc:
            # The instance runs another job (or the cluster is unreachable): the next event retries.
            log.info("server %s: attach of volume %s waits (%s)", server.pk, row.volume_id, exc.message)
            return len(rows) - index
        except DomainError as exc:
            drop(row, exc.message, actor=actor)
            continue
        row.delete()
        return len(rows) - index - 1
    return 0


def drop(row: PendingVolumeAttachment, reason: str, *, actor: Any) -> None:
    """Give up one pending attach: the volume keeps its status, `fault` and the audit log say why."""
    fault = f"Not attached to the new server: {reason}"[:2000]
    Volume.objects.filter(pk=row.volume_id, status=Status.AVAILABLE).update(fault=fault, updated_at=timezone.now())
    audit.record(actor, "volume.pending_dropped", row.volume, detail={"server": str(row.server_id), "reason": reason})
    log.warning("volume %s not attached to server %s: %s", row.volume_id, row.server_id, reason)
    row.delete()


def waiting(server: Server) -> list[Volume]:
    """The volumes still waiting to be attached to `server`, in the order they will be."""
    rows = Volume.objects.filter(pending_attachment__server=server).select_related("volume_type")
    return list(rows.order_by("pending_attachment__created_at", "pending_attachment__id"))
