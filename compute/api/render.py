"""How servers look in Nova's API, per microversion.

`ServerRenderer` is built once per request for a page of servers (`server_rows` rows): it fetches
the page's addresses (ports, network names and floating IPs: three queries) and tags (one query),
then renders each server from its row. Two shapes: `detail` (GET /servers/detail, GET
/servers/{id}) and `update` (PUT /servers/{id}: Nova's smaller view without the extension
attributes). The microversion adds fields (`CHANGES` in microversions.py), decided once per
request; admin-only fields follow Nova's default policy.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

from backend_ganeti.models import Cluster
from compute.api.base import compute_root, iso, iso_usec
from compute.api.microversions import Version
from compute.models import ServerTag
from compute.network.models import Network
from compute.network.services.binding import floating_ips_for_ports, ports_for_servers
from compute.services.states import POWER_CODES, PROGRESS_STATUSES, status_of
from compute.volume.services.listing import attached_volumes
from identity.tokens import TokenContext

FAULT_STATUSES = frozenset({"ERROR", "DELETED"})
HOST_STATUS = {Cluster.State.ENABLED: "UP", Cluster.State.DRAINED: "MAINTENANCE", Cluster.State.OFFLINE: "DOWN"}
Addresses = dict[str, list[dict[str, Any]]]


def addresses_for(server_ids: Iterable[str]) -> dict[str, Addresses]:
    """Nova's `addresses` of each server: {network name: [{version, addr, type, mac}]}."""
    bindings = ports_for_servers(list(server_ids))
    ports = [b for items in bindings.values() for b in items]
    if not ports:
        return {}
    rows = Network.objects.filter(pk__in={b.network_id for b in ports}).values_list("id", "name")
    names = {str(pk): name for pk, name in rows}
    floating = floating_ips_for_ports([b.port_id for b in ports])
    result: dict[str, Addresses] = {}
    for server_id, items in bindings.items():
        if not items:
            continue
        networks: Addresses = {}
        for binding in items:
            entries = networks.setdefault(names.get(binding.network_id) or binding.network_id, [])
            mac = binding.mac
            for _subnet, address in binding.fixed_ips:
                entries.append(_address(address, "fixed", mac))
            for _fixed, address in floating.get(binding.port_id, ()):
                entries.append(_address(address, "floating", mac))
        result[server_id] = networks
    return result


def _address(address: str, kind: str, mac: str) -> dict[str, Any]:
    return {
        "version": 6 if ":" in address else 4,
        "addr": address,
        "OS-EXT-IPS:type": kind,
        "OS-EXT-IPS-MAC:mac_addr": mac,
    }


def plain(addresses: Addresses) -> Addresses:
    """Addresses without the extension fields (Nova's update view and /ips)."""
    return {net: [{"version": a["version"], "addr": a["addr"]} for a in items] for net, items in addresses.items()}


def tags_for(server_ids: Iterable[Any]) -> dict[str, list[str]]:
    """Each server's tags, sorted."""
    result: dict[str, list[str]] = defaultdict(list)
    rows = ServerTag.objects.filter(server_id__in=list(server_ids)).order_by("tag").values_list("server_id", "tag")
    for server_id, tag in rows:
        result[str(server_id)].append(tag)
    return result


def host_status(row: Any) -> str:
    """Nova's host_status (2.16, admins): the server's cluster as UP / MAINTENANCE / DOWN / UNKNOWN."""
    if not row.host or row.cluster_state is None:
        return ""
    if not row.cluster_reachable:
        return "UNKNOWN"
    return HOST_STATUS.get(row.cluster_state, "UNKNOWN")


