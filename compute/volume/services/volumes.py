"""Volumes: create (blank or from an image), rename, metadata, extend and delete.

Creating a volume records it and charges its quota; no cluster is asked (the disk is made on
the first attach, see `attachments`), so it is `available` at once. Deleting a volume that never
reached a cluster removes the row at once; deleting one whose disk lives detached on a cluster
queues the disk's removal there (`backend_ganeti.services.devices.delete_detached_disk`) and the
row goes when that job succeeds (`completion`). Every rule about statuses is `states.check`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend_ganeti.models import Instance
from backend_ganeti.services import devices
from compute.image.models import Image
from compute.volume import states
from compute.volume.models import Volume, VolumeType
from compute.volume.services import charges
from compute.volume.services.types import NODE_LOCAL
from identity.models import Project
from portal import audit
from portal.errors import NotFound, ValidationFailed

log = logging.getLogger(__name__)

MAX_SIZE_GIB = 16 * 1024
GIB = 1024**3
# The image properties Cinder copies into volume_image_metadata.
IMAGE_FIELDS = ("disk_format", "container_format", "min_disk", "min_ram", "size", "checksum")


@dataclass(frozen=True)
class VolumeSpec:
    """What a create request asks for (already parsed)."""

    size: int
    volume_type: VolumeType
    name: str = ""
    description: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    image: Image | None = None
    availability_zone: str = "nova"


def check_size(size: Any, *, least: int = 1) -> int:
    """A size in GiB Cinder would take (an integer from `least`), else its 400."""
    if isinstance(size, bool) or not isinstance(size, int):
        if isinstance(size, str) and size.strip().isdigit():
            size = int(size)
        else:
            raise ValidationFailed(f"Invalid input received: size={size} must be an integer.")
    if size < least or size > MAX_SIZE_GIB:
        raise ValidationFailed(
            f"Invalid input received: Volume size '{size}' must be an integer and greater than {least - 1}."
            if size < least
            else f"Invalid input received: Volume size {size} GiB exceeds the largest volume ({MAX_SIZE_GIB} GiB)."
        )
    return size


def image_metadata(image: Image) -> dict[str, str]:
    """Cinder's `volume_image_metadata` of a volume made from `image` (values are strings)."""
    data = {"image_id": image.pk, "image_name": image.name or ""}
    for name in IMAGE_FIELDS:
        value = getattr(image, name)
        if value is not None:
            data[name] = str(value)
    return data


