"""The host's nodes: one libvirt connection each, simulated (test driver) or real (`qemu:///...`).

A simulated node is a `test:///<state dir>/nodes/<name>.xml` connection built from a generated
node definition (CPUs, memory, a `default` network). libvirt's test driver keeps all state in the
connection, so the agent opens each node once and keeps it for its lifetime; each custom-XML
connection starts empty, and the agent re-defines the persisted domains into it at start.
A real node is any libvirt URI; its CPUs and memory come from libvirt, its disk budget from the
agent's option (the agent accounts disk from its own records on both kinds). Its domain type is
`qemu` (TCG), `kvm`, or resolved per node by `resolve_domain_type` (`auto`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import libvirt

from backend_ganeti.libvirt_host.store import atomic_write

DOMAIN_TYPE_CHOICES = ("qemu", "kvm", "auto")

_NODE_XML = """<node>
  <cpu>
    <mhz>2400</mhz>
    <model>x86_64</model>
    <nodes>1</nodes>
    <sockets>1</sockets>
    <cores>{cpus}</cores>
    <threads>1</threads>
    <active>{cpus}</active>
  </cpu>
  <memory>{memory_kib}</memory>
  <network>
    <name>default</name>
    <bridge name="virbr0"/>
    <forward/>
    <ip address="192.168.122.1" netmask="255.255.255.0"/>
  </network>
</node>
"""


def _ignore_libvirt_error(_context: object, _error: object) -> None:
    """libvirt prints every error to stderr by default; the agent reports them itself."""


def quiet_libvirt() -> None:
    """Stop libvirt from printing errors the agent turns into job errors or HTTP answers."""
    libvirt.registerErrorHandler(_ignore_libvirt_error, None)


@dataclass
class HostNode:
    """One node of the host: its libvirt connection and its capacity."""

    name: str
    uri: str
    conn: libvirt.virConnect
    simulated: bool
    address: str
    cpus: int
    memory_mb: int
    disk_mb: int
    domain_type: str

    def alive(self) -> bool:
        """True while the libvirt connection answers."""
        try:
            return bool(self.conn.isAlive())
        except libvirt.libvirtError:
            return False

    def close(self) -> None:
        """Close the connection (a simulated node's state goes with it)."""
        with contextlib.suppress(libvirt.libvirtError):
            self.conn.close()


def simulated_nodes(directory: Path, *, count: int, cpus: int, memory_mb: int, disk_mb: int) -> list[HostNode]:
    """`count` test-driver nodes named node1..nodeN, their XML written under `directory`."""
    nodes = []
    for index in range(1, count + 1):
        name = f"node{index}"
        path = directory / f"{name}.xml"
        atomic_write(path, _NODE_XML.format(cpus=cpus, memory_kib=memory_mb * 1024).encode())
        uri = f"test://{path.resolve()}"
        conn = libvirt.open(uri)
        nodes.append(
            HostNode(
                name=name,
                uri=uri,
                conn=conn,
                simulated=True,
                address="127.0.0.1",
                cpus=cpus,
                memory_mb=memory_mb,
                disk_mb=disk_mb,
                domain_type="test",
            )
        )
    return nodes


def resolve_domain_type(conn: libvirt.virConnect, wanted: str) -> str:
    """`qemu` or `kvm` as asked; for `auto`, `kvm` when libvirt's domain capabilities offer it.

    libvirt answers the KVM domain capabilities when `/dev/kvm` opens and QEMU's KVM probe
    succeeds; a host whose KVM cannot run ordinary guests (e.g. a PVM guest host) may still say
    yes, so such hosts should be run with `qemu`, never `auto`.
    """
    if wanted != "auto":
        return wanted
    try:
        conn.getDomainCapabilities(None, "x86_64", None, "kvm", 0)
    except libvirt.libvirtError:
        return "qemu"
    return "kvm"


def uri_nodes(uris: list[str], *, disk_mb: int, domain_type: str) -> list[HostNode]:
    """One real node per libvirt URI (e.g. `qemu:///system`), named by the host's hostname."""
    nodes: list[HostNode] = []
    for uri in uris:
        conn = libvirt.open(uri)
        _model, memory_mb, cpus, *_rest = conn.getInfo()
        name = conn.getHostname().split(".")[0] or "node"
        taken = {node.name for node in nodes}
        suffix = 2
        base = name
        while name in taken:
            name, suffix = f"{base}-{suffix}", suffix + 1
        nodes.append(
            HostNode(
                name=name,
                uri=uri,
                conn=conn,
                simulated=False,
                address=urlsplit(uri).hostname or "127.0.0.1",
                cpus=int(cpus),
                memory_mb=int(memory_mb),
                disk_mb=disk_mb,
                domain_type=resolve_domain_type(conn, domain_type),
            )
        )
    return nodes
