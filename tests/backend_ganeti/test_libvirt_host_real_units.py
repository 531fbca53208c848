"""Unit tests of the agent's real-node parts that need no libvirtd: domain-type resolution, the
`run` options for real nodes, and file disks on a node marked real (backed by the test driver).
The same paths on a real libvirtd are in test_libvirt_host_qemu.py (marker `libvirtd`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import libvirt
import pytest

from backend_ganeti.libvirt_host.agent import AgentStartError, add_run_arguments, config_from_options
from backend_ganeti.libvirt_host.host import Host
from backend_ganeti.libvirt_host.nodes import HostNode, quiet_libvirt, resolve_domain_type, simulated_nodes
from backend_ganeti.libvirt_host.records import DiskRecord, DomainRecord
from backend_ganeti.libvirt_host.store import StateStore


class CapsConn:
    """Answers getDomainCapabilities like libvirt on a host with (or without) KVM."""

    def __init__(self, kvm: bool) -> None:
        self.kvm = kvm
        self.asked: list[tuple] = []

    def getDomainCapabilities(self, *args: object) -> str:
        self.asked.append(args)
        if not self.kvm:
            raise libvirt.libvirtError("invalid argument: KVM is not supported by '/usr/bin/qemu-system-x86_64'")
        return "<domainCapabilities><domain>kvm</domain></domainCapabilities>"


@pytest.mark.parametrize(("wanted", "kvm", "expected"), [("auto", True, "kvm"), ("auto", False, "qemu")])
def test_resolve_domain_type_follows_kvm_capabilities_when_auto(wanted, kvm, expected):
    conn = CapsConn(kvm)
    assert resolve_domain_type(conn, wanted) == expected
    assert conn.asked == [(None, "x86_64", None, "kvm", 0)]


@pytest.mark.parametrize("wanted", ["qemu", "kvm"])
def test_resolve_domain_type_keeps_an_explicit_type_without_asking_when_named(wanted):
    conn = CapsConn(kvm=wanted == "qemu")
    assert resolve_domain_type(conn, wanted) == wanted
    assert conn.asked == []


def parse(*argv: str) -> dict:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser, default_state_dir=Path("/tmp/state"))
    return vars(parser.parse_args(["--socket", "/tmp/agent.sock", *argv]))


def test_run_options_set_shutdown_timeout_disk_dir_and_auto_type_when_given():
    config = config_from_options(
        parse("--uri", "qemu:///system", "--domain-type", "auto", "--shutdown-timeout", "2.5", "--disk-dir", "disks")
    )
    assert (config.domain_type, config.delays.shutdown_timeout) == ("auto", 2.5)
    assert config.disk_dir == Path("disks").absolute()
    assert (config.delays.build, config.delays.power) == (0.0, 0.0)  # real nodes: no simulated delays


def test_run_options_default_to_tcg_and_two_minutes_when_not_given():
    config = config_from_options(parse())
    assert (config.domain_type, config.delays.shutdown_timeout, config.disk_dir) == ("qemu", 120.0, None)


def test_run_options_raise_when_the_shutdown_timeout_is_negative():
    with pytest.raises(AgentStartError, match="shutdown-timeout"):
        config_from_options(parse("--shutdown-timeout", "-1"))


def real_node_host(state: Path, disk_dir: Path) -> Host:
    """A host whose one node counts as real (disk files are made) on a test-driver connection."""
    quiet_libvirt()
    store = StateStore(state)
    fake = simulated_nodes(store.nodes_dir, count=1, cpus=4, memory_mb=4096, disk_mb=10000)[0]
    node = HostNode(
        name="real1",
        uri=fake.uri,
        conn=fake.conn,
        simulated=False,
        address="127.0.0.1",
        cpus=4,
        memory_mb=4096,
        disk_mb=10000,
        domain_type="test",
    )
    return Host([node], store, disk_dir=disk_dir, vnc_ports=range(5900, 5901))


def test_real_node_disks_are_private_sparse_files_removed_with_the_instance_when_destroyed(tmp_path):
    host = real_node_host(tmp_path / "state", tmp_path / "images")
    rec = DomainRecord(
        name="vm1",
        uuid="",
        node="",
        vcpus=1,
        memory_mb=64,
        disk_template="file",
        disks=[DiskRecord(size_mb=8, disk_id=0), DiskRecord(size_mb=4, disk_id=1)],
        next_disk_id=2,
    )
    host.define_new(rec, node=None)
    host.sync_disk_files(rec)
    files = [tmp_path / "images" / "vm1" / f"disk-{i}.img" for i in (0, 1)]
    assert [f.stat().st_size for f in files] == [8 << 20, 4 << 20]
    assert all(f.stat().st_mode & 0o777 == 0o600 and f.stat().st_blocks == 0 for f in files)
    assert f"file='{files[0]}'" in host.node("real1").conn.lookupByName("vm1").XMLDesc(0)

    rec.disks[1].size_mb = 6  # a grow
    host.update(rec)
    assert files[1].stat().st_size == 6 << 20

    host.remove("vm1")
    assert not (tmp_path / "images" / "vm1").exists()
