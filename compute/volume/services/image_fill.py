"""Volumes created from an image: the image's bytes are written onto the disk when it is first made.

A volume's disk is created on its first attach (`attachments.attach_volume` -> `add_disk`). For a
volume with an image, `attach_volume` first refuses (400, before any job) a cluster that cannot
write disk bytes (real Ganeti; `backend_ganeti.services.disk_data`) or an image whose format would
need a conversion. When the add job succeeds, `completion.complete` leaves the volume
`attaching` and enqueues `compute.volume.tasks.fill_volume` on commit; `fill_volume` streams the
image from the owner's object store through `write_disk` onto the new disk (no transaction is
held while bytes move), then the volume becomes `in-use`, or `error` with the reason as its fault
(its half-written disk then detached from the server by a `detach_disk` job, kept by the cluster
like any detached volume's disk, so deleting the volume removes it).
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from backend_ganeti.services import devices, disk_data
from compute.image.services import disk_source
from compute.volume.models import Volume
from compute.volume.states import Status
from portal.errors import DomainError, ValidationFailed

log = logging.getLogger(__name__)
GIB = 1024**3


def enqueue_fill(volume_id: uuid.UUID) -> None:
    """Queue the fill of a just-materialised volume when the current transaction commits."""
    key = str(volume_id)

    def send() -> None:
        from compute.volume import tasks

        tasks.fill_volume.delay(key)

    transaction.on_commit(send)


def _pending(volume_id: str) -> Volume | None:
    return (
        Volume.objects.select_related("project", "instance")
        .filter(pk=volume_id, status=Status.ATTACHING, job__isnull=True, cluster__isnull=False)
        .exclude(image_id="")
        .first()
    )


def fill_volume(volume_id: str) -> str:
    """Write the volume's image onto its disk, then settle the volume; "in-use" or why it failed."""
    row = _pending(volume_id)
    if row is None:
        return "skipped: the volume is not waiting for its image data"
    try:
        if row.instance is None:
            raise ValidationFailed("the volume's instance is gone")
        opened = disk_source.open_for_project(row.project, row.image_id)
        if opened.size > row.size * GIB:
            raise ValidationFailed(f"the image ({opened.size} bytes) is larger than the volume ({row.size} GiB)")
        written = disk_data.write_instance_disk(row.instance, row.disk_name, opened.chunks, size=opened.size)
        log.info("volume %s: %d bytes of image %s written", volume_id, written, row.image_id)
        error = ""
    except Exception as exc:  # any failure ends the attach: the volume must not stay attaching
        error = getattr(exc, "message", "") or str(exc) or type(exc).__name__
        log.exception("volume %s: writing image %s failed: %s", volume_id, row.image_id, error)
    return _settle(volume_id, row.image_id, error)


@transaction.atomic
def _settle(volume_id: str, image_id: str, error: str) -> str:
    row = (
        Volume.objects.select_for_update(of=("self",))
        .select_related("instance")
        .filter(pk=volume_id, status=Status.ATTACHING, job__isnull=True)
        .first()
    )
    if row is None:
        return "skipped: the volume changed meanwhile"
    row.updated_at = timezone.now()
    if not error:
        row.status, row.fault, row.attached_at = Status.IN_USE, "", timezone.now()
        row.save()
        return str(row.status)
    fault = f"attaching failed: the data of image {image_id} could not be written to the volume: {error}"
    if row.instance is not None:
        # Take the half-written disk off the server (the cluster keeps it detached, so deleting
        # the volume removes it like any detached volume's disk).
        try:
            row.job = devices.detach_disk(row.instance, row.disk_name, actor=None)
        except DomainError as exc:
            fault += f"; its disk could not be detached from the server ({exc.message})"
    row.status, row.fault = Status.ERROR, fault[:2000]
    row.server, row.attachment_id, row.device, row.attached_at = None, None, "", None
    row.save()
    return str(row.status)
