"""Nova's `os-volume_attachments` (microversions 2.1-2.48 shapes: no `tag`, the attachment id is the
volume id): list, show, attach and detach a server's volumes.

The work is done by `compute.volume.services.attachments`; the volume goes `attaching` (or
`detaching`) and follows the backend job (docs/volume.md). Swapping a volume (PUT) is refused.
"""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.api.base import NovaView, entity, no_content
from compute.services.servers import get_server
from compute.volume.api.render import nova_attachment
from compute.volume.models import Volume
from compute.volume.services import attachments
from compute.volume.services.listing import ATTACHED
from portal.errors import NotFound, ValidationFailed

ATTACH_KEYS = {"volumeId", "device", "delete_on_termination"}


def _volume_id(value: Any) -> uuid.UUID:
    """A volume id, or Nova's 400."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed(f"Invalid input for field/attribute volumeId. Value: {value}. is not a 'uuid'") from None


def _attached(server_id: Any) -> Any:
    return Volume.objects.filter(server_id=server_id, status__in=ATTACHED)


class VolumeAttachmentsView(NovaView):
    """`GET|POST /servers/{id}/os-volume_attachments`."""

    def get(self, request: Request, server_id: str) -> Response:
        """The server's attached volumes."""
        server = get_server(self.ctx(), server_id)
        rows = _attached(server.pk).order_by("attached_at", "id")
        return Response({"volumeAttachments": [nova_attachment(v) for v in rows]})

    def post(self, request: Request, server_id: str) -> Response:
        """Attach a volume of the server's project."""
        item = entity(request, "volumeAttachment")
        unknown = sorted(set(item) - ATTACH_KEYS)
        if unknown:
            raise ValidationFailed(
                f"Additional properties are not allowed ({', '.join(map(repr, unknown))} was unexpected)"
            )
        if "volumeId" not in item:
            raise ValidationFailed(
                "Invalid input for field/attribute volumeAttachment. 'volumeId' is a required property"
            )
        if item.get("delete_on_termination"):
            raise ValidationFailed("delete_on_termination is not supported: volumes outlive their servers here.")
        device = item.get("device")
        if device is not None and (not isinstance(device, str) or not device.startswith("/dev/") or len(device) > 64):
            raise ValidationFailed(f"The supplied device path ({device}) is invalid.")
        key = _volume_id(item["volumeId"])
        server = get_server(self.ctx(), server_id)
        volume = Volume.objects.for_project(server.project_id).filter(pk=key).first()
        if volume is None:
            raise NotFound(f"Volume {key} could not be found.")
        volume = attachments.attach_volume(server, volume, device=device, actor=self.actor)
        return Response({"volumeAttachment": nova_attachment(volume)})


class VolumeAttachmentView(NovaView):
    """`GET|PUT|DELETE /servers/{id}/os-volume_attachments/{volume_id}`."""

    def _find(self, server_id: str, volume_id: str) -> tuple[Any, Volume]:
        server = get_server(self.ctx(), server_id)
        try:
            key = uuid.UUID(volume_id)
        except ValueError:
            raise NotFound(f"volume_id {volume_id} is not attached to server {server.pk}.") from None
        volume = _attached(server.pk).filter(pk=key).first()
        if volume is None:
            raise NotFound(f"Volume {volume_id} is not attached to server {server.pk}.")
        return server, volume

    def get(self, request: Request, server_id: str, volume_id: str) -> Response:
        """One attachment."""
        _server, volume = self._find(server_id, volume_id)
        return Response({"volumeAttachment": nova_attachment(volume)})

    def put(self, request: Request, server_id: str, volume_id: str) -> Response:
        """Swapping volumes is not offered."""
        self._find(server_id, volume_id)
        raise ValidationFailed("Swapping a server's volume is not supported by this cloud: detach, then attach.")

    def delete(self, request: Request, server_id: str, volume_id: str) -> Response:
        """Detach the volume (the cluster keeps its data)."""
        server, volume = self._find(server_id, volume_id)
        attachments.detach_volume(server, volume, actor=self.actor)
        return no_content(202)
