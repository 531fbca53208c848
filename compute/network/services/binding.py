"""The interface compute (Nova) uses to give servers NICs: allocate, release and list server ports.

`allocate_server_ports` turns Nova's `networks` value into ports bound to a server, in one
transaction, with the same race-free IP and MAC allocation as the API. A `PortBinding` is what a
backend needs to make the NIC: MAC address, addresses, and the L2 `link` (the network's provider
physical network, else "default") the NIC joins.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from compute.network.models import FloatingIP, Network, Port, SecurityGroup, Status, Subnet
from identity.models import Project, User
from portal import audit
from portal.errors import Forbidden, NotFound, ValidationFailed

from . import ipam
from .faults import conflict, not_found
from .ports import FixedIP, PortSpec, create_port, delete_port, update_port
from .security_groups import ensure_default_group
from .topology import auto_allocated_network

DEVICE_OWNER = "compute:nova"


@dataclass(frozen=True)
class PortBinding:
    """One server NIC: its port, network, MAC, (subnet_id, ip) pairs and the backend L2 link."""

    port_id: str
    network_id: str
    mac: str
    fixed_ips: tuple[tuple[str, str], ...]
    link: str


def _uuid(value: Any, kind: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise not_found(kind, value) from None


def _usable_network(project: Project, network_id: Any) -> Network:
    """A network the project may plug a server into: its own or a shared one (external ones are refused)."""
    network = Network.objects.filter(pk=_uuid(network_id, "network")).first()
    if network is None or not (network.project_id == project.pk or network.shared or network.external):
        raise not_found("network", network_id)
    if network.project_id != project.pk and not network.shared:
        raise Forbidden(
            f"It is not allowed to create an interface on external network {network.pk}",
            neutron_type="ExternalNetworkAttachForbidden",
        )
    return network


def _bind_existing(project: Project, port_id: Any, server_id: str, *, actor: Any) -> Port:
    port = Port.objects.select_for_update().filter(pk=_uuid(port_id, "port"), project=project).first()
    if port is None:
        raise not_found("port", port_id)
    if port.device_id:
        raise conflict(f"Port {port.pk} is still in use.", "PortInUse")
    port.device_id, port.device_owner, port.status = server_id, DEVICE_OWNER, Status.ACTIVE
    port.touch()
    port.save()
    audit.record(actor, "port.bind", port, detail={"server": server_id})
    return port


def _binding(port: Port) -> PortBinding:
    return PortBinding(
        port_id=str(port.pk),
        network_id=str(port.network_id),
        mac=port.mac_address,
        fixed_ips=tuple((str(a.subnet_id), a.ip_address) for a in port.allocations.order_by("id")),
        link=port.network.link,
    )


def _requests(value: list[dict[str, Any]] | str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise ValidationFailed("networks must be 'auto', 'none' or a list of {uuid, fixed_ip} / {port} objects.")
    for request in value:
        if ("port" in request) == ("uuid" in request):
            raise ValidationFailed("Each requested network needs exactly one of 'uuid' or 'port'.")
    return value


def _find_group(groups: list[SecurityGroup], ref: str) -> SecurityGroup | None:
    """The group whose id is `ref`, else the one named `ref` (None if none); a name two groups share
    is a 409, as in Nova."""
    matches = [g for g in groups if str(g.pk) == ref] or [g for g in groups if g.name == ref]
    if len(matches) > 1:
        raise conflict(
            f"Multiple security groups found matching '{ref}'. Use an ID to be more specific.", "NoUniqueMatch"
        )
    return matches[0] if matches else None


def _security_group_ids(project: Project, names: Iterable[str], *, actor: Any) -> tuple[uuid.UUID, ...] | None:
    """The project's groups a server names (by id or name, as Nova resolves them); None for none named.

    An unknown group is a 400 (Nova's "Security group X not found.").
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return None
    ensure_default_group(project, actor=actor)
    groups = list(SecurityGroup.objects.filter(project=project).order_by("pk"))
    ids: list[uuid.UUID] = []
    for name in wanted:
        found = _find_group(groups, name)
        if found is None:
            raise ValidationFailed(f"Security group {name} not found.")
        ids.append(found.pk)
    return tuple(dict.fromkeys(ids))


@transaction.atomic
def allocate_server_ports(
    *,
    project: Project,
    user: User | Any,
    server_id: str,
    requests: list[dict[str, Any]] | str,
    security_groups: Iterable[str] = (),
) -> list[PortBinding]:
    """Create (or bind) the ports of a new server from Nova's `networks` value, in one transaction.

    "none" gives no ports; "auto" uses the project's auto-allocated network (made on demand);
    `{"uuid": net, "fixed_ip": ip?}` creates a port with device_id=server_id and
    device_owner="compute:nova" (deleted again by `release_server_ports`); `{"port": id}` binds the
    project's unbound port (only unbound again on release). The ports it creates get the
    project's `security_groups` (names or ids; none named: the default group); ports the user made
    keep theirs, as in Nova. Raises ValidationFailed (unknown group), NotFound, Forbidden, Conflict
    (IpAddressInUse, IpAddressGenerationFailure, PortInUse) or Conflict OverQuota for "auto".
    """
    group_ids = _security_group_ids(project, security_groups, actor=user)
    if requests == "none":
        return []
    if requests == "auto":
        requests = [{"uuid": str(auto_allocated_network(project, actor=user).pk)}]
    wanted = _requests(requests)
    networks = {str(r["uuid"]): _usable_network(project, r["uuid"]) for r in wanted if "uuid" in r}
    # All subnets first, in the global lock order (see ipam.lock_subnets): no deadlocks between servers.
    ipam.lock_subnets(Subnet.objects.filter(network__in=list(networks.values())).values_list("pk", flat=True))
    ports = []
    for request in wanted:
        if "port" in request:
            ports.append(_bind_existing(project, request["port"], server_id, actor=user))
            continue
        fixed = request.get("fixed_ip")
        spec = PortSpec(
            device_id=server_id,
            device_owner=DEVICE_OWNER,
            fixed_ips=(FixedIP(ip_address=fixed),) if fixed else None,
            security_group_ids=group_ids,
        )
        port = create_port(project, networks[str(request["uuid"])], spec, actor=user, server_owned=True)
        port.status = Status.ACTIVE
        port.save(update_fields=["status"])
        ports.append(port)
    return [_binding(port) for port in ports]


@transaction.atomic
def change_server_security_group(*, project: Project, server_id: str, group: str, add: bool, actor: Any) -> str:
    """Add the project's group `group` (a name or id) to every port of the server, or remove it.

    Returns the group's name. A group the project does not have is a 404; adding a group every
    port already has, or removing one no port has, is a 400 (Nova's wording); a server without
    ports is a 400.
    """
    chosen = _find_group(list(SecurityGroup.objects.filter(project=project).order_by("pk")), group)
    if chosen is None:
        raise NotFound(f"Security group {group} not found for project {project.pk}.")
    ports = list(Port.objects.select_for_update().filter(device_id=server_id).order_by("pk"))
    if not ports:
        raise ValidationFailed(f"Instance {server_id} has no network interfaces for security group {chosen.name}.")
    holding = [p for p in ports if p.security_groups.filter(pk=chosen.pk).exists()]
    if add and len(holding) == len(ports):
        raise ValidationFailed(f"Security group {chosen.name} is already associated with the instance {server_id}")
    if not add and not holding:
        raise ValidationFailed(f"Security group {chosen.name} not associated with the instance {server_id}")
    for port in ports:
        current = list(port.security_groups.values_list("pk", flat=True))
        wanted = [*current, chosen.pk] if add else [pk for pk in current if pk != chosen.pk]
        if wanted != current:
            update_port(port, {"security_group_ids": tuple(dict.fromkeys(wanted))}, actor=actor)
    return chosen.name


@transaction.atomic
def release_server_ports(server_id: str, *, actor: Any) -> None:
    """Delete the ports made for the server and unbind the user's own ports it used (no error if none)."""
    for port in Port.objects.select_for_update().filter(device_id=server_id).order_by("pk"):
        if port.server_owned:
            delete_port(port, actor=actor)
            continue
        port.device_id, port.device_owner, port.status, port.binding_host_id = "", "", Status.DOWN, ""
        port.touch()
        port.save()
        audit.record(actor, "port.unbind", port, detail={"server": server_id})


def ports_for_servers(server_ids: Iterable[str]) -> dict[str, list[PortBinding]]:
    """The NICs of each server (every id is a key; ports in creation order), in one query."""
    ids = [str(s) for s in server_ids]
    result: dict[str, list[PortBinding]] = {server_id: [] for server_id in ids}
    rows = (
        Port.objects.filter(device_id__in=ids)
        .order_by("device_id", "created_at", "id", "allocations__id")
        .values_list(
            "id",
            "device_id",
            "network_id",
            "mac_address",
            "network__physical_network",
            "allocations__subnet_id",
            "allocations__ip_address",
        )
    )
    ports: dict[str, tuple[str, dict[str, Any]]] = {}
    for port_id, device_id, network_id, mac, physnet, subnet_id, ip in rows:
        entry = ports.setdefault(
            str(port_id),
            (device_id, {"network_id": str(network_id), "mac": mac, "link": physnet or "default", "ips": []}),
        )[1]
        if subnet_id is not None:
            entry["ips"].append((str(subnet_id), ip))
    for port_id, (device_id, entry) in ports.items():
        result[device_id].append(
            PortBinding(port_id, entry["network_id"], entry["mac"], tuple(entry["ips"]), entry["link"])
        )
    return result


def floating_ips_for_ports(port_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """(fixed IP, floating IP) pairs per port id, in one query (Nova shows them as "floating" addresses)."""
    result: dict[str, list[tuple[str, str]]] = {}
    rows = FloatingIP.objects.filter(port_id__in=[str(p) for p in port_ids]).order_by("created_at", "id")
    for port_id, fixed, floating in rows.values_list("port_id", "fixed_ip_address", "floating_ip_address"):
        result.setdefault(str(port_id), []).append((fixed, floating))
    return result
