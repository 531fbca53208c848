"""Nova's `os-instance-actions` (2.1-2.47 shapes): a server's actions, and one action's details.

The actions come from the audit log (`compute.services.instance_actions`). Before 2.21 only live
servers have actions to show; from 2.21 deleted ones too. Events are shown to admins only, with
their traceback (Nova's default policy before 2.51); others see the action without `events`, as
does an action no backend job did the work of.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.api.base import NovaView, iso_usec
from compute.models import Server
from compute.services import instance_actions
from compute.services.instance_actions import InstanceAction
from compute.services.servers import get_server, server_pk, visible_servers
from portal.errors import NotFound


def _action(action: InstanceAction) -> dict[str, Any]:
    return {
        "action": action.action,
        "instance_uuid": action.instance_uuid,
        "request_id": action.request_id,
        "user_id": action.user_id,
        "project_id": action.project_id,
        "start_time": iso_usec(action.start_time),
        "message": action.message,
    }


def _events(action: InstanceAction) -> list[dict[str, Any]]:
    return [
        {
            "event": event.event,
            "start_time": iso_usec(event.start_time),
            "finish_time": iso_usec(event.finish_time),
            "result": event.result,
            "traceback": event.traceback,
        }
        for event in action.events
    ]


class _ActionsView(NovaView):
    def server(self, server_id: str) -> Server:
        """The server (a deleted one too from 2.21), in the caller's reach; Nova's 404 otherwise."""
        ctx = self.ctx()
        if not self.v("deleted_server_actions"):
            return get_server(ctx, server_id)
        server = visible_servers(ctx).filter(pk=server_pk(server_id)).first()
        if server is None:
            raise NotFound(f"Instance {server_id} could not be found.")
        return server


class InstanceActionsView(_ActionsView):
    """`GET /servers/{id}/os-instance-actions`."""

    def get(self, request: Request, server_id: str) -> Response:
        """The server's actions, newest first."""
        actions = instance_actions.list_actions(self.server(server_id))
        return Response({"instanceActions": [_action(a) for a in actions]})


class InstanceActionView(_ActionsView):
    """`GET /servers/{id}/os-instance-actions/{request_id}`."""

    def get(self, request: Request, server_id: str, request_id: str) -> Response:
        """One action (with its events for admins)."""
        action = instance_actions.get_action(self.server(server_id), request_id)
        if action is None:
            raise NotFound(f"Action {request_id} not found")
        body = _action(action)
        if self.ctx().is_admin and action.events:
            body["events"] = _events(action)
        return Response({"instanceAction": body})
