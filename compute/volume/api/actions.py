"""`POST /volume/v3/{project_id}/volumes/{volume_id}/action`: the volume actions of Cinder 3.0.

Served: os-extend, os-set_bootable, os-set_image_metadata, os-unset_image_metadata and
os-show_image_metadata (the only action a reader may send: it changes nothing). The attach
protocol Nova speaks to Cinder (os-attach, os-reserve, ...) is not offered: volumes are attached
through Nova's os-volume_attachments. Other actions Nefos lacks (readonly flag, upload to image,
retype, ...) are Cinder's 400 naming the action.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.volume.api.base import CinderView, body_of, metadata_of
from compute.volume.api.volumes import get_volume
from compute.volume.models import Volume
from compute.volume.services import volumes
from portal.errors import ValidationFailed

# Nova's side of the attach protocol: attach and detach go through the server instead.
NOVA_PROTOCOL = (
    "os-attach",
    "os-detach",
    "os-reserve",
    "os-unreserve",
    "os-begin_detaching",
    "os-roll_detaching",
    "os-initialize_connection",
    "os-terminate_connection",
)
READ_ACTIONS = ("os-show_image_metadata",)
_TRUE = ("true", "1", "yes", "on", "y", "t")
_FALSE = ("false", "0", "no", "off", "n", "f")


def _flag(args: Any, key: str, action: str) -> bool:
    """A boolean argument as Cinder reads it (a JSON boolean or a boolean word), else its 400."""
    value = args.get(key) if isinstance(args, dict) else None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ValidationFailed(f"Invalid input for field/attribute {key}. {action} needs a boolean '{key}'.")


def _action(name: str, args: Any, volume: Volume, view: CinderView) -> Response:
    if name == "os-extend":
        if not isinstance(args, dict) or "new_size" not in args:
            raise ValidationFailed("Invalid input for field/attribute os-extend. 'new_size' is a required property")
        volumes.extend_volume(volume, args["new_size"], actor=view.actor)
        return Response(status=202)
    if name == "os-set_bootable":
        volumes.set_bootable(volume, _flag(args, "bootable", name), actor=view.actor)
        return Response(status=200)
    if name == "os-set_image_metadata":
        values = metadata_of(args.get("metadata") if isinstance(args, dict) else None)
        volume = volumes.set_image_metadata(volume, values, actor=view.actor)
        return Response({"metadata": dict(volume.image_metadata)})
    if name == "os-unset_image_metadata":
        key = args.get("key") if isinstance(args, dict) else None
        if not isinstance(key, str) or not key:
            raise ValidationFailed("Invalid input for field/attribute key. os-unset_image_metadata needs a 'key'.")
        volumes.unset_image_metadata(volume, key, actor=view.actor)
        return Response(status=200)
    if name == "os-show_image_metadata":
        return Response({"metadata": dict(volume.image_metadata)})
    if name in NOVA_PROTOCOL:
        raise ValidationFailed(
            f"Invalid input received: {name} is not offered: attach and detach volumes through the server "
            "(Nova's os-volume_attachments, `openstack server add volume`)."
        )
    raise ValidationFailed(f"Invalid input received: There is no such action: {name}")


class ActionView(CinderView):
    """`POST /volume/v3/{project_id}/volumes/{volume_id}/action`."""

    def reads_only(self, request: Request) -> bool:
        """Showing the image metadata is a POST that changes nothing: readers may send it."""
        data = request.data
        return isinstance(data, dict) and len(data) == 1 and next(iter(data)) in READ_ACTIONS

    def post(self, request: Request, project_id: str, volume_id: str) -> Response:
        """Run one action."""
        volume = get_volume(self, volume_id)
        data = body_of(request)
        if len(data) != 1:
            raise ValidationFailed("Invalid request body: exactly one action is required.")
        name, args = next(iter(data.items()))
        return _action(name, args, volume, self)
