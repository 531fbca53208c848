"""Floating IPs: an address from an external network's IPv4 subnets, mapped to a port's fixed IPv4 address.

Creating one costs one `network.floating_ips` of the project (409 OverQuota beyond it). There are
no routers here: association needs only a port the project owns with a fixed IPv4 address (see
docs/network.md for what a backend must do to make the mapping carry traffic).
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from django.db import IntegrityError, transaction

from compute.network.models import FloatingIP, Network, Port, Status, Subnet
from identity.models import Project
from portal import audit

from . import charges, ipam
from .faults import bad_request, conflict, no_more_ips

UNSET: Any = object()


def _fixed_address(port: Port, requested: str | None) -> str:
    """The port's fixed IPv4 address the floating IP maps to (the requested one, or its only one)."""
    v4 = [a.ip_address for a in port.allocations.all() if ipaddress.ip_address(a.ip_address).version == 4]
    if requested is not None:
        address = str(ipam.parse_address(requested, field="fixed_ip_address"))
        if address not in v4:
            raise bad_request(
                f"Bad floatingip request: Port {port.pk} does not have fixed ip {requested}.", "BadRequest"
            )
        return address
    if not v4:
        raise bad_request(
            f"Bad floatingip request: Port {port.pk} does not have any IPv4 address to associate with a floating IP.",
            "BadRequest",
        )
    if len(v4) > 1:
        raise bad_request(
            f"Bad floatingip request: Port {port.pk} has multiple fixed IPv4 addresses. Must provide a specific "
            "IPv4 address when assigning a floating IP.",
            "BadRequest",
        )
    return v4[0]


def _associate(fip: FloatingIP, port: Port | None, fixed_ip_address: str | None) -> None:
    """Point the floating IP at `port` (None: disassociate); one floating IP per fixed address."""
    if port is None:
        if fixed_ip_address is not None:
            raise bad_request("Bad floatingip request: fixed_ip_address cannot be specified without a port_id.")
        fip.port, fip.fixed_ip_address, fip.status = None, None, Status.DOWN
        return
    if port.network_id == fip.floating_network_id:
        raise bad_request(f"Bad floatingip request: Port {port.pk} is on the external network of the floating IP.")
    address = _fixed_address(port, fixed_ip_address)
    taken = FloatingIP.objects.filter(port=port, fixed_ip_address=address).exclude(pk=fip.pk).first()
    if taken is not None:
        raise _already_associated(fip, port, address, taken)
    fip.port, fip.fixed_ip_address, fip.status = port, address, Status.ACTIVE


def _already_associated(fip: FloatingIP, port: Port, address: str, taken: FloatingIP) -> Exception:
    return conflict(
        f"Cannot associate floating IP {fip.floating_ip_address} ({fip.pk}) with port {port.pk} using fixed IP "
        f"{address}, as that fixed IP already has a floating IP on external network {taken.floating_network_id}.",
        "FloatingIPPortAlreadyAssociated",
    )


def _save(fip: FloatingIP, **kwargs: Any) -> None:
    """Save, turning a lost race for the (port, fixed IP) pair into the 409 Neutron gives."""
    try:
        with transaction.atomic():
            fip.save(**kwargs)
    except IntegrityError:
        raise conflict(
            f"Cannot associate floating IP {fip.floating_ip_address} ({fip.pk}) with port {fip.port_id} using fixed "
            f"IP {fip.fixed_ip_address}, as that fixed IP already has a floating IP.",
            "FloatingIPPortAlreadyAssociated",
        ) from None


def _candidate_subnets(network: Network, subnet: Subnet | None) -> list[Subnet]:
    if subnet is not None:
        if subnet.network_id != network.pk or subnet.ip_version != 4:
            raise bad_request(
                f"Bad floatingip request: Subnet {subnet.pk} is not an IPv4 subnet of network {network.pk}."
            )
        return [subnet]
    return list(network.subnets.filter(ip_version=4))


def create_floating_ip(
    project: Project,
    network: Network,
    *,
    actor: Any,
    port: Port | None = None,
    fixed_ip_address: str | None = None,
    floating_ip_address: str | None = None,
    subnet: Subnet | None = None,
    description: str = "",
) -> FloatingIP:
    """Allocate a floating IP on external `network` (optionally mapped to `port`); quota network.floating_ips."""
    if not network.external:
        raise bad_request(f"Bad floatingip request: Network {network.pk} is not a valid external network.")
    fip_id = uuid.uuid4()
    with charges.charged(project, charges.FLOATING_IPS, fip_id, actor=actor), transaction.atomic():
        subnets = _candidate_subnets(network, subnet)
        ipam.lock_subnets(s.pk for s in subnets)
        fip = FloatingIP(id=fip_id, project=project, floating_network=network, description=description)
        fip.floating_ip_address = "pending"
        _associate(fip, port, fixed_ip_address)
        _save(fip, force_insert=True)
        allocation = None
        if floating_ip_address is not None:
            address = ipam.parse_address(floating_ip_address, field="floating_ip_address")
            match = [s for s in subnets if address.version == 4 and address in ipam.network_of(s)]
            if not match:
                raise bad_request(
                    f"IP address {floating_ip_address} is not a valid IP for any of the subnets on the specified "
                    "network.",
                    "InvalidIpForNetwork",
                )
            allocation = ipam.allocate_address(match[0], address, fip)
        else:
            for candidate in subnets:
                allocation = ipam.allocate_next(candidate, fip)
                if allocation is not None:
                    break
        if allocation is None:
            raise no_more_ips(network.pk)
        fip.floating_ip_address = allocation.ip_address
        fip.save(update_fields=["floating_ip_address"])
        audit.record(
            actor,
            "floating_ip.create",
            fip,
            detail={"address": fip.floating_ip_address, "port": str(port.pk) if port else None},
        )
    return fip


@transaction.atomic
def update_floating_ip(
    fip: FloatingIP,
    *,
    actor: Any,
    port: Port | None = UNSET,
    fixed_ip_address: str | None = None,
    description: str | None = None,
) -> FloatingIP:
    """Associate (`port`), disassociate (`port=None`) or re-describe a floating IP."""
    fip = FloatingIP.objects.select_for_update().get(pk=fip.pk)
    if port is not UNSET:
        _associate(fip, port, fixed_ip_address)
    elif fixed_ip_address is not None:
        if fip.port is None:
            raise bad_request("Bad floatingip request: fixed_ip_address cannot be specified without a port_id.")
        _associate(fip, fip.port, fixed_ip_address)
    if description is not None:
        fip.description = description
    fip.touch()
    _save(fip)
    audit.record(actor, "floating_ip.update", fip, detail={"port": str(fip.port_id) if fip.port_id else None})
    return fip


@transaction.atomic
def delete_floating_ip(fip: FloatingIP, *, actor: Any) -> None:
    """Release a floating IP: its address returns to the pool and its quota unit to the project."""
    fip_id, project_id = fip.pk, fip.project_id
    audit.record(actor, "floating_ip.delete", fip, detail={"address": fip.floating_ip_address})
    fip.delete()
    charges.release_on_commit(project_id, charges.FLOATING_IPS, fip_id, actor=actor)