@transaction.atomic
def create_volume(project: Project, spec: VolumeSpec, *, actor: Any) -> Volume:
    """Record a new volume (available at once: nothing is made on a cluster yet) and charge its quota."""
    size = check_size(spec.size)
    volume = Volume(
        project=project,
        user_id=str(getattr(actor, "pk", "") or ""),
        name=spec.name,
        description=spec.description,
        size=size,
        status=states.Status.AVAILABLE,
        volume_type=spec.volume_type,
        availability_zone=spec.availability_zone,
        metadata=dict(spec.metadata),
    )
    if spec.image is not None:
        needed = max(spec.image.min_disk, -(-(spec.image.size or 0) // GIB))
        if size < needed:
            raise ValidationFailed(
                f"Invalid input received: Image {spec.image.pk} needs a volume of at least {needed} GiB."
            )
        volume.image_id = spec.image.pk
        volume.image_metadata = image_metadata(spec.image)
        volume.bootable = True
    charges.charge_volume(volume, actor=actor)
    volume.save()
    audit.record(actor, "volume.create", volume, detail={"size": size, "type": spec.volume_type.name})
    return volume


def _locked(volume: Volume) -> Volume:
    row = (
        Volume.objects.select_for_update(of=("self",))
        .select_related("project", "volume_type")
        .filter(pk=volume.pk)
        .first()
    )
    if row is None:
        raise NotFound(f"Volume {volume.pk} could not be found.")
    return row


def _change(row: Volume, action: str, changes: dict[str, Any], *, actor: Any, detail: dict[str, Any]) -> Volume:
    """Save `changes` (field -> value) to a locked volume and audit them as `volume.<action>`."""
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = timezone.now()
    row.save(update_fields=[*changes, "updated_at"])
    audit.record(actor, f"volume.{action}", row, detail=detail)
    return row


@transaction.atomic
def update_volume(volume: Volume, *, name: str | None, description: str | None, actor: Any) -> Volume:
    """Rename or re-describe a volume (any status)."""
    changes = {key: value for key, value in (("name", name), ("description", description)) if value is not None}
    return _change(_locked(volume), "update", changes, actor=actor, detail=changes)


@transaction.atomic
def set_metadata(volume: Volume, metadata: dict[str, str], *, replace: bool, actor: Any) -> Volume:
    """Merge `metadata` into the volume's (or replace it all when `replace`)."""
    row = _locked(volume)
    merged = dict(metadata) if replace else {**row.metadata, **metadata}
    detail = {"keys": sorted(metadata), "replace": replace}
    return _change(row, "set_metadata", {"metadata": merged}, actor=actor, detail=detail)


@transaction.atomic
def delete_metadata_key(volume: Volume, key: str, *, actor: Any) -> Volume:
    """Remove one metadata key (404 when it is not set)."""
    row = _locked(volume)
    if key not in row.metadata:
        raise NotFound(f"Metadata item was not found (key {key}).")
    kept = {k: v for k, v in row.metadata.items() if k != key}
    return _change(row, "delete_metadata", {"metadata": kept}, actor=actor, detail={"key": key})


@transaction.atomic
def set_bootable(volume: Volume, bootable: bool, *, actor: Any) -> Volume:
    """Set Cinder's bootable flag (`os-set_bootable`); Nefos boots from no volume, so it is a label."""
    return _change(_locked(volume), "set_bootable", {"bootable": bootable}, actor=actor, detail={"bootable": bootable})


@transaction.atomic
def set_image_metadata(volume: Volume, metadata: dict[str, str], *, actor: Any) -> Volume:
    """Merge keys into the volume's image metadata (`os-set_image_metadata`)."""
    row = _locked(volume)
    merged = {**row.image_metadata, **metadata}
    return _change(
        row, "set_image_metadata", {"image_metadata": merged}, actor=actor, detail={"keys": sorted(metadata)}
    )


@transaction.atomic
def unset_image_metadata(volume: Volume, key: str, *, actor: Any) -> Volume:
    """Remove one image metadata key (`os-unset_image_metadata`; 404 when it is not set, as Cinder)."""
    row = _locked(volume)
    if key not in row.image_metadata:
        raise NotFound(f"Glance metadata for volume {row.pk} cannot be found (key {key}).")
    kept = {k: v for k, v in row.image_metadata.items() if k != key}
    return _change(row, "unset_image_metadata", {"image_metadata": kept}, actor=actor, detail={"key": key})


@transaction.atomic
def extend_volume(volume: Volume, new_size: Any, *, actor: Any) -> Volume:
    """Grow an available volume to `new_size` GiB and charge the growth.

    Only a volume that was never attached can grow here: Ganeti grows a disk through the instance
    it is attached to, and a detached disk belongs to none (docs/volume.md).
    """
    row = _locked(volume)
    states.check(states.Action.EXTEND, row.status, str(row.pk))
    size = check_size(new_size, least=row.size + 1)
    if row.materialised:
        raise ValidationFailed(
            f"Invalid volume: volume {row.pk} has been attached before and its disk is kept detached on "
            f"cluster {row.cluster.name}; Ganeti can only grow a disk that is attached to an instance, so a "
            "volume can be extended only before its first attachment."
        )
    charges.charge_extension(row, size, actor=actor)
    row.size = size
    row.updated_at = timezone.now()
    row.save(update_fields=["size", "charged", "updated_at"])
    audit.record(actor, "volume.extend", row, detail={"size": size})
    return row


def _carrier(row: Volume) -> Instance | None:
    """A live instance that can carry the removal of the volume's detached disk: on its cluster, of its
    disk template and (node-local templates) on its node; the last one it was attached to first,
    else another of the project's."""
    template = row.volume_type.disk_template
    live = Instance.objects.filter(
        cluster_id=row.cluster_id,
        status__in=(Instance.Status.RUNNING, Instance.Status.STOPPED),
        disk_template=template,
    )
    if template in NODE_LOCAL and row.node:
        live = live.filter(primary_node=row.node)
    if row.instance_id is not None:
        last = live.filter(pk=row.instance_id).first()
        if last is not None:
            return last
    return live.filter(project_id=row.project_id).order_by("pk").first()


@transaction.atomic
def delete_volume(volume: Volume, *, actor: Any) -> Volume | None:
    """Delete a volume: at once when it has no disk on a cluster, else through a backend job.

    Returns the row while its deletion goes on, None once it is gone.
    """
    row = _locked(volume)
    states.check(states.Action.DELETE, row.status, str(row.pk))
    if not row.materialised:
        finish_delete(row, actor=actor)
        return None
    carrier = _carrier(row)
    if carrier is None:
        # No instance left to remove the disk through (Ganeti 3.0 removes detached disks only via
        # an instance): the volume goes, the orphan disk is named in the audit log for an admin.
        log.warning("volume %s deleted; its detached disk stays on cluster %s", row.pk, row.cluster_id)
        audit.record(
            actor,
            "volume.orphan_disk",
            row,
            detail={"cluster": row.cluster.name, "disk_name": row.disk_name, "size_gib": row.size},
        )
        finish_delete(row, actor=actor)
        return None
    job = devices.delete_detached_disk(carrier, row.disk_name, actor=actor)
    row.status, row.job, row.instance, row.fault = states.Status.DELETING, job, carrier, ""
    row.updated_at = timezone.now()
    row.save()
    audit.record(actor, "volume.delete", row, detail={"cluster": row.cluster.name, "job": job.pk})
    return row


def finish_delete(row: Volume, *, actor: Any) -> None:
    """Remove the row and give its quota back (inside the caller's transaction)."""
    charges.release_volume(row, actor=actor)
    audit.record(actor, "volume.deleted", row, detail={"size": row.size})
    row.delete()
