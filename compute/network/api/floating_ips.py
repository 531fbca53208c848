"""`/v2.0/floatingips`: list, allocate from an external network, associate/disassociate, release."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.network.models import FloatingIP, Network, Port, Subnet
from compute.network.services import floating_ips as service
from compute.network.services.faults import bad_request
from identity.tokens import TokenContext

from . import render
from .base import (
    READ_ONLY,
    STANDARD,
    Attr,
    NeutronView,
    entity,
    get_visible,
    nullable,
    owner_project,
    parse_entity,
    require_owner,
    string,
    uuid_value,
)
from .listing import Filter, Listing, paged, shown, uuid_filter

ATTRS = {
    **STANDARD,
    "floating_network_id": Attr(uuid_value, update=False),
    "port_id": Attr(nullable(uuid_value)),
    "fixed_ip_address": Attr(nullable(string(64))),
    "floating_ip_address": Attr(nullable(string(64)), update=False, admin=True),
    "subnet_id": Attr(nullable(uuid_value), update=False),
    "status": READ_ONLY,
    "router_id": READ_ONLY,
}

LISTING = Listing(
    collection="floatingips",
    kind="floatingip",
    filters={
        "id": Filter("pk", uuid_filter),
        "description": Filter("description"),
        "floating_ip_address": Filter("floating_ip_address"),
        "floating_network_id": Filter("floating_network_id", uuid_filter),
        "port_id": Filter("port_id", uuid_filter),
        "fixed_ip_address": Filter("fixed_ip_address"),
        "status": Filter("status"),
        "project_id": Filter("project_id"),
        "tenant_id": Filter("project_id"),
    },
    sort_keys={
        "id": "pk",
        "description": "description",
        "floating_ip_address": "floating_ip_address",
        "floating_network_id": "floating_network_id",
        "status": "status",
        "project_id": "project_id",
        "tenant_id": "project_id",
        "created_at": "created_at",
        "updated_at": "updated_at",
    },
)


def _port(ctx: TokenContext, project_id: str, port_id: Any) -> Port | None:
    """The port to map to: one of the floating IP's project (admins may name any port of that project)."""
    if port_id is None:
        return None
    ports = Port.objects.visible_to(ctx).filter(project_id=project_id).select_related("network")
    return get_visible(ports, port_id, "port")


class FloatingIPsView(NeutronView):
    """`GET /floatingips`, `POST /floatingips`."""

    def get(self, request: Request) -> Response:
        """List the caller's floating IPs."""
        return Response(paged(request, FloatingIP.objects.visible_to(self.ctx()), LISTING, render.floating_ip))

    def post(self, request: Request) -> Response:
        """Allocate a floating IP from `floating_network_id` (optionally mapped to `port_id`)."""
        ctx = self.ctx()
        item = entity(request, "floatingip")
        fields = parse_entity(item, ATTRS, ctx=ctx, creating=True, resource="floatingip")
        if "floating_network_id" not in fields:
            raise bad_request("Failed to parse request. Required attribute 'floating_network_id' not specified")
        project = owner_project(ctx, item)
        network = get_visible(Network.objects.visible_to(ctx), fields["floating_network_id"], "network")
        subnet = None
        if fields.get("subnet_id") is not None:
            subnet = get_visible(Subnet.objects.visible_to(ctx), fields["subnet_id"], "subnet")
        fip = service.create_floating_ip(
            project,
            network,
            actor=self.actor,
            port=_port(ctx, project.pk, fields.get("port_id")),
            fixed_ip_address=fields.get("fixed_ip_address"),
            floating_ip_address=fields.get("floating_ip_address"),
            subnet=subnet,
            description=fields.get("description", ""),
        )
        return Response({"floatingip": render.floating_ip(fip)}, status=201)


class FloatingIPView(NeutronView):
    """`GET/PUT/DELETE /floatingips/{id}`."""

    def get(self, request: Request, fip_id: str) -> Response:
        """Show one floating IP."""
        fip = get_visible(FloatingIP.objects.visible_to(self.ctx()), fip_id, "floatingip")
        return Response(shown(request, "floatingip", render.floating_ip(fip)))

    def put(self, request: Request, fip_id: str) -> Response:
        """Associate (`port_id`), disassociate (`port_id: null`) or re-describe."""
        ctx = self.ctx()
        fip = get_visible(FloatingIP.objects.visible_to(ctx), fip_id, "floatingip")
        require_owner(ctx, fip, "update_floatingip")
        fields = parse_entity(entity(request, "floatingip"), ATTRS, ctx=ctx, creating=False, resource="floatingip")
        changes: dict[str, Any] = {
            "fixed_ip_address": fields.get("fixed_ip_address"),
            "description": fields.get("description"),
        }
        if "port_id" in fields:
            changes["port"] = _port(ctx, fip.project_id, fields["port_id"])
        fip = service.update_floating_ip(fip, actor=self.actor, **changes)
        return Response({"floatingip": render.floating_ip(fip)})

    def delete(self, request: Request, fip_id: str) -> Response:
        """Release a floating IP."""
        ctx = self.ctx()
        fip = get_visible(FloatingIP.objects.visible_to(ctx), fip_id, "floatingip")
        require_owner(ctx, fip, "delete_floatingip")
        service.delete_floating_ip(fip, actor=self.actor)
        return Response(status=204)
