"""Deleting a server keeps its volumes: they are detached before its instance is destroyed.

Ganeti removes an instance's disks with it, so compute's server delete (`request_destroy`) asks
`release_volumes` first, and destroys the instance only once no volume is attached any more.
The backend takes one job at a time on an instance (a second disk change is refused while one
runs), so the volumes are detached one after another: each call settles the detach jobs that
have ended (`completion.complete`), queues the next detach when the instance is free, and says
whether the caller must wait. compute calls it again on every `instance_changed` event of the
instance while the delete is pending (`Server.delete_requested`), so the destroy is queued only
after the last detach job has finished: ordering comes from the jobs' completion, not from the
order in which queued jobs reach the cluster.

A detach the cluster refuses stops the delete (the server goes to ERROR with the reason, the
volume stays attached and keeps its data); deleting again retries. An instance in a status where
no disk can be detached (e.g. `error`) is destroyed anyway, as before: its volumes are lost
(`completion.lose_with_instance`), which the audit log records.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from backend_ganeti.errors import ClusterOffline
from backend_ganeti.models import Instance
from backend_ganeti.services import devices
from backend_ganeti.services.dispatch import Operation
from backend_ganeti.states import ALLOWED
from compute.volume.models import Volume
from compute.volume.services.completion import ATTACHED, complete
from compute.volume.states import Status
from portal import audit
from portal.errors import InvalidState, NotFound

log = logging.getLogger(__name__)
DETACH_FAILED = "detaching failed"  # how `completion` words a failed detach in the volume's fault


@dataclass(frozen=True)
class Release:
    """Where the detaching of a server's volumes stands: wait, go on with the destroy, or fail."""

    waiting: bool = False
    failure: str = ""


def _attached(server_id: Any) -> list[Volume]:
    rows = Volume.objects.select_for_update(of=("self",)).filter(server_id=server_id, status__in=ATTACHED)
    return list(rows.order_by("attached_at", "id"))


def release_volumes(server: Any, *, retry: bool, actor: Any) -> Release:
    """Detach the next volume of `server` (locked by the caller) on the way to its destroy.

    `retry` is True for the delete request itself: volumes whose earlier detach failed are tried
    again. On the later calls (events) such a volume means the cluster refused: the delete fails.
    """
    for row in _attached(server.pk):
        if row.job_id is not None:
            complete(row.pk)  # a detach or attach whose job ended but whose event is not applied yet
    rows = _attached(server.pk)
    if not rows:
        return Release()
    if any(row.status != Status.IN_USE for row in rows):
        return Release(waiting=True)  # an attach or detach job still runs; its end calls us again
    if retry:
        Volume.objects.filter(pk__in=[row.pk for row in rows]).update(fault="")
    else:
        failed = next((row for row in rows if row.fault.startswith(DETACH_FAILED)), None)
        if failed is not None:
            return Release(failure=f"volume {failed.pk} could not be detached ({failed.fault}); its data is kept.")
    instance = Instance.objects.filter(pk=server.instance_id).first()
    if instance is None or instance.status == Instance.Status.DELETED:
        return Release()
    if instance.status not in ALLOWED[Operation.DETACH_DISK]:
        for row in rows:
            audit.record(actor, "volume.lost_with_server", row, detail={"server": str(server.pk)})
        log.warning(
            "server %s: instance %s is %s, its volumes cannot be detached", server.pk, instance, instance.status
        )
        return Release()
    return _detach(server, instance, rows[0], retry=retry, actor=actor)


def _detach(server: Any, instance: Instance, row: Volume, *, retry: bool, actor: Any) -> Release:
    """Queue the detach of `row`; wait when the instance runs another job (its end calls us again).

    An unreachable cluster fails the delete request itself (409, as a destroy would); during an
    event it means waiting for the next one."""
    try:
        job = devices.detach_disk(instance, row.disk_name, actor=actor)
    except ClusterOffline:
        if retry:
            raise
        return Release(waiting=True)
    except InvalidState:
        return Release(waiting=True)
    except NotFound as exc:
        return Release(failure=f"volume {row.pk} could not be detached ({exc.message}); its data is kept.")
    row.status, row.job, row.fault, row.updated_at = Status.DETACHING, job, "", timezone.now()
    row.save(update_fields=["status", "job", "fault", "updated_at"])
    audit.record(
        actor, "volume.detach", row, detail={"server": str(server.pk), "job": job.pk, "reason": "server.delete"}
    )
    return Release(waiting=True)
