"""`/v2.0/ports`: list (incl. `fixed_ips=ip_address=...` filters), create (also bulk), show, update, delete.

Policy as Neutron's defaults: anyone may plug a port into their own or a shared network; choosing a
MAC or a specific address needs the network's owner or an admin; `binding:host_id` and
`binding:profile` are admin-only.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from rest_framework.request import Request
from rest_framework.response import Response

from compute.network.models import IPAllocation, Network, Port
from compute.network.services import ports as service
from compute.network.services.faults import bad_request, policy
from identity.models import Project
from identity.tokens import TokenContext

from . import render
from .base import (
    READ_ONLY,
    STANDARD,
    Attr,
    NeutronView,
    boolean,
    entities,
    entity,
    get_visible,
    json_dict,
    json_list,
    owner_project,
    owns,
    parse_entity,
    require_owner,
    string,
    uuid_value,
)
from .listing import Filter, Listing, paged, shown, uuid_filter
from .listing import boolean as bool_filter
from .listing import integer as int_filter

VNIC_TYPES = ("normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder", "smart-nic", "vdpa",
              "remote-managed")  # fmt: skip

ATTRS = {
    **STANDARD,
    "name": Attr(string()),
    "network_id": Attr(uuid_value, update=False),
    "admin_state_up": Attr(boolean),
    "mac_address": Attr(string(17)),
    "fixed_ips": Attr(json_list),
    "device_id": Attr(string()),
    "device_owner": Attr(string()),
    "security_groups": Attr(json_list, dest="security_group_ids"),
    "port_security_enabled": Attr(boolean),
    "allowed_address_pairs": Attr(json_list),
    "binding:host_id": Attr(string(), admin=True, dest="binding_host_id"),
    "binding:vnic_type": Attr(string(32), dest="binding_vnic_type"),
    "binding:profile": Attr(json_dict, admin=True, dest="binding_profile"),
    "binding:vif_type": READ_ONLY,
    "binding:vif_details": READ_ONLY,
    "status": READ_ONLY,
}


def _fixed_ips_filter(queryset: models.QuerySet, values: list[str]) -> models.QuerySet:
    """`fixed_ips=ip_address=X` / `fixed_ips=subnet_id=Y`: ports with an allocation matching all given."""
    allocations = IPAllocation.objects.filter(port__isnull=False)
    for value in values:
        key, _, wanted = value.partition("=")
        if key == "ip_address":
            allocations = allocations.filter(ip_address=wanted)
        elif key == "subnet_id":
            try:
                allocations = allocations.filter(subnet_id=uuid.UUID(wanted))
            except ValueError:
                return queryset.none()
        else:
            raise bad_request(f"Invalid input for operation: invalid fixed_ips filter '{value}'.")
    return queryset.filter(pk__in=allocations.values("port_id"))


def _groups_filter(queryset: models.QuerySet, values: list[str]) -> models.QuerySet:
    ids = [v for v in (uuid_filter(value) for value in values) if v is not None]
    return queryset.filter(
        pk__in=Port.security_groups.through.objects.filter(securitygroup_id__in=ids).values("port_id")
    )


LISTING = Listing(
    collection="ports",
    kind="port",
    filters={
        "id": Filter("pk", uuid_filter),
        "name": Filter("name"),
        "description": Filter("description"),
        "network_id": Filter("network_id", uuid_filter),
        "mac_address": Filter("mac_address"),
        "device_id": Filter("device_id"),
        "device_owner": Filter("device_owner"),
        "status": Filter("status"),
        "admin_state_up": Filter("admin_state_up", bool_filter),
        "port_security_enabled": Filter("port_security_enabled", bool_filter),
        "project_id": Filter("project_id"),
        "tenant_id": Filter("project_id"),
        "binding:host_id": Filter("binding_host_id"),
        "binding:vnic_type": Filter("binding_vnic_type"),
        "revision_number": Filter("revision_number", int_filter),
    },
    sort_keys={
        "id": "pk",
        "name": "name",
        "description": "description",
        "network_id": "network_id",
        "mac_address": "mac_address",
        "device_id": "device_id",
        "device_owner": "device_owner",
        "status": "status",
        "admin_state_up": "admin_state_up",
        "project_id": "project_id",
        "tenant_id": "project_id",
        "created_at": "created_at",
        "updated_at": "updated_at",
    },
    special={"fixed_ips": _fixed_ips_filter, "security_groups": _groups_filter},
)


def _fixed_ips(value: list[Any]) -> tuple[service.FixedIP, ...]:
    """`fixed_ips` request entries as the service's FixedIP values."""
    result = []
    for item in value:
        if not isinstance(item, dict) or not item or set(item) - {"subnet_id", "ip_address"}:
            raise bad_request(f"Invalid input for fixed_ips. Reason: Invalid data format for fixed IP: '{item}'.")
        subnet_id = uuid_value("fixed_ips", item["subnet_id"]) if item.get("subnet_id") is not None else None
        address = item.get("ip_address")
        if address is not None and not isinstance(address, str):
            raise bad_request(f"Invalid input for fixed_ips. Reason: '{address}' is not a valid IP address.")
        result.append(service.FixedIP(subnet_id=subnet_id, ip_address=address))
    return tuple(result)


