"""Cinder 3.0's JSON views of volumes, volume types and attachments (tempest's volume schemas).

`create`/`update` answers leave out the extension attributes (tenant, image metadata) as Cinder
does; `show`/`detail` carry them, and admins also see the host and migration attributes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from compute.volume.api.base import volume_root
from compute.volume.models import Volume, VolumeType


def stamp(moment: datetime | None) -> str | None:
    """Cinder's timestamps: `2024-01-02T03:04:05.000000` (UTC, no zone)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def links(request: HttpRequest, project_id: str, collection: str, object_id: str) -> list[dict[str, str]]:
    """Cinder's self and bookmark links."""
    root = volume_root(request)
    return [
        {"rel": "self", "href": f"{root}/v3/{project_id}/{collection}/{object_id}"},
        {"rel": "bookmark", "href": f"{root}/{project_id}/{collection}/{object_id}"},
    ]


def attachments(volume: Volume) -> list[dict[str, Any]]:
    """The volume's attachment (at most one: no multiattach), while attached or detaching."""
    if volume.server_id is None or volume.status not in ("in-use", "detaching"):
        return []
    return [
        {
            "server_id": str(volume.server_id),
            "attachment_id": str(volume.attachment_id),
            "attached_at": stamp(volume.attached_at),
            "host_name": None,
            "volume_id": str(volume.pk),
            "device": volume.device,
            "id": str(volume.pk),
        }
    ]


def summary(request: HttpRequest, volume: Volume) -> dict[str, Any]:
    """The entry of `GET /volumes`."""
    return {
        "id": str(volume.pk),
        "name": volume.name,
        "links": links(request, str(volume.project_id), "volumes", str(volume.pk)),
    }


def volume_view(request: HttpRequest, volume: Volume, *, extended: bool = True, admin: bool = False) -> dict[str, Any]:
    """A volume as show/detail (`extended`) or create/update answer it."""
    body: dict[str, Any] = {
        "id": str(volume.pk),
        "name": volume.name,
        "description": volume.description,
        "status": volume.status,
        "size": volume.size,
        "availability_zone": volume.availability_zone,
        "created_at": stamp(volume.created_at),
        "updated_at": stamp(volume.updated_at),
        "volume_type": volume.volume_type.name,
        "snapshot_id": None,
        "source_volid": None,
        "consistencygroup_id": None,
        "metadata": dict(volume.metadata),
        "links": links(request, str(volume.project_id), "volumes", str(volume.pk)),
        "user_id": volume.user_id,
        "bootable": "true" if volume.bootable else "false",
        "encrypted": False,
        "replication_status": None,
        "multiattach": False,
        "attachments": attachments(volume),
    }
    if extended:
        body["os-vol-tenant-attr:tenant_id"] = str(volume.project_id)
        if volume.image_id or volume.image_metadata:
            body["volume_image_metadata"] = dict(volume.image_metadata)
        if admin:
            template = volume.volume_type.disk_template
            host = f"{volume.cluster.name}@ganeti#{template}" if volume.cluster_id and volume.cluster else None
            body["os-vol-host-attr:host"] = host
            body["os-vol-mig-status-attr:migstat"] = None
            body["os-vol-mig-status-attr:name_id"] = None
            body["migration_status"] = None
    return body


def type_view(vtype: VolumeType) -> dict[str, Any]:
    """A volume type; `extra_specs` names its Ganeti disk template."""
    return {
        "id": str(vtype.pk),
        "name": vtype.name,
        "description": vtype.description,
        "is_public": vtype.is_public,
        "os-volume-type-access:is_public": vtype.is_public,
        "extra_specs": {"volume_backend_name": "ganeti", "ganeti:disk_template": vtype.disk_template},
        "qos_specs_id": None,
    }


def nova_attachment(volume: Volume) -> dict[str, Any]:
    """Nova's volumeAttachment (2.1-2.48 shape: the attachment id is the volume id)."""
    return {
        "id": str(volume.pk),
        "volumeId": str(volume.pk),
        "serverId": str(volume.server_id),
        "device": volume.device or None,
    }
