"""Attaching and detaching volumes through their server (Nova's os-volume_attachments).

The first attach adds a disk named after the volume id to the server's instance
(`devices.add_disk`): from then on the volume lives on that cluster. Detaching uses Ganeti's
disk detach (`devices.detach_disk`): the cluster keeps the disk and its data, attached to no
instance, and a later attach (`devices.attach_disk`) gives it to a server of the same cluster
only (and, for node-local templates such as file, of the same node). The volume is
`attaching`/`detaching` until the backend job ends (`completion`). A volume created from an image
is refused (400) on clusters that cannot write disk bytes; elsewhere its new disk is filled with
the image before it is `in-use` (`image_fill`).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend_ganeti.drivers.types import DiskSpec
from backend_ganeti.models import Instance
from backend_ganeti.services import devices, disk_data
from compute.image.services import disk_source
from compute.models import Server
from compute.services.servers import lock_server
from compute.services.states import VmState
from compute.volume import states
from compute.volume.models import Volume
from compute.volume.services.types import NODE_LOCAL
from portal import audit
from portal.errors import Conflict, NotFound, ValidationFailed

# Server vm_states a volume can be attached in or detached from (Nova's rule: not while building,
# resizing or deleted).
READY = frozenset({VmState.ACTIVE, VmState.STOPPED})
DEVICE_PREFIX = "/dev/vd"


def _instance(server: Server, action: str) -> Instance:
    """The server's backend instance, when it can take a volume change now (Nova's 409 otherwise)."""
    if server.vm_state not in READY or server.task_state or server.instance_id is None:
        raise Conflict(
            f"Cannot '{action}' instance {server.pk} while it is in vm_state {server.vm_state}"
            + (f", task_state {server.task_state}" if server.task_state else "")
        )
    return Instance.objects.select_related("cluster").get(pk=server.instance_id)


def next_device(server: Server, instance: Instance) -> str:
    """The device name the guest is likely to see next (the root disk is vda)."""
    used = {v.device for v in Volume.objects.filter(server=server).only("device")}
    for index in range(1, 26):
        device = f"{DEVICE_PREFIX}{chr(ord('a') + index)}"
        if device not in used:
            return device
    raise ValidationFailed(f"Server {server.pk} has no free device name left.")


def _locked_volume(volume: Volume) -> Volume:
    row = Volume.objects.select_for_update(of=("self",)).select_related("cluster").filter(pk=volume.pk).first()
    if row is None:
        raise NotFound(f"Volume {volume.pk} could not be found.")
    return row


def _check_image_writable(row: Volume, instance: Instance) -> None:
    """A volume from an image gets the image's bytes when its disk is made: refuse what cannot (400)."""
    if not disk_data.supports_disk_data(instance.cluster):
        raise ValidationFailed(
            f"Volume {row.pk} was created from image {row.image_id}, but cluster {instance.cluster.name} cannot "
            "write a disk's bytes (Ganeti's RAPI has no call for that): its disk would be blank. Attach it to a "
            "server on a cluster that can (e.g. the embedded libvirt host), or use a blank volume."
        )
    disk_source.check_writable(row.image_id)


@transaction.atomic
def attach_volume(server: Server, volume: Volume, *, device: str | None = None, actor: Any) -> Volume:
    """Attach an available volume of the server's project to it; the volume is `attaching` until the job ends."""
    srv = lock_server(server)
    row = _locked_volume(volume)
    if row.project_id != srv.project_id:
        raise NotFound(f"Volume {row.pk} could not be found.")
    states.check(states.Action.ATTACH, row.status, str(row.pk))
    instance = _instance(srv, "attach_volume")
    if instance.disk_template == "diskless":
        raise ValidationFailed(f"Server {srv.pk} has no disks (disk template diskless): it cannot take volumes.")
    template = row.volume_type.disk_template
    if template != instance.disk_template:
        raise ValidationFailed(
            f"Volume {row.pk} is of type {row.volume_type.name} (disk template {template}) but server {srv.pk} "
            f"uses disk template {instance.disk_template}: Ganeti attaches disks of the instance's template only."
        )
    if row.materialised:
        if row.cluster_id != instance.cluster_id:
            raise ValidationFailed(
                f"Volume {row.pk} is kept on cluster {row.cluster.name} but server {srv.pk} runs on cluster "
                f"{instance.cluster.name}: a volume can be attached only to servers of the cluster its data is on."
            )
        if template in NODE_LOCAL and row.node and instance.primary_node != row.node:
            raise ValidationFailed(
                f"Volume {row.pk} is kept on node {row.node} of cluster {row.cluster.name} but server {srv.pk} "
                f"runs on node {instance.primary_node}: Ganeti attaches a {template} disk only to an instance "
                "on the node that holds it."
            )
        job = devices.attach_disk(instance, row.disk_name, actor=actor)
    else:
        if row.image_id:
            _check_image_writable(row, instance)
        job = devices.add_disk(instance, DiskSpec(size_mb=row.size * 1024, name=row.disk_name), actor=actor)
    row.status, row.job, row.instance, row.server, row.fault = states.Status.ATTACHING, job, instance, srv, ""
    row.attachment_id = uuid.uuid4()
    row.device = device or next_device(srv, instance)
    row.updated_at = timezone.now()
    row.save()
    audit.record(actor, "volume.attach", row, detail={"server": str(srv.pk), "job": job.pk, "device": row.device})
    return row


@transaction.atomic
def detach_volume(server: Server, volume: Volume, *, actor: Any) -> Volume:
    """Detach an in-use volume from the server; the cluster keeps its disk. `detaching` until the job ends."""
    srv = lock_server(server)
    row = _locked_volume(volume)
    if row.server_id != srv.pk:
        raise NotFound(f"volume_id {row.pk} is not attached to server {srv.pk}.")
    states.check(states.Action.DETACH, row.status, str(row.pk))
    instance = _instance(srv, "detach_volume")
    job = devices.detach_disk(instance, row.disk_name, actor=actor)
    row.status, row.job, row.fault = states.Status.DETACHING, job, ""
    row.updated_at = timezone.now()
    row.save()
    audit.record(actor, "volume.detach", row, detail={"server": str(srv.pk), "job": job.pk})
    return row
