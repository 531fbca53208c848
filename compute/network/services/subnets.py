"""Subnets: IPv4/IPv6 CIDRs with validated gateway, allocation pools, DNS servers and host routes.

A new subnet must not overlap another on its network; the check runs under the network's row
lock, so two concurrent creates cannot both pass it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from compute.network.models import IPAllocation, Network, Subnet
from identity.models import Project
from portal import audit

from . import ipam
from .faults import bad_request, conflict, invalid

IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
MAX_DNS = 5
MAX_ROUTES = 20
AUTO = "auto"  # gateway_ip not given: the first address


@dataclass(frozen=True)
class SubnetSpec:
    """What a new subnet is made of (gateway_ip: AUTO, None for no gateway, or an address)."""

    cidr: str
    ip_version: int = 4
    name: str = ""
    description: str = ""
    gateway_ip: str | None = AUTO
    allocation_pools: list[dict[str, Any]] | None = None
    enable_dhcp: bool = True
    dns_nameservers: list[str] = field(default_factory=list)
    host_routes: list[dict[str, Any]] = field(default_factory=list)
    ipv6_ra_mode: str | None = None
    ipv6_address_mode: str | None = None


def _gateway(net: ipam.Cidr, value: str | None) -> ipam.Address | None:
    if value == AUTO:
        return ipam.default_gateway(net)
    if value is None:
        return None
    address = ipam.parse_address(value, field="gateway_ip")
    if address.version != net.version:
        raise invalid(f"gateway_ip '{value}' does not match the ip_version '{net.version}'")
    if address not in net or int(address) in ipam.unusable(net):
        raise bad_request(f"Gateway is not valid on subnet: {value} is not a host address of {net}.", "InvalidInput")
    return address


def _nameservers(values: Any, version: int) -> list[str]:
    if not isinstance(values, list):
        raise invalid(f"'{values}' is not a list")
    if len(values) > MAX_DNS:
        raise invalid(f"Number of DNS nameservers exceeds the limit {MAX_DNS}")
    result = [str(ipam.parse_address(v, field="dns_nameservers")) for v in values]
    if len(set(result)) != len(result):
        raise invalid(f"Duplicate nameserver in {values}")
    return result


def _routes(values: Any, version: int) -> list[dict[str, str]]:
    if not isinstance(values, list):
        raise invalid(f"'{values}' is not a list")
    if len(values) > MAX_ROUTES:
        raise invalid(f"Number of host routes exceeds the limit {MAX_ROUTES}")
    result = []
    for route in values:
        if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
            raise invalid(f"Invalid data format for hostroute: '{route}'")
        destination = ipam.parse_prefix(route["destination"])
        nexthop = ipam.parse_address(route["nexthop"], field="nexthop")
        if destination.version != version or nexthop.version != version:
            raise invalid(f"host route {route} does not match the ip_version '{version}'")
        entry = {"destination": str(destination), "nexthop": str(nexthop)}
        if entry in result:
            raise invalid(f"Duplicate hostroute '{route}'")
        result.append(entry)
    return result


def _ipv6_modes(version: int, ra_mode: str | None, address_mode: str | None, net: ipam.Cidr) -> None:
    for name, mode in (("ipv6_ra_mode", ra_mode), ("ipv6_address_mode", address_mode)):
        if mode is None:
            continue
        if version != 6:
            raise invalid(f"{name} set to '{mode}' with ip_version set to '4' is not valid.")
        if mode not in IPV6_MODES:
            raise invalid(f"'{mode}' is not in {list(IPV6_MODES)}")
    if ra_mode and address_mode and ra_mode != address_mode:
        raise invalid(f"ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set to '{address_mode}' is not valid.")
    if address_mode in ipam.EUI64_MODES and net.prefixlen != 64:
        raise invalid(
            f"Invalid CIDR {net} for IPv6 address mode. OpenStack uses the EUI-64 address format, "
            "which requires the prefix to be /64"
        )


def _check_version(spec: SubnetSpec, net: ipam.Cidr) -> None:
    if spec.ip_version not in (4, 6):
        raise invalid(f"'{spec.ip_version}' is not in [4, 6]")
    if net.version != spec.ip_version:
        raise invalid(f"Cidr {spec.cidr} does not match the ip_version '{spec.ip_version}'")


def create_subnet(project: Project, network: Network, spec: SubnetSpec, *, actor: Any) -> Subnet:
    """Add a subnet to `network`: validated CIDR, gateway, pools, DNS and routes; no overlap on the network."""
    net = ipam.parse_cidr(spec.cidr)
    _check_version(spec, net)
    gateway = _gateway(net, spec.gateway_ip)
    if spec.allocation_pools is None:
        pools = ipam.default_pools(net, gateway)
    else:
        pools = ipam.validate_pools(net, spec.allocation_pools, gateway)
    nameservers = _nameservers(spec.dns_nameservers, net.version)
    routes = _routes(spec.host_routes, net.version)
    _ipv6_modes(net.version, spec.ipv6_ra_mode, spec.ipv6_address_mode, net)
    with transaction.atomic():
        Network.objects.select_for_update().filter(pk=network.pk).exists()
        for other in Subnet.objects.filter(network=network, ip_version=net.version):
            if ipaddress.ip_network(other.cidr).overlaps(net):
                raise invalid(
                    f"Requested subnet with cidr: {net} for network: {network.pk} overlaps with another subnet"
                )
        subnet = Subnet.objects.create(
            project=project,
            network=network,
            name=spec.name,
            description=spec.description,
            ip_version=net.version,
            cidr=str(net),
            gateway_ip=str(gateway) if gateway is not None else None,
            enable_dhcp=spec.enable_dhcp,
            allocation_pools=[ipam.pool_text(pool, net.version) for pool in pools],
            dns_nameservers=nameservers,
            host_routes=routes,
            ipv6_ra_mode=spec.ipv6_ra_mode,
            ipv6_address_mode=spec.ipv6_address_mode,
        )
        audit.record(actor, "subnet.create", subnet, detail={"cidr": subnet.cidr, "network": str(network.pk)})
    return subnet


UPDATABLE = ("name", "description", "gateway_ip", "allocation_pools", "enable_dhcp", "dns_nameservers", "host_routes")


@transaction.atomic
def update_subnet(subnet: Subnet, changes: dict[str, Any], *, actor: Any) -> Subnet:
    """Change a subnet's name, description, gateway, pools, DHCP flag, DNS servers or host routes."""
    subnet = Subnet.objects.select_for_update().get(pk=subnet.pk)
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise bad_request(f"Cannot update read-only attribute {', '.join(sorted(unknown))}")
    net = ipam.network_of(subnet)
    if "gateway_ip" in changes:
        gateway = _gateway(net, changes["gateway_ip"])
        if gateway is not None and IPAllocation.objects.filter(subnet=subnet, ip_address=str(gateway)).exists():
            raise conflict(f"Gateway ip {gateway} conflicts with an allocated address.", "GatewayIpInUse")
        subnet.gateway_ip = str(gateway) if gateway is not None else None
    current_gateway = ipaddress.ip_address(subnet.gateway_ip) if subnet.gateway_ip else None
    if "allocation_pools" in changes:
        pools = ipam.validate_pools(net, changes["allocation_pools"], current_gateway)
        subnet.allocation_pools = [ipam.pool_text(pool, net.version) for pool in pools]
    elif "gateway_ip" in changes:
        ipam.validate_pools(net, subnet.allocation_pools, current_gateway)
    if "dns_nameservers" in changes:
        subnet.dns_nameservers = _nameservers(changes["dns_nameservers"], net.version)
    if "host_routes" in changes:
        subnet.host_routes = _routes(changes["host_routes"], net.version)
    for name in ("name", "description", "enable_dhcp"):
        if name in changes:
            setattr(subnet, name, changes[name])
    subnet.touch()
    subnet.save()
    audit.record(actor, "subnet.update", subnet, detail={"changes": sorted(changes)})
    return subnet


@transaction.atomic
def delete_subnet(subnet: Subnet, *, actor: Any) -> None:
    """Delete a subnet; 409 SubnetInUse while any port or floating IP holds one of its addresses.

    Addresses of an IPv6 auto-address subnet (SLAAC, DHCPv6-stateless) are derived from the ports'
    MACs, so, as in Neutron, they do not hold the subnet: they are removed from their ports with it.
    """
    subnet = Subnet.objects.select_for_update().get(pk=subnet.pk)
    if subnet.ip_version == 6 and subnet.ipv6_address_mode in ipam.EUI64_MODES:
        IPAllocation.objects.filter(subnet=subnet, port__isnull=False).delete()
    if IPAllocation.objects.filter(subnet=subnet).exists():
        raise conflict(
            f"Unable to complete operation on subnet {subnet.pk}: One or more ports have an IP allocation from "
            "this subnet.",
            "SubnetInUse",
        )
    audit.record(actor, "subnet.delete", subnet, detail={"cidr": subnet.cidr})
    subnet.delete()
