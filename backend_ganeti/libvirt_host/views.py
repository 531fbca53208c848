"""JSON shapes the agent answers with: instances, nodes, host info, consoles.

Field names follow Ganeti's where one exists (`mtotal`, `mfree`, `dtotal`, `dfree`, `ctotal`,
`pinst_cnt`, `sinst_cnt`, roles M/R/D/O), so the driver maps both cluster kinds the same way.
"""

from __future__ import annotations

import uuid
from typing import Any

import libvirt

from backend_ganeti.libvirt_host import DISK_TEMPLATES
from backend_ganeti.libvirt_host.domxml import vnc_from_xml
from backend_ganeti.libvirt_host.errors import ConflictError
from backend_ganeti.libvirt_host.host import Host
from backend_ganeti.libvirt_host.records import DomainRecord

GROUP_NAME = "default"
SIMULATED_CONSOLE_NOTE = (
    "simulated host (libvirt test driver): no guest runs and nothing listens on this port; "
    "the port is reserved for the instance so the console address is stable"
)


def instance_view(host: Host, record: DomainRecord) -> dict[str, Any]:
    """One instance with its current power state."""
    return {
        "name": record.name,
        "uuid": record.uuid,
        "node": record.node,
        "secondary_nodes": [],
        "power": "stopped" if record.building else host.power(record.name),
        "admin_up": record.admin_up,
        "building": record.building,
        "vcpus": record.vcpus,
        "memory_mb": record.memory_mb,
        "disk_template": record.disk_template,
        "disks": [
            {"size_mb": disk.size_mb, "name": disk.name, "template": record.disk_template} for disk in record.disks
        ],
        "nics": [
            {"mac": nic.mac, "ip": nic.ip, "network": nic.network, "link": nic.link, "name": nic.name}
            for nic in record.nics
        ],
        "os": record.os,
        "tags": list(record.tags),
        "ctime": record.ctime,
        "mtime": record.mtime,
    }


def instance_views(host: Host) -> list[dict[str, Any]]:
    """Every instance, by name."""
    with host.lock:
        return [instance_view(host, host.records[name]) for name in sorted(host.records)]


def node_views(host: Host) -> list[dict[str, Any]]:
    """Every node with capacity accounted from the defined instances."""
    with host.lock:
        usage = host.usage()
        views = []
        for index, node in enumerate(host.nodes.values()):
            offline = not node.alive()
            drained = host.drained(node.name)
            role = "O" if offline else "D" if drained else "M" if index == 0 else "R"
            used = usage[node.name]
            views.append(
                {
                    "name": node.name,
                    "group": GROUP_NAME,
                    "role": role,
                    "mtotal": node.memory_mb,
                    "mfree": used.memory_free_mb,
                    "dtotal": node.disk_mb,
                    "dfree": used.disk_free_mb,
                    "ctotal": node.cpus,
                    "cpus_used": used.vcpus_used,
                    "pinst_cnt": used.instances,
                    "sinst_cnt": 0,
                    "drained": drained,
                    "offline": offline,
                    "vm_capable": True,
                    "address": node.address,
                    "uri": node.uri,
                    "simulated": node.simulated,
                }
            )
        return views


def info_view(host: Host, *, name: str, cluster_uuid: str) -> dict[str, Any]:
    """Host-wide facts, like Ganeti's /2/info."""
    first = next(iter(host.nodes.values()))
    version = libvirt.getVersion()
    simulated = first.simulated
    return {
        "name": name,
        "uuid": cluster_uuid,
        "software_version": f"libvirt {version // 1_000_000}.{version // 1000 % 1000}.{version % 1000}",
        "hypervisor": "test" if simulated else first.domain_type,
        "disk_templates": list(DISK_TEMPLATES),
        "master": first.name,
        "simulated": simulated,
        "nodes": list(host.nodes),
        "group": {"name": GROUP_NAME, "uuid": str(uuid.uuid5(uuid.UUID(cluster_uuid), GROUP_NAME))},
    }


def network_names(host: Host) -> list[str]:
    """libvirt networks of the first node (every node is expected to have the same ones)."""
    conn = next(iter(host.nodes.values())).conn
    return sorted(set(conn.listNetworks()) | set(conn.listDefinedNetworks()))


def console_view(host: Host, name: str) -> dict[str, Any]:
    """VNC host/port from the live domain XML; a stable reserved port on the simulated host."""
    record, node, xml = host.live_xml(name)
    if record.building or host.power(name) != "running":
        raise ConflictError(f"instance {name} is not running")
    endpoint = vnc_from_xml(xml)
    if endpoint is not None and endpoint.port is not None:
        listen = endpoint.listen or ""
        host_name = node.address if listen in ("", "0.0.0.0", "::") else listen  # noqa: S104 - reading, not binding
        return {"instance": name, "kind": "vnc", "host": host_name, "port": endpoint.port, "simulated": False}
    return {
        "instance": name,
        "kind": "vnc",
        "host": "127.0.0.1",
        "port": record.vnc_port,
        "simulated": node.simulated,
        "note": SIMULATED_CONSOLE_NOTE if node.simulated else "libvirt reports no VNC port yet",
    }
