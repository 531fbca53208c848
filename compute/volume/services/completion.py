"""Following the backend: volumes leave attaching/detaching/deleting when their backend job ends.

backend_ganeti sends `instance_changed` after each applied event commits (a finished job applies
one). The receiver looks at the volumes whose pending job is on that instance, and for each whose
job has finished applies `states.COMPLETION`: success or failure, from the Job row (its error
becomes the volume's fault; a deletion failing because the disk is already gone counts as done).
The first attach of a volume created from an image stays `attaching` while `image_fill` writes
the image onto the new disk.
A deleted instance took its attached disks with it (Ganeti removes an instance's disks): those
volumes end in `error`, with the reason. Reading the rows again under
a lock makes the receiver idempotent.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend_ganeti.models import Instance, Job
from compute.volume.models import Volume
from compute.volume.services import image_fill
from compute.volume.services.volumes import finish_delete
from compute.volume.states import COMPLETION, Status

log = logging.getLogger(__name__)
ATTACHED = (Status.ATTACHING, Status.IN_USE, Status.DETACHING)
# How a cluster says the disk to delete does not exist (Ganeti, the embedded host): the deletion's
# goal is met (e.g. a retried job whose first attempt removed it), so the volume goes.
# Ganeti's "Lookup of disk ... failed" is not trusted: its removal fails that way too when the
# attach before it was refused while the disk still exists.
DISK_GONE = ("no detached disk named",)


def on_instance_changed(sender: Any, instance: Instance, **kwargs: Any) -> None:
    """Signal receiver: settle the volumes waiting on `instance`'s jobs."""
    pending = Volume.objects.filter(instance_id=instance.pk)
    if instance.status == Instance.Status.DELETED:
        for volume_id in pending.filter(status__in=ATTACHED).values_list("pk", flat=True):
            lose_with_instance(volume_id, instance.name)
        return
    for volume_id in pending.filter(job__isnull=False).values_list("pk", flat=True):
        complete(volume_id)


@transaction.atomic
def complete(volume_id: uuid.UUID) -> Volume | None:
    """Apply the end of the volume's pending job, if it has ended; the volume (None once deleted)."""
    row = (
        Volume.objects.select_for_update(of=("self",))
        .select_related("project", "instance")
        .filter(pk=volume_id)
        .first()
    )
    if row is None or row.job_id is None:
        return row
    job = Job.objects.filter(pk=row.job_id).first()
    if job is not None and not job.finished:
        return row
    success = job is not None and job.status == Job.Status.SUCCESS
    reason = (job.error if job is not None else "") or "the backend job was lost"
    status = Status(row.status)
    if status not in COMPLETION:
        row.job = None
        row.save(update_fields=["job"])
        return row
    done, failed = COMPLETION[status]
    row.job = None
    row.updated_at = timezone.now()
    if status == Status.DELETING and (success or any(words in reason for words in DISK_GONE)):
        finish_delete(row, actor=None)
        return None
    if not success:
        row.status, row.fault = failed, f"{status.value} failed: {reason}"[:2000]
        if status == Status.ATTACHING:
            _clear_attachment(row)
            if row.cluster_id is None:
                row.instance = None
    else:
        row.status, row.fault = done, ""
        if status == Status.ATTACHING:
            first = row.cluster_id is None
            if row.instance is not None:
                row.cluster_id, row.node = row.instance.cluster_id, row.instance.primary_node
            row.attached_at = timezone.now()
            if first and row.image_id and row.cluster_id is not None:
                # The new disk is blank: stay attaching until the image is written (image_fill).
                row.status, row.attached_at = Status.ATTACHING, None
                image_fill.enqueue_fill(row.pk)
        elif status == Status.DETACHING:
            _clear_attachment(row)
    row.save()
    log.info("volume %s: %s -> %s", row.pk, status.value, row.status)
    return row


def _clear_attachment(row: Volume) -> None:
    row.server, row.attachment_id, row.device, row.attached_at = None, None, "", None


@transaction.atomic
def lose_with_instance(volume_id: uuid.UUID, instance_name: str) -> None:
    """The instance the volume was attached to is gone, and its disk with it: the volume is in error."""
    row = Volume.objects.select_for_update().filter(pk=volume_id).first()
    if row is None or row.status not in ATTACHED:
        return
    _clear_attachment(row)
    row.status, row.job, row.cluster, row.instance, row.node = Status.ERROR, None, None, None, ""
    row.fault = (
        f"Instance {instance_name} was removed while the volume was attached; Ganeti removed its disks with it, "
        "so the volume's data is lost. Delete the volume."
    )
    row.updated_at = timezone.now()
    row.save()
