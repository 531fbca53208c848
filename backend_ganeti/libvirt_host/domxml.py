"""Domain XML: rendered from a `DomainRecord`, and the VNC endpoint read back from libvirt's XML.

The record is the source of truth; the XML is derived from it whenever the instance is defined
or changed. The same shape serves the test driver (`type='test'`) and QEMU (`type='qemu'` for
TCG, `'kvm'` on hosts with usable KVM); only the domain type differs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from backend_ganeti.libvirt_host.records import DiskRecord, DomainRecord

DEFAULT_NETWORK = "default"


def _disk_target(index: int) -> str:
    """vda, vdb, ... vdz, vdaa, ...: virtio disk names by position."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return f"vd{letters}"


def render_domain(record: DomainRecord, *, domain_type: str, disk_path: Callable[[DiskRecord], str]) -> str:
    """The libvirt domain XML for `record` (VNC on 127.0.0.1 with a port chosen by libvirt)."""
    domain = ET.Element("domain", type=domain_type)
    ET.SubElement(domain, "name").text = record.name
    ET.SubElement(domain, "uuid").text = record.uuid
    ET.SubElement(domain, "description").text = f"Nefos instance (os {record.os or 'none'})"
    ET.SubElement(domain, "memory", unit="MiB").text = str(record.memory_mb)
    ET.SubElement(domain, "currentMemory", unit="MiB").text = str(record.memory_mb)
    ET.SubElement(domain, "vcpu").text = str(record.vcpus)
    os_el = ET.SubElement(domain, "os")
    ET.SubElement(os_el, "type", arch="x86_64").text = "hvm"
    ET.SubElement(os_el, "boot", dev="hd")
    features = ET.SubElement(domain, "features")
    ET.SubElement(features, "acpi")  # so a soft shutdown reaches a real guest
    ET.SubElement(domain, "on_reboot").text = "restart"
    devices = ET.SubElement(domain, "devices")
    if record.disk_template == "file":
        for index, disk in enumerate(record.disks):
            disk_el = ET.SubElement(devices, "disk", type="file", device="disk")
            ET.SubElement(disk_el, "driver", name="qemu", type="raw")
            ET.SubElement(disk_el, "source", file=disk_path(disk))
            ET.SubElement(disk_el, "target", dev=_disk_target(index), bus="virtio")
    for nic in record.nics:
        if nic.link:
            nic_el = ET.SubElement(devices, "interface", type="bridge")
            ET.SubElement(nic_el, "mac", address=nic.mac)
            ET.SubElement(nic_el, "source", bridge=nic.link)
        else:
            nic_el = ET.SubElement(devices, "interface", type="network")
            ET.SubElement(nic_el, "mac", address=nic.mac)
            ET.SubElement(nic_el, "source", network=nic.network or DEFAULT_NETWORK)
        ET.SubElement(nic_el, "model", type="virtio")
    ET.SubElement(devices, "graphics", type="vnc", autoport="yes", listen="127.0.0.1")
    return ET.tostring(domain, encoding="unicode")


@dataclass(frozen=True)
class VncEndpoint:
    """Where libvirt says a domain's VNC server listens; `port` None when not yet assigned."""

    listen: str | None
    port: int | None


def vnc_from_xml(xml: str) -> VncEndpoint | None:
    """The first VNC graphics device of a (live) domain XML, None when it has none."""
    root = ET.fromstring(xml)  # noqa: S314 - XML from our own libvirt connection
    graphics = root.find("./devices/graphics[@type='vnc']")
    if graphics is None:
        return None
    port_text = graphics.get("port", "-1")
    port = int(port_text) if port_text.lstrip("-").isdigit() else -1
    return VncEndpoint(listen=graphics.get("listen"), port=port if port > 0 else None)
