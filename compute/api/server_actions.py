"""`POST /servers/{id}/action` and `POST /servers/{id}/remote-consoles` (2.6+).

ACTIONS maps each action name to its handler (an explicit table, no name lookup): os-start,
os-stop, reboot, resize, confirmResize, revertResize, createImage (202: a worker makes the image,
services/snapshots.py; 409 on clusters that cannot read disks), createBackup (the same copy, then
the server's older backups of that type rotated out), os-getVNCConsole (2.1-2.5), lock,
unlock, addSecurityGroup, removeSecurityGroup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.api import validation as check
from compute.api.base import NovaView, body_of, compute_root, entity, no_content
from compute.api.servers import _fetch
from compute.models import Server
from compute.services import actions, server_data, snapshots
from identity.api.keystone.render import base_url
from portal.errors import NotFound, ValidationFailed

VNC_TYPES = ("novnc", "xvpvnc")


def _null(name: str, args: Any) -> None:
    """Actions without arguments take null or an empty object (tempest's clients send `{}`, as Nova accepts)."""
    if args is not None and args != {}:
        raise check.invalid(name, args, f"{args!r} is not of type 'null'")


def _start(view: ServerActionView, server: Server, args: Any) -> Response:
    _null("os-start", args)
    actions.start_server(server, is_admin=view.ctx().is_admin, actor=view.actor)
    return no_content(202)


def _stop(view: ServerActionView, server: Server, args: Any) -> Response:
    _null("os-stop", args)
    actions.stop_server(server, is_admin=view.ctx().is_admin, actor=view.actor)
    return no_content(202)


def _reboot(view: ServerActionView, server: Server, args: Any) -> Response:
    if not isinstance(args, dict) or set(args) != {"type"}:
        raise check.invalid("reboot", args, "'type' is a required property")
    kind = args["type"]
    if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
        raise check.invalid("type", kind, "It must be SOFT or HARD")
    actions.reboot_server(server, hard=kind.upper() == "HARD", is_admin=view.ctx().is_admin, actor=view.actor)
    return no_content(202)


def _resize(view: ServerActionView, server: Server, args: Any) -> Response:
    if not isinstance(args, dict) or "flavorRef" not in args:
        raise check.invalid("resize", args, "'flavorRef' is a required property")
    unknown = sorted(set(args) - {"flavorRef", "OS-DCF:diskConfig"})
    if unknown:
        raise ValidationFailed(f"Additional properties are not allowed ({', '.join(unknown)} was unexpected)")
    ref = args["flavorRef"]
    if isinstance(ref, bool) or not isinstance(ref, str | int) or ref == "":
        raise check.invalid("flavorRef", ref, "It must be a flavor id or link")
    actions.resize_server(server, str(ref), ctx=view.ctx(), actor=view.actor)
    return no_content(202)


def _confirm(view: ServerActionView, server: Server, args: Any) -> Response:
    _null("confirmResize", args)
    actions.confirm_resize(server, is_admin=view.ctx().is_admin, actor=view.actor)
    return no_content(204)


def _revert(view: ServerActionView, server: Server, args: Any) -> Response:
    _null("revertResize", args)
    actions.revert_resize(server, is_admin=view.ctx().is_admin, actor=view.actor)
    return no_content(202)


def _create_image(view: ServerActionView, server: Server, args: Any) -> Response:
    if not isinstance(args, dict) or "name" not in args:
        raise check.invalid("createImage", args, "'name' is a required property")
    unknown = sorted(set(args) - {"name", "metadata"})
    if unknown:
        raise ValidationFailed(f"Additional properties are not allowed ({', '.join(unknown)} was unexpected)")
    check.name("name", args["name"])
    metadata = args.get("metadata", {})
    check.metadata("metadata", metadata)
    image = snapshots.create_image(server, name=args["name"], metadata=metadata, ctx=view.ctx(), actor=view.actor)
    if view.v("create_image_body"):
        return Response({"image_id": image.id}, status=202)
    response = no_content(202)
    response["Location"] = f"{base_url(view.request)}/image/v2/images/{image.id}"
    return response


def _create_backup(view: ServerActionView, server: Server, args: Any) -> Response:
    """createBackup: name, backup_type, rotation (>= 0) and optional metadata, as Nova's schema."""
    if not isinstance(args, dict):
        raise check.invalid("createBackup", args, f"{args!r} is not of type 'object'")
    for required in ("name", "backup_type", "rotation"):
        if required not in args:
            raise check.invalid("createBackup", args, f"'{required}' is a required property")
    unknown = sorted(set(args) - {"name", "backup_type", "rotation", "metadata"})
    if unknown:
        raise ValidationFailed(f"Additional properties are not allowed ({', '.join(unknown)} was unexpected)")
    check.name("name", args["name"])
    backup_type = args["backup_type"]
    if not isinstance(backup_type, str):
        raise check.invalid("backup_type", backup_type, f"{backup_type!r} is not of type 'string'")
    rotation = check.integer("rotation", args["rotation"], minimum=0)
    metadata = args.get("metadata", {})
    check.metadata("metadata", metadata)
    image = snapshots.create_backup(
        server,
        name=args["name"],
        backup_type=backup_type,
        rotation=rotation,
        metadata=metadata,
        ctx=view.ctx(),
        actor=view.actor,
    )
    if view.v("create_image_body"):
        return Response({"image_id": image.id}, status=202)
    response = no_content(202)
    if rotation > 0:  # Nova names the backup only when the rotation keeps it
        response["Location"] = f"{compute_root(view.request)}/v2.1/images/{image.id}"
    return response


def _security_group(add: bool) -> Handler:
    """addSecurityGroup / removeSecurityGroup: `{"name": <group name or id>}`."""
    action = "addSecurityGroup" if add else "removeSecurityGroup"

    def handle(view: ServerActionView, server: Server, args: Any) -> Response:
        if not isinstance(args, dict) or set(args) != {"name"}:
            raise check.invalid(action, args, "'name' is a required property")
        name = args["name"]
        if not isinstance(name, str) or not name.strip():
            raise check.invalid("name", name, "It must be a security group name or id")
        server_data.change_security_group(server, name, add=add, is_admin=view.ctx().is_admin, actor=view.actor)
        return no_content(202)

    return handle


def _vnc(view: ServerActionView, server: Server, args: Any) -> Response:
    if view.v("remote_consoles"):
        raise NotFound("The resource could not be found.")
    if not isinstance(args, dict) or args.get("type") not in VNC_TYPES:
        raise ValidationFailed("Invalid input for field/attribute type. It must be novnc or xvpvnc")
    url = actions.console_url(server, kind=args["type"], is_admin=view.ctx().is_admin, base=base_url(view.request))
    return Response({"console": {"type": args["type"], "url": url}})


def _lock(view: ServerActionView, server: Server, args: Any) -> Response:
    _null("lock", args)
    actions.lock(server, ctx=view.ctx(), actor=view.actor)
    return no_content(202)


def _unlock(view: ServerActionView, server: Server, args: Any) -> Response:
    _null("unlock", args)
    actions.unlock(server, ctx=view.ctx(), actor=view.actor)
    return no_content(202)


Handler = Callable[["ServerActionView", Server, Any], Response]
ACTIONS: dict[str, Handler] = {
    "os-start": _start,
    "os-stop": _stop,
    "reboot": _reboot,
    "resize": _resize,
    "confirmResize": _confirm,
    "revertResize": _revert,
    "createImage": _create_image,
    "createBackup": _create_backup,
    "os-getVNCConsole": _vnc,
    "lock": _lock,
    "unlock": _unlock,
    "addSecurityGroup": _security_group(add=True),
    "removeSecurityGroup": _security_group(add=False),
}


class ServerActionView(NovaView):
    """`POST /servers/{id}/action`."""

    def post(self, request: Request, server_id: str) -> Response:
        """Run one action on a server (a missing or foreign server is a 404 whatever the action, as in Nova)."""
        data = body_of(request)
        server = _fetch(self, server_id)
        if len(data) != 1:
            raise ValidationFailed(f"There is no such action: {', '.join(map(str, data)) or 'None'}")
        name, args = next(iter(data.items()))
        handler = ACTIONS.get(name)
        if handler is None:
            raise ValidationFailed(f"There is no such action: {name}")
        return handler(self, server, args)


class RemoteConsolesView(NovaView):
    """`POST /servers/{id}/remote-consoles` (2.6+): a noVNC console link."""

    since = "remote_consoles"

    def post(self, request: Request, server_id: str) -> Response:
        """Create a console link (protocol vnc, type novnc)."""
        data = entity(request, "remote_console")
        protocol, kind = data.get("protocol"), data.get("type")
        if protocol not in ("vnc", "spice", "rdp", "serial", "mks"):
            raise check.invalid("protocol", protocol, "It must be vnc, spice, rdp, serial or mks")
        if protocol != "vnc" or kind not in VNC_TYPES:
            raise ValidationFailed(f"Unavailable console type {kind}.")
        server = _fetch(self, server_id)
        url = actions.console_url(server, kind=kind, is_admin=self.ctx().is_admin, base=base_url(request))
        return Response({"remote_console": {"protocol": protocol, "type": kind, "url": url}})