class ServerRenderer:
    """Renders a page of servers (rows of `compute.services.server_rows`) for one request."""

    def __init__(self, request: HttpRequest, ctx: TokenContext, version: Version, rows: list[Any]) -> None:
        self.admin = ctx.is_admin
        self.root = compute_root(request)
        self.servers = f"{self.root}/v2.1/servers/"
        self.bookmarks = f"{self.root}/servers/"
        self.flavor_details = version.at_least("flavor_details")
        self.locked = version.at_least("locked")
        self.description = version.at_least("description")
        self.with_tags = version.at_least("tags")
        self.extended = version.at_least("extended_attributes")
        self.host_status = version.at_least("host_status")
        self.host_ids: dict[tuple[str, str], str] = {}
        ids = [str(r.id) for r in rows]
        self.addresses = addresses_for(ids) if rows else {}
        self.tags = tags_for([r.id for r in rows]) if rows and self.with_tags else {}
        self.volumes = attached_volumes([r.id for r in rows]) if rows else {}

    def _host_id(self, project_id: str, host: str) -> str:
        """Nova's hostId: sha224(project id + host), the same for a project's servers on one host."""
        if not host:
            return ""
        key = (project_id, host)
        if key not in self.host_ids:
            self.host_ids[key] = hashlib.sha224(f"{project_id}{host}".encode()).hexdigest()
        return self.host_ids[key]

    def _flavor(self, row: Any) -> dict[str, Any]:
        if self.flavor_details:
            return {
                "vcpus": row.vcpus,
                "ram": row.ram,
                "disk": row.disk,
                "ephemeral": row.ephemeral,
                "swap": row.swap,
                "original_name": row.flavor_name,
                "extra_specs": row.flavor_extra_specs,
            }
        return {"id": row.flavor_id, "links": [{"rel": "bookmark", "href": f"{self.root}/flavors/{row.flavor_id}"}]}

    def _image(self, row: Any) -> dict[str, Any] | str:
        if not row.image_id:
            return ""
        return {"id": row.image_id, "links": [{"rel": "bookmark", "href": f"{self.root}/images/{row.image_id}"}]}

    def base(self, row: Any, *, extended: bool = True) -> dict[str, Any]:
        """The fields every full view has (Nova's update view: `extended` False, plain addresses)."""
        server_id = str(row.id)
        status = status_of(row.vm_state, row.task_state)
        host_id = self._host_id(row.project_id, row.host)
        addresses = self.addresses.get(server_id, {})
        body: dict[str, Any] = {
            "id": server_id,
            "name": row.name,
            "status": status,
            "tenant_id": row.project_id,
            "user_id": row.user_id,
            "metadata": row.metadata,
            "hostId": host_id,
            "image": self._image(row),
            "flavor": self._flavor(row),
            "created": iso(row.created_at),
            "updated": iso(row.updated_at),
            "addresses": addresses if extended else plain(addresses),
            "accessIPv4": row.access_ipv4,
            "accessIPv6": row.access_ipv6,
            "links": [
                {"rel": "self", "href": self.servers + server_id},
                {"rel": "bookmark", "href": self.bookmarks + server_id},
            ],
            "OS-DCF:diskConfig": row.disk_config,
        }
        if status in PROGRESS_STATUSES:
            body["progress"] = row.progress
        if status in FAULT_STATUSES and row.fault_code is not None:
            fault = {"code": row.fault_code, "created": iso(row.fault_at), "message": row.fault_message}
            if self.admin and row.fault_details:
                fault["details"] = row.fault_details
            body["fault"] = fault
        if self.locked:
            body["locked"] = row.locked
        if self.description:
            body["description"] = row.description
        if self.with_tags:
            body["tags"] = self.tags.get(server_id, [])
        return body

    def update(self, row: Any) -> dict[str, Any]:
        """The view PUT /servers/{id} answers with (no extension attributes)."""
        return self.base(row, extended=False)

    def detail(self, row: Any) -> dict[str, Any]:
        """The full view of GET /servers/{id} and /servers/detail."""
        body = self.base(row)
        body["key_name"] = row.key_name
        if row.security_groups:  # Nova leaves the key out for a server without groups
            body["security_groups"] = [{"name": name} for name in row.security_groups]
        body["config_drive"] = row.config_drive
        body["OS-EXT-AZ:availability_zone"] = row.availability_zone
        body["OS-EXT-STS:vm_state"] = row.vm_state
        body["OS-EXT-STS:task_state"] = row.task_state
        body["OS-EXT-STS:power_state"] = POWER_CODES.get(row.power_state, 0)
        body["OS-SRV-USG:launched_at"] = iso_usec(row.launched_at)
        body["OS-SRV-USG:terminated_at"] = iso_usec(row.terminated_at)
        body["os-extended-volumes:volumes_attached"] = [
            {"id": vid, "delete_on_termination": False} if self.extended else {"id": vid}
            for vid in self.volumes.get(str(row.id), [])
        ]
        if self.admin:
            body.update(self._admin(row))
        return body

    def _admin(self, row: Any) -> dict[str, Any]:
        """OS-EXT-SRV-ATTR (and 2.16's host_status): Nova shows them to admins only."""
        fields: dict[str, Any] = {
            "OS-EXT-SRV-ATTR:host": row.host or None,
            "OS-EXT-SRV-ATTR:hypervisor_hostname": row.node or None,
            "OS-EXT-SRV-ATTR:instance_name": row.instance_name,
        }
        if self.extended:
            fields.update(
                {
                    "OS-EXT-SRV-ATTR:reservation_id": row.reservation_id,
                    "OS-EXT-SRV-ATTR:launch_index": row.launch_index,
                    "OS-EXT-SRV-ATTR:kernel_id": "",
                    "OS-EXT-SRV-ATTR:ramdisk_id": "",
                    "OS-EXT-SRV-ATTR:hostname": row.name,
                    "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                    "OS-EXT-SRV-ATTR:user_data": row.user_data,
                }
            )
        if self.host_status:
            fields["host_status"] = host_status(row)
        return fields
