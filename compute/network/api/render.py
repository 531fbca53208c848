"""Neutron v2.0 JSON shapes of networks, subnets, ports, floating IPs, security groups and rules.

Each function takes a model (with the relations its queryset prefetched, see `prefetched_*`) and
returns the dict Neutron would. Admin-only attributes (provider:*, binding details) appear only
for admins, as with Neutron's default policy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import models

from compute.network.models import FloatingIP, Network, Port, SecurityGroup, SecurityGroupRule, Subnet
from compute.network.services.security_groups import normalized_cidr
from identity.tokens import TokenContext


def stamp(when: datetime) -> str:
    """Neutron's timestamp form: `2026-11-27T10:00:00Z`."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _standard(obj: Any) -> dict[str, Any]:
    return {
        "id": str(obj.pk),
        "project_id": obj.project_id,
        "tenant_id": obj.project_id,
        "description": obj.description,
        "created_at": stamp(obj.created_at),
        "updated_at": stamp(obj.updated_at),
        "revision_number": obj.revision_number,
    }


def prefetched_networks(queryset: models.QuerySet[Network]) -> models.QuerySet[Network]:
    """What `network` reads: subnet ids."""
    return queryset.prefetch_related(models.Prefetch("subnets", queryset=Subnet.objects.only("id", "network_id")))


def network(obj: Network, ctx: TokenContext) -> dict[str, Any]:
    """A network."""
    body = {
        **_standard(obj),
        "name": obj.name,
        "admin_state_up": obj.admin_state_up,
        "status": obj.status,
        "shared": obj.shared,
        "router:external": obj.external,
        "is_default": obj.is_default,
        "mtu": obj.mtu,
        "port_security_enabled": obj.port_security_enabled,
        "subnets": [str(s.pk) for s in obj.subnets.all()],
    }
    if ctx.is_admin:
        body["provider:network_type"] = obj.network_type or None
        body["provider:physical_network"] = obj.physical_network or None
        body["provider:segmentation_id"] = obj.segmentation_id
    return body


def subnet(obj: Subnet) -> dict[str, Any]:
    """A subnet."""
    return {
        **_standard(obj),
        "name": obj.name,
        "network_id": str(obj.network_id),
        "ip_version": obj.ip_version,
        "cidr": obj.cidr,
        "gateway_ip": obj.gateway_ip,
        "enable_dhcp": obj.enable_dhcp,
        "allocation_pools": obj.allocation_pools,
        "dns_nameservers": obj.dns_nameservers,
        "host_routes": obj.host_routes,
        "ipv6_ra_mode": obj.ipv6_ra_mode,
        "ipv6_address_mode": obj.ipv6_address_mode,
        "subnetpool_id": None,
        "service_types": [],
        "router:external": obj.network.external,  # the subnet-external-network extension
    }


def prefetched_ports(queryset: models.QuerySet[Port]) -> models.QuerySet[Port]:
    """What `port` reads: allocations and security group ids."""
    return queryset.prefetch_related(
        "allocations", models.Prefetch("security_groups", SecurityGroup.objects.only("id"))
    )


def _bound(obj: Port) -> bool:
    return bool(obj.device_id) and obj.status == "ACTIVE"


def port(obj: Port, ctx: TokenContext) -> dict[str, Any]:
    """A port."""
    body = {
        **_standard(obj),
        "name": obj.name,
        "network_id": str(obj.network_id),
        "mac_address": obj.mac_address,
        "admin_state_up": obj.admin_state_up,
        "status": obj.status,
        "device_id": obj.device_id,
        "device_owner": obj.device_owner,
        "fixed_ips": [
            {"subnet_id": str(a.subnet_id), "ip_address": a.ip_address}
            for a in sorted(obj.allocations.all(), key=lambda a: a.pk)
        ],
        "security_groups": [str(g.pk) for g in obj.security_groups.all()],
        "port_security_enabled": obj.port_security_enabled,
        "allowed_address_pairs": obj.allowed_address_pairs,
        "binding:vnic_type": obj.binding_vnic_type,
    }
    if ctx.is_admin:
        body["binding:host_id"] = obj.binding_host_id
        body["binding:profile"] = obj.binding_profile
        body["binding:vif_type"] = "bridge" if _bound(obj) else "unbound"
        body["binding:vif_details"] = {}
    return body


def floating_ip(obj: FloatingIP) -> dict[str, Any]:
    """A floating IP (there are no routers: router_id is always null)."""
    return {
        **_standard(obj),
        "floating_network_id": str(obj.floating_network_id),
        "floating_ip_address": obj.floating_ip_address,
        "port_id": str(obj.port_id) if obj.port_id else None,
        "fixed_ip_address": obj.fixed_ip_address,
        "router_id": None,
        "status": obj.status,
    }


def prefetched_groups(queryset: models.QuerySet[SecurityGroup]) -> models.QuerySet[SecurityGroup]:
    """What `security_group` reads: its rules."""
    return queryset.prefetch_related(
        models.Prefetch("rules", SecurityGroupRule.objects.select_related("security_group"))
    )


def security_group(obj: SecurityGroup) -> dict[str, Any]:
    """A security group with its rules."""
    return {
        **_standard(obj),
        "name": obj.name,
        "stateful": obj.stateful,
        "shared": False,
        "security_group_rules": [rule(r) for r in obj.rules.all()],
    }


def rule(obj: SecurityGroupRule) -> dict[str, Any]:
    """A security group rule."""
    return {
        **_standard(obj),
        "security_group_id": str(obj.security_group_id),
        "direction": obj.direction,
        "ethertype": obj.ethertype,
        "protocol": obj.protocol,
        "port_range_min": obj.port_range_min,
        "port_range_max": obj.port_range_max,
        "remote_ip_prefix": obj.remote_ip_prefix,
        "normalized_cidr": normalized_cidr(obj),
        "remote_group_id": str(obj.remote_group_id) if obj.remote_group_id else None,
        "remote_address_group_id": None,
        "belongs_to_default_sg": obj.security_group.is_default,
    }
