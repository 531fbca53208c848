"""Ports: MAC addresses (fa:16:3e prefix, unique, retried on collision), fixed IPs, security groups.

A port gets, unless it asks otherwise, one address from the first IPv4 subnet of its network that
has one free, an EUI-64 address on every SLAAC IPv6 subnet and one from the first other IPv6
subnet. Explicit `fixed_ips` name a subnet, an address, or both. Ports start DOWN; binding them
to a server (services.binding) makes them ACTIVE.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from compute.network.models import FloatingIP, IPAllocation, Network, Port, SecurityGroup, Status, Subnet
from identity.models import Project
from portal import audit

from . import ipam
from .faults import bad_request, conflict, invalid, no_more_ips, not_found
from .security_groups import ensure_default_group

MAC_PREFIX = "fa:16:3e"
MAC_ATTEMPTS = 16
MAX_ADDRESS_PAIRS = 10
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


@dataclass(frozen=True)
class FixedIP:
    """One `fixed_ips` request entry: a subnet, an address, or both."""

    subnet_id: uuid.UUID | None = None
    ip_address: str | None = None


@dataclass(frozen=True)
class PortSpec:
    """What a new port is made of (None fields take Neutron's defaults)."""

    name: str = ""
    description: str = ""
    admin_state_up: bool = True
    mac_address: str | None = None
    fixed_ips: tuple[FixedIP, ...] | None = None
    device_id: str = ""
    device_owner: str = ""
    security_group_ids: tuple[uuid.UUID, ...] | None = None
    port_security_enabled: bool | None = None
    allowed_address_pairs: list[Any] = field(default_factory=list)
    binding_host_id: str = ""
    binding_vnic_type: str = "normal"
    binding_profile: dict[str, Any] = field(default_factory=dict)


def random_mac() -> str:
    """A random MAC address in Nefos's (OpenStack's) locally administered prefix."""
    return MAC_PREFIX + "".join(f":{octet:02x}" for octet in secrets.token_bytes(3))


def check_mac(value: Any) -> str:
    """A unicast MAC address in lower case, or Neutron's 400."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _MAC.match(text) or int(text[:2], 16) & 1 or text == "00:00:00:00:00:00":
        raise invalid(f"'{value}' is not a valid MAC address")
    return text


def _mac_in_use(network_id: Any, mac: str) -> Exception:
    return conflict(
        f"Unable to complete operation for network {network_id}. The mac address {mac} is in use.", "MacAddressInUse"
    )


def _insert(fields: dict[str, Any], mac: str | None) -> Port:
    """Create the port row; a generated MAC that collides is drawn again (unique constraint + savepoint)."""
    if mac is not None:
        try:
            with transaction.atomic():
                return Port.objects.create(mac_address=mac, **fields)
        except IntegrityError:
            raise _mac_in_use(fields["network"].pk, mac) from None
    for _ in range(MAC_ATTEMPTS):
        mac = random_mac()
        try:
            with transaction.atomic():
                return Port.objects.create(mac_address=mac, **fields)
        except IntegrityError:
            if not Port.objects.filter(mac_address=mac).exists():
                raise not_found("network", fields["network"].pk) from None  # deleted meanwhile
    raise conflict(f"Unable to generate unique mac on network {fields['network'].pk}.", "MacAddressGenerationFailure")


def _groups(project_id: str, ids: tuple[uuid.UUID, ...]) -> list[SecurityGroup]:
    found = {g.pk: g for g in SecurityGroup.objects.filter(project_id=project_id, pk__in=ids)}
    for group_id in ids:
        if group_id not in found:
            raise not_found("security_group", group_id)
    return [found[group_id] for group_id in dict.fromkeys(ids)]


def _address_pairs(pairs: Any, mac: str) -> list[dict[str, str]]:
    if not isinstance(pairs, list):
        raise invalid(f"Allowed address pairs must be a list: '{pairs}'")
    if len(pairs) > MAX_ADDRESS_PAIRS:
        raise invalid(f"Exceeded maximum amount of allowed address pairs {MAX_ADDRESS_PAIRS}")
    result: list[dict[str, str]] = []
    for pair in pairs:
        if not isinstance(pair, dict) or "ip_address" not in pair or set(pair) - {"ip_address", "mac_address"}:
            raise invalid(f"Unrecognized attribute(s) or missing ip_address in allowed address pair '{pair}'")
        address = pair["ip_address"]
        text = str(ipam.parse_prefix(address)) if isinstance(address, str) and "/" in address else None
        entry = {
            "ip_address": text or str(ipam.parse_address(address)),
            "mac_address": check_mac(pair["mac_address"]) if pair.get("mac_address") else mac,
        }
        if entry in result:
            raise bad_request(f"Request contains duplicate address pair: {pair}.", "DuplicateAddressPairInRequest")
        result.append(entry)
    return result


def _subnet_for(subnets: list[Subnet], request: FixedIP, network: Network) -> Subnet:
    if request.subnet_id is not None:
        for subnet in subnets:
            if subnet.pk == request.subnet_id:
                return subnet
        raise invalid(
            f"Failed to create port on network {network.pk}, because fixed_ips included invalid subnet "
            f"{request.subnet_id}."
        )
    address = ipam.parse_address(request.ip_address)
    for subnet in subnets:
        if address.version == subnet.ip_version and address in ipam.network_of(subnet):
            return subnet
    raise bad_request(
        f"IP address {request.ip_address} is not a valid IP for any of the subnets on the specified network.",
        "InvalidIpForNetwork",
    )


def _disassociate(fips: Any) -> None:
    """Unmap floating IPs (their port or fixed address went away)."""
    fips.update(port=None, fixed_ip_address=None, status=Status.DOWN)


def _resolve(port: Port, requests: tuple[FixedIP, ...]) -> list[tuple[Subnet, str | None]]:
    """Each request as (subnet, canonical address or None), validated against the port's network."""
    network = port.network
    subnets = list(network.subnets.all())
    result: list[tuple[Subnet, str | None]] = []
    for request in requests:
        if request.subnet_id is None and request.ip_address is None:
            raise invalid("Exactly one of subnet_id or ip_address, or both, must be given in fixed_ips")
        subnet = _subnet_for(subnets, request, network)
        address = str(ipam.parse_address(request.ip_address)) if request.ip_address is not None else None
        if address is not None and (subnet, address) in result:
            raise invalid(f"Duplicate IP address '{address}'")
        result.append((subnet, address))
    return result


def allocate_requested(port: Port, requests: tuple[FixedIP, ...], existing: list[IPAllocation] | None = None) -> None:
    """Make the port's addresses exactly `requests`.

    Like Neutron, requests naming an address are matched first, then subnet-only requests reuse
    an address the port already has on that subnet; addresses no request keeps are freed (and
    floating IPs on them disassociated) before new ones are allocated.
    """
    spare = list(existing or [])
    new: list[tuple[Subnet, str | None]] = []
    for subnet, address in sorted(_resolve(port, requests), key=lambda wanted: wanted[1] is None):
        kept = next((a for a in spare if a.subnet_id == subnet.pk and address in (None, a.ip_address)), None)
        if kept is not None:
            spare.remove(kept)
        else:
            new.append((subnet, address))
    if spare:
        _disassociate(FloatingIP.objects.filter(port=port, fixed_ip_address__in=[a.ip_address for a in spare]))
        IPAllocation.objects.filter(pk__in=[a.pk for a in spare]).delete()
    for subnet, address in new:
        if address is not None:
            ipam.allocate_address(subnet, ipam.parse_address(address), port)
        elif ipam.allocate_auto(subnet, port) is None:
            raise no_more_ips(port.network_id)


def allocate_default(port: Port) -> None:
    """Neutron's default: one IPv4 address, an EUI-64 address per SLAAC subnet, one other IPv6 address."""
    subnets = list(port.network.subnets.all())
    v4 = [s for s in subnets if s.ip_version == 4]
    slaac = [s for s in subnets if s.ip_version == 6 and s.ipv6_address_mode in ipam.EUI64_MODES]
    v6 = [s for s in subnets if s.ip_version == 6 and s not in slaac]
    for group in (v4, v6):
        if group and not any(ipam.allocate_next(subnet, port) for subnet in group):
            raise no_more_ips(port.network_id)
    for subnet in slaac:
        ipam.allocate_address(subnet, ipam.eui64(ipam.network_of(subnet), port.mac_address), port)


def create_port(project: Project, network: Network, spec: PortSpec, *, actor: Any, server_owned: bool = False) -> Port:
    """Make a port on `network` with a fresh unique MAC, its fixed IPs and security groups, in one transaction."""
    security = network.port_security_enabled if spec.port_security_enabled is None else spec.port_security_enabled
    mac = check_mac(spec.mac_address) if spec.mac_address is not None else None
    with transaction.atomic():
        if spec.security_group_ids is not None:
            groups = _groups(project.pk, spec.security_group_ids)
        else:
            groups = [ensure_default_group(project, actor=actor)] if security else []
        if groups and not security:
            raise bad_request(
                "Port security must be enabled and port must have an IP address in order to use security groups.",
                "PortSecurityAndIPRequiredForSecurityGroups",
            )
        if spec.allowed_address_pairs and not security:
            raise conflict(
                "Port Security must be enabled in order to have allowed address pairs on a port.",
                "AddressPairAndPortSecurityRequired",
            )
        fields = {
            "project": project,
            "network": network,
            "name": spec.name,
            "description": spec.description,
            "admin_state_up": spec.admin_state_up,
            "device_id": spec.device_id,
            "device_owner": spec.device_owner,
            "port_security_enabled": security,
            "binding_host_id": spec.binding_host_id,
            "binding_vnic_type": spec.binding_vnic_type,
            "binding_profile": spec.binding_profile,
            "server_owned": server_owned,
        }
        port = _insert(fields, mac)
        if spec.allowed_address_pairs:
            port.allowed_address_pairs = _address_pairs(spec.allowed_address_pairs, port.mac_address)
            port.save(update_fields=["allowed_address_pairs"])
        port.security_groups.set(groups)
        ipam.lock_subnets(network.subnets.values_list("pk", flat=True))
        if spec.fixed_ips is None:
            allocate_default(port)
        else:
            allocate_requested(port, spec.fixed_ips)
        audit.record(actor, "port.create", port, detail={"network": str(network.pk), "mac": port.mac_address})
    return port


@transaction.atomic
def create_ports(items: list[tuple[Project, Network, PortSpec]], *, actor: Any) -> list[Port]:
    """Create several ports in one transaction (a bulk request, or a server's NICs).

    All their subnets are locked first, in the global order, so two such transactions naming the
    same networks in different orders cannot deadlock.
    """
    ipam.lock_subnets(
        Subnet.objects.filter(network__in=[network for _, network, _ in items]).values_list("pk", flat=True)
    )
    return [create_port(project, network, spec, actor=actor) for project, network, spec in items]


UPDATABLE = (
    "name", "description", "admin_state_up", "device_id", "device_owner", "mac_address", "fixed_ips",
    "security_group_ids", "port_security_enabled", "allowed_address_pairs", "binding_host_id", "binding_vnic_type",
    "binding_profile",
)  # fmt: skip


@transaction.atomic
def update_port(port: Port, changes: dict[str, Any], *, actor: Any) -> Port:
    """Change a port; new `fixed_ips` keep matching addresses, free the rest and allocate what is new."""
    port = Port.objects.select_for_update().select_related("network").get(pk=port.pk)
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise bad_request(f"Cannot update read-only attribute(s) {', '.join(sorted(unknown))}")
    if "mac_address" in changes:
        mac = check_mac(changes["mac_address"])
        if mac != port.mac_address:
            if port.device_id:
                raise conflict(f"Port {port.pk} is bound; its MAC address cannot change.", "PortBound")
            if Port.objects.filter(mac_address=mac).exists():
                raise _mac_in_use(port.network_id, mac)
            port.mac_address = mac
    security = changes.get("port_security_enabled", port.port_security_enabled)
    if "security_group_ids" in changes:
        groups = _groups(port.project_id, changes["security_group_ids"])
    else:
        groups = None if security else []
    current = groups if groups is not None else list(port.security_groups.all())
    if not security and current:
        raise bad_request(
            "Port has security group associated. Cannot disable port security or ip address until "
            "security group is removed",
            "PortSecurityPortHasSecurityGroup",
        )
    pairs = changes.get("allowed_address_pairs", port.allowed_address_pairs)
    if pairs and not security:
        raise conflict(
            "Port Security must be enabled in order to have allowed address pairs on a port.",
            "AddressPairAndPortSecurityRequired",
        )
    if "allowed_address_pairs" in changes:
        port.allowed_address_pairs = _address_pairs(changes["allowed_address_pairs"], port.mac_address)
    simple = ("name", "description", "admin_state_up", "device_id", "device_owner", "port_security_enabled",
              "binding_host_id", "binding_vnic_type", "binding_profile")  # fmt: skip
    for name in simple:
        if name in changes:
            setattr(port, name, changes[name])
    port.touch()
    port.save()
    if groups is not None:
        port.security_groups.set(groups)
    if "fixed_ips" in changes:
        ipam.lock_subnets(port.network.subnets.values_list("pk", flat=True))
        allocate_requested(port, changes["fixed_ips"], existing=list(port.allocations.all()))
    audit.record(actor, "port.update", port, detail={"changes": sorted(changes)})
    return port


@transaction.atomic
def delete_port(port: Port, *, actor: Any) -> None:
    """Delete a port: its addresses go back to the pools and floating IPs on it are disassociated."""
    _disassociate(FloatingIP.objects.filter(port=port))
    audit.record(actor, "port.delete", port, detail={"network": str(port.network_id), "device_id": port.device_id})
    port.delete()
