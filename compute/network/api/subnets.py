"""`/v2.0/subnets`: list, create (also bulk), show, update, delete. There are no subnet pools: a CIDR is required."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from compute.network.models import Network, Subnet
from compute.network.services import subnets as service
from compute.network.services.faults import bad_request
from identity.tokens import TokenContext

from . import render
from .base import (
    OWNER_KEYS,
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
    json_list,
    nullable,
    owner_project,
    parse_entity,
    require_owner,
    string,
    uuid_value,
)
from .listing import Filter, Listing, paged, shown, uuid_filter
from .listing import boolean as bool_filter
from .listing import integer as int_filter

ATTRS = {
    **STANDARD,
    "name": Attr(string()),
    "network_id": Attr(uuid_value, update=False),
    "ip_version": Attr(integer, update=False),
    "cidr": Attr(string(64), update=False),
    "gateway_ip": Attr(nullable(string(64))),
    "allocation_pools": Attr(json_list),
    "enable_dhcp": Attr(boolean),
    "dns_nameservers": Attr(json_list),
    "host_routes": Attr(json_list),
    "ipv6_ra_mode": Attr(nullable(string(32)), update=False),
    "ipv6_address_mode": Attr(nullable(string(32)), update=False),
    "subnetpool_id": Attr(nullable(string(64)), update=False),
    "use_default_subnetpool": Attr(boolean, update=False),
    "prefixlen": Attr(integer, update=False),
    "service_types": READ_ONLY,
    "segment_id": READ_ONLY,
}

LISTING = Listing(
    collection="subnets",
    kind="subnet",
    filters={
        "id": Filter("pk", uuid_filter),
        "name": Filter("name"),
        "description": Filter("description"),
        "network_id": Filter("network_id", uuid_filter),
        "ip_version": Filter("ip_version", int_filter),
        "cidr": Filter("cidr"),
        "gateway_ip": Filter("gateway_ip"),
        "enable_dhcp": Filter("enable_dhcp", bool_filter),
        "ipv6_ra_mode": Filter("ipv6_ra_mode"),
        "ipv6_address_mode": Filter("ipv6_address_mode"),
        "project_id": Filter("project_id"),
        "tenant_id": Filter("project_id"),
        "revision_number": Filter("revision_number", int_filter),
        "router:external": Filter("network__external", bool_filter),
    },
    sort_keys={
        "id": "pk",
        "name": "name",
        "description": "description",
        "network_id": "network_id",
        "ip_version": "ip_version",
        "cidr": "cidr",
        "enable_dhcp": "enable_dhcp",
        "project_id": "project_id",
        "tenant_id": "project_id",
        "created_at": "created_at",
        "updated_at": "updated_at",
    },
)


def _create(ctx: TokenContext, item: dict[str, Any], actor: Any) -> Subnet:
    fields = parse_entity(item, ATTRS, ctx=ctx, creating=True, resource="subnet")
    if fields.get("subnetpool_id") or fields.get("use_default_subnetpool") or "prefixlen" in fields:
        raise bad_request("Bad subnets request: subnet pools are not supported; give a cidr.")
    if "network_id" not in fields:
        raise bad_request("Failed to parse request. Required attribute 'network_id' not specified")
    if "cidr" not in fields:
        raise bad_request("Bad subnets request: A cidr must be specified in the absence of a subnet pool.")
    network = get_visible(Network.objects.visible_to(ctx), fields["network_id"], "network")
    require_owner(ctx, network, "create_subnet")
    cidr = fields["cidr"]
    version = fields.get("ip_version", 6 if ":" in cidr else 4)
    spec = service.SubnetSpec(
        cidr=cidr,
        ip_version=version,
        name=fields.get("name", ""),
        description=fields.get("description", ""),
        gateway_ip=fields.get("gateway_ip", service.AUTO),
        allocation_pools=fields.get("allocation_pools"),
        enable_dhcp=fields.get("enable_dhcp", True),
        dns_nameservers=fields.get("dns_nameservers", []),
        host_routes=fields.get("host_routes", []),
        ipv6_ra_mode=fields.get("ipv6_ra_mode"),
        ipv6_address_mode=fields.get("ipv6_address_mode"),
    )
    named = any(item.get(key) is not None for key in OWNER_KEYS)
    # An admin adding a subnet to someone's network makes it theirs unless the body says otherwise.
    project = network.project if ctx.is_admin and not named else owner_project(ctx, item)
    return service.create_subnet(project, network, spec, actor=actor)


class SubnetsView(NeutronView):
    """`GET /subnets`, `POST /subnets`."""

    def get(self, request: Request) -> Response:
        """List the subnets visible to the caller."""
        visible = Subnet.objects.visible_to(self.ctx()).select_related("network")
        return Response(paged(request, visible, LISTING, render.subnet))

    def post(self, request: Request) -> Response:
        """Create one subnet, or several (`{"subnets": [...]}`) in one transaction."""
        ctx = self.ctx()
        items, bulk = entities(request, "subnet", "subnets")
        with all_or_nothing(bulk):
            created = [_create(ctx, item, self.actor) for item in items]
        rendered = [render.subnet(s) for s in created]
        return Response({"subnets": rendered} if bulk else {"subnet": rendered[0]}, status=201)


class SubnetView(NeutronView):
    """`GET/PUT/DELETE /subnets/{id}`."""

    def get(self, request: Request, subnet_id: str) -> Response:
        """Show one subnet."""
        subnet = get_visible(Subnet.objects.visible_to(self.ctx()), subnet_id, "subnet")
        return Response(shown(request, "subnet", render.subnet(subnet)))

    def put(self, request: Request, subnet_id: str) -> Response:
        """Update name, description, gateway, pools, DHCP flag, DNS servers, host routes."""
        ctx = self.ctx()
        subnet = get_visible(Subnet.objects.visible_to(ctx), subnet_id, "subnet")
        require_owner(ctx, subnet, "update_subnet")
        fields = parse_entity(entity(request, "subnet"), ATTRS, ctx=ctx, creating=False, resource="subnet")
        return Response({"subnet": render.subnet(service.update_subnet(subnet, fields, actor=self.actor))})

    def delete(self, request: Request, subnet_id: str) -> Response:
        """Delete a subnet no port uses."""
        ctx = self.ctx()
        subnet = get_visible(Subnet.objects.visible_to(ctx), subnet_id, "subnet")
        require_owner(ctx, subnet, "delete_subnet")
        service.delete_subnet(subnet, actor=self.actor)
        return Response(status=204)