def _group_ids(value: list[Any]) -> tuple[uuid.UUID, ...]:
    return tuple(uuid_value("security_groups", v) for v in value)


def _convert(fields: dict[str, Any]) -> dict[str, Any]:
    """Turn checked JSON attributes into the service's values."""
    if "fixed_ips" in fields:
        fields["fixed_ips"] = _fixed_ips(fields["fixed_ips"])
    if "security_group_ids" in fields:
        fields["security_group_ids"] = _group_ids(fields["security_group_ids"] or [])
    vnic = fields.get("binding_vnic_type")
    if vnic is not None and vnic not in VNIC_TYPES:
        raise bad_request(f"Invalid input for binding:vnic_type. Reason: '{vnic}' is not in {list(VNIC_TYPES)}.")
    return fields


def _network_policy(ctx: TokenContext, network: Network, fields: dict[str, Any]) -> None:
    """Who may plug into `network`, and who may choose MACs and addresses on it."""
    owner = owns(ctx, network)
    if not owner and not network.shared:
        raise policy("rule:create_port and rule:create_port:network_id")
    if not owner and "mac_address" in fields:
        raise policy("rule:create_port:mac_address")
    if not owner and any(f.ip_address for f in fields.get("fixed_ips") or ()):
        raise policy("rule:create_port:fixed_ips:ip_address")


def _prepare(ctx: TokenContext, item: dict[str, Any]) -> tuple[Project, Network, service.PortSpec]:
    fields = _convert(parse_entity(item, ATTRS, ctx=ctx, creating=True, resource="port"))
    if "network_id" not in fields:
        raise bad_request("Failed to parse request. Required attribute 'network_id' not specified")
    network = get_visible(Network.objects.visible_to(ctx), fields.pop("network_id"), "network")
    _network_policy(ctx, network, fields)
    return owner_project(ctx, item), network, service.PortSpec(**fields)


def _rendered(ctx: TokenContext, ports: list[Port]) -> list[dict[str, Any]]:
    fresh = {p.pk: p for p in render.prefetched_ports(Port.objects.filter(pk__in=[p.pk for p in ports]))}
    return [render.port(fresh[p.pk], ctx) for p in ports]


class PortsView(NeutronView):
    """`GET /ports`, `POST /ports`."""

    def get(self, request: Request) -> Response:
        """List the ports visible to the caller."""
        ctx = self.ctx()
        queryset = render.prefetched_ports(Port.objects.visible_to(ctx))
        return Response(paged(request, queryset, LISTING, lambda p: render.port(p, ctx)))

    def post(self, request: Request) -> Response:
        """Create one port, or several (`{"ports": [...]}`) in one transaction."""
        ctx = self.ctx()
        items, bulk = entities(request, "port", "ports")
        created = service.create_ports([_prepare(ctx, item) for item in items], actor=self.actor)
        rendered = _rendered(ctx, created)
        return Response({"ports": rendered} if bulk else {"port": rendered[0]}, status=201)


class PortView(NeutronView):
    """`GET/PUT/DELETE /ports/{id}`."""

    def get(self, request: Request, port_id: str) -> Response:
        """Show one port."""
        ctx = self.ctx()
        port = get_visible(render.prefetched_ports(Port.objects.visible_to(ctx)), port_id, "port")
        return Response(shown(request, "port", render.port(port, ctx)))

    def put(self, request: Request, port_id: str) -> Response:
        """Update a port (fixed IPs, security groups, device, state, ...; the MAC only for admins)."""
        ctx = self.ctx()
        port = get_visible(Port.objects.visible_to(ctx).select_related("network"), port_id, "port")
        require_owner(ctx, port, "update_port")
        fields = _convert(parse_entity(entity(request, "port"), ATTRS, ctx=ctx, creating=False, resource="port"))
        if "mac_address" in fields and not ctx.is_admin:
            raise policy("rule:update_port:mac_address")
        if any(f.ip_address for f in fields.get("fixed_ips") or ()) and not owns(ctx, port.network):
            raise policy("rule:update_port:fixed_ips:ip_address")
        port = service.update_port(port, fields, actor=self.actor)
        return Response({"port": _rendered(ctx, [port])[0]})

    def delete(self, request: Request, port_id: str) -> Response:
        """Delete a port (its floating IPs are disassociated)."""
        ctx = self.ctx()
        port = get_visible(Port.objects.visible_to(ctx), port_id, "port")
        require_owner(ctx, port, "delete_port")
        service.delete_port(port, actor=self.actor)
        return Response(status=204)
