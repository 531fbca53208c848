"""`/v2.0/networks`: list (filters, sorting, paging), create (also bulk), show, update, delete."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.network.models import Network
from compute.network.services import networks as service

from . import render
from .base import (
    READ_ONLY,
    STANDARD,
    Attr,
    NeutronView,
    all_or_nothing,
    boolean,
    entities,
    entity,
    get_visible,
    integer,
    nullable,
    owner_project,
    parse_entity,
    require_owner,
    string,
)
from .listing import Filter, Listing, paged, shown, uuid_filter
from .listing import boolean as bool_filter
from .listing import integer as int_filter

ATTRS = {
    **STANDARD,
    "name": Attr(string()),
    "admin_state_up": Attr(boolean),
    "status": READ_ONLY,
    "subnets": READ_ONLY,
    "shared": Attr(boolean, admin=True),
    "router:external": Attr(boolean, admin=True, dest="external"),
    "is_default": Attr(boolean, admin=True),
    "mtu": Attr(integer),
    "port_security_enabled": Attr(boolean),
    "provider:network_type": Attr(nullable(string(16)), update=False, admin=True, dest="network_type"),
    "provider:physical_network": Attr(nullable(string(64)), update=False, admin=True, dest="physical_network"),
    "provider:segmentation_id": Attr(nullable(integer), update=False, admin=True, dest="segmentation_id"),
}

LISTING = Listing(
    collection="networks",
    kind="network",
    filters={
        "id": Filter("pk", uuid_filter),
        "name": Filter("name"),
        "description": Filter("description"),
        "status": Filter("status"),
        "admin_state_up": Filter("admin_state_up", bool_filter),
        "shared": Filter("shared", bool_filter),
        "router:external": Filter("external", bool_filter),
        "is_default": Filter("is_default", bool_filter),
        "mtu": Filter("mtu", int_filter),
        "port_security_enabled": Filter("port_security_enabled", bool_filter),
        "project_id": Filter("project_id"),
        "tenant_id": Filter("project_id"),
        "provider:network_type": Filter("network_type"),
        "provider:physical_network": Filter("physical_network"),
        "provider:segmentation_id": Filter("segmentation_id", int_filter),
        "revision_number": Filter("revision_number", int_filter),
    },
    sort_keys={
        "id": "pk",
        "name": "name",
        "description": "description",
        "status": "status",
        "admin_state_up": "admin_state_up",
        "shared": "shared",
        "router:external": "external",
        "mtu": "mtu",
        "project_id": "project_id",
        "tenant_id": "project_id",
        "created_at": "created_at",
        "updated_at": "updated_at",
    },
)


def _spec(fields: dict[str, Any]) -> service.NetworkSpec:
    """The service's spec from checked attributes (None for an optional attribute means its default)."""
    return service.NetworkSpec(
        name=fields.get("name", ""),
        description=fields.get("description", ""),
        admin_state_up=fields.get("admin_state_up", True),
        shared=fields.get("shared", False),
        external=fields.get("external", False),
        is_default=fields.get("is_default", False),
        mtu=fields.get("mtu"),
        port_security_enabled=fields.get("port_security_enabled", True),
        network_type=fields.get("network_type") or "",
        physical_network=fields.get("physical_network") or "",
        segmentation_id=fields.get("segmentation_id"),
    )


class NetworksView(NeutronView):
    """`GET /networks`, `POST /networks`."""

    def get(self, request: Request) -> Response:
        """List the networks visible to the caller."""
        ctx = self.ctx()
        queryset = render.prefetched_networks(Network.objects.visible_to(ctx))
        return Response(paged(request, queryset, LISTING, lambda n: render.network(n, ctx)))

    def post(self, request: Request) -> Response:
        """Create one network, or several (`{"networks": [...]}`) in one transaction."""
        ctx = self.ctx()
        items, bulk = entities(request, "network", "networks")
        with all_or_nothing(bulk):
            created = []
            for item in items:
                fields = parse_entity(item, ATTRS, ctx=ctx, creating=True, resource="network")
                created.append(service.create_network(owner_project(ctx, item), _spec(fields), actor=self.actor))
        rendered = [render.network(n, ctx) for n in created]
        return Response({"networks": rendered} if bulk else {"network": rendered[0]}, status=201)


class NetworkView(NeutronView):
    """`GET/PUT/DELETE /networks/{id}`."""

    def get(self, request: Request, network_id: str) -> Response:
        """Show one network."""
        ctx = self.ctx()
        network = get_visible(render.prefetched_networks(Network.objects.visible_to(ctx)), network_id, "network")
        return Response(shown(request, "network", render.network(network, ctx)))

    def put(self, request: Request, network_id: str) -> Response:
        """Update name, description, state, MTU, port security, and (admin) sharing/external flags."""
        ctx = self.ctx()
        network = get_visible(Network.objects.visible_to(ctx), network_id, "network")
        require_owner(ctx, network, "update_network")
        fields = parse_entity(entity(request, "network"), ATTRS, ctx=ctx, creating=False, resource="network")
        network = service.update_network(network, fields, actor=self.actor)
        network = render.prefetched_networks(Network.objects.filter(pk=network.pk)).get()
        return Response({"network": render.network(network, ctx)})

    def delete(self, request: Request, network_id: str) -> Response:
        """Delete a network without ports (its subnets go with it)."""
        ctx = self.ctx()
        network = get_visible(Network.objects.visible_to(ctx), network_id, "network")
        require_owner(ctx, network, "delete_network")
        service.delete_network(network, actor=self.actor)
        return Response(status=204)
