"""Real QEMU guests on the embedded host: the agent on a private libvirtd (`qemu+unix:///system`).

Marker `libvirtd`; skipped (with the reason) unless root with libvirtd and QEMU installed. The
guests are diskless-bootable TCG domains (`--domain-type qemu`) that sit in their firmware
(SeaBIOS, "no bootable device"), so they ignore ACPI: a stop falls back to power-off after its
timeout. No guest has a NIC and libvirt has no network, so nothing touches the root namespace's
network except the VNC servers on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import libvirt_qemu
import pytest

from backend_ganeti.drivers.libvirt import LibvirtHostDriver
from backend_ganeti.drivers.types import CreateSpec, DiskSpec, JobState, PowerState
from backend_ganeti.libvirt_host.domxml import vnc_from_xml
from backend_ganeti.rapi.errors import NotFound
from tests.backend_ganeti.libvirt_agent import AgentProcess, finish, running_agent
from tests.backend_ganeti.libvirtd_fixture import PrivateLibvirtd, private_libvirtd, skip_reason

pytestmark = pytest.mark.libvirtd

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def libvirtd() -> Iterator[PrivateLibvirtd]:
    """One private libvirtd for the module (skips with the reason when it cannot run here)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with private_libvirtd() as daemon:
        yield daemon


@pytest.fixture(scope="module")
def agent(libvirtd: PrivateLibvirtd) -> Iterator[AgentProcess]:
    """The host agent with the private libvirtd as its one real node (TCG, 2 s ACPI timeout)."""
    args = ("--uri", libvirtd.uri, "--domain-type", "qemu", "--shutdown-timeout", "2", "--node-disk-mb", "4096")
    with running_agent(*args, build_delay=0, op_delay=0) as process:
        yield process


@pytest.fixture
def conn(libvirtd: PrivateLibvirtd) -> Iterator[libvirt.virConnect]:
    """A libvirt connection of the test's own, to check what the agent did."""
    connection = libvirtd.connect()
    yield connection
    connection.close()


@contextlib.contextmanager
def removed_afterwards(driver: LibvirtHostDriver, name: str) -> Iterator[None]:
    """Destroy instance `name` after the block if it still exists, also on failure."""
    try:
        yield
    finally:
        with contextlib.suppress(NotFound):
            driver.instance(name)
            finish(driver, driver.destroy(name), timeout=30)


def qemu_alive(pid: int) -> bool:
    """True while `pid` is a QEMU process (not gone, not a zombie)."""
    try:
        return b"qemu-system" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    """Wait until QEMU `pid` has exited; True when it did."""
    deadline = time.monotonic() + timeout
    while qemu_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def monitor(domain: libvirt.virDomain, command: str) -> dict:
    """A QMP command through libvirt; its `return` value."""
    return json.loads(libvirt_qemu.qemuMonitorCommand(domain, json.dumps({"execute": command}), 0))["return"]


def qemu_pid_from_monitor(domain: libvirt.virDomain) -> int:
    """The QEMU PID as libvirt's monitor shows it: the process owning the first vCPU thread."""
    thread = monitor(domain, "query-cpus-fast")[0]["thread-id"]
    status = Path(f"/proc/{thread}/status").read_text()
    match = re.search(r"^Tgid:\s+(\d+)", status, re.MULTILINE)
    assert match is not None
    return int(match.group(1))


def test_qemu_instance_runs_a_tcg_process_through_its_lifecycle_when_driven(agent, libvirtd, conn):
    driver = agent.driver()
    name = "qemu-life"
    spec = CreateSpec(name=name, vcpus=1, memory_mb=64, disk_template="file", disks=(DiskSpec(size_mb=64),), nics=())
    with removed_afterwards(driver, name):
        created = finish(driver, driver.create(spec), timeout=60)
        assert created.state is JobState.SUCCESS, created.error
        assert driver.instance(name).power is PowerState.RUNNING
        domain = conn.lookupByName(name)
        assert domain.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        pid = qemu_pid_from_monitor(domain)
        assert pid == libvirtd.qemu_pid(name)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert f"guest={name}".encode() in b" ".join(cmdline)
        assert b"tcg" in cmdline  # `-accel tcg`: domain type qemu
        assert monitor(domain, "query-kvm")["enabled"] is False

        disk = agent.state_dir / "disks" / name / "disk-0.img"
        assert disk.stat().st_size == 64 * MIB
        assert disk.stat().st_blocks * 512 < MIB  # sparse
        assert disk.stat().st_mode & 0o777 == 0o600
        live = domain.XMLDesc(0)
        assert f"<source file='{disk}'" in live
        assert "type='qemu'" in live

        started = time.monotonic()
        stopped = finish(driver, driver.stop(name), timeout=30)  # no timeout: the agent's --shutdown-timeout 2
        assert stopped.state is JobState.SUCCESS, stopped.error
        assert time.monotonic() - started >= 2  # the firmware ignored ACPI for the whole timeout
        assert any("did not stop within 2 s; forcing power off" in entry.message for entry in stopped.log)
        assert domain.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        assert wait_gone(pid)
        assert driver.instance(name).power is PowerState.STOPPED

        restarted = finish(driver, driver.start(name), timeout=30)
        assert restarted.state is JobState.SUCCESS, restarted.error
        assert driver.instance(name).power is PowerState.RUNNING
        new_pid = qemu_pid_from_monitor(domain)
        assert new_pid != pid and qemu_alive(new_pid)

        rebooted = finish(driver, driver.reboot(name, hard=True), timeout=30)
        assert rebooted.state is JobState.SUCCESS, rebooted.error
        assert any("hard reboot" in entry.message for entry in rebooted.log)
        assert domain.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert qemu_pid_from_monitor(domain) == new_pid  # a reset keeps the process

        destroyed = finish(driver, driver.destroy(name), timeout=30)
        assert destroyed.state is JobState.SUCCESS, destroyed.error
        with pytest.raises(NotFound):
            driver.instance(name)
        with pytest.raises(libvirt.libvirtError):
            conn.lookupByName(name)
        assert wait_gone(new_pid)
        assert not disk.exists() and not disk.parent.exists()


def test_qemu_console_answers_rfb_on_loopback_when_the_instance_runs(agent, conn):
    driver = agent.driver()
    name = "qemu-vnc"
    spec = CreateSpec(name=name, vcpus=1, memory_mb=64, disk_template="diskless", disks=(), nics=())
    with removed_afterwards(driver, name):
        created = finish(driver, driver.create(spec), timeout=60)
        assert created.state is JobState.SUCCESS, created.error

        console = driver.console(name)

        endpoint = vnc_from_xml(conn.lookupByName(name).XMLDesc(0))
        assert endpoint is not None
        assert (console.kind, console.host, console.port) == ("vnc", "127.0.0.1", endpoint.port)
        assert console.extra["simulated"] is False
        with socket.create_connection((console.host, console.port), timeout=10) as vnc:
            vnc.settimeout(10)
            banner = vnc.recv(12)
        assert banner.startswith(b"RFB 003.00"), banner


def test_qemu_node_reports_libvirt_capacity_and_no_network_when_listed(agent, conn):
    driver = agent.driver()

    nodes = driver.nodes()
    summary = driver.summary()

    _model, memory_mb, cpus, *_rest = conn.getInfo()
    assert [(node.ctotal, node.mtotal, node.dtotal) for node in nodes] == [(cpus, memory_mb, 4096)]
    assert summary.hypervisor == "qemu"
    assert driver.networks() == [] and conn.listAllNetworks() == []


def test_auto_domain_type_follows_libvirt_capabilities_when_asked(libvirtd, conn):
    try:
        conn.getDomainCapabilities(None, "x86_64", None, "kvm", 0)
        expected = "kvm"
    except libvirt.libvirtError:
        expected = "qemu"

    with running_agent("--uri", libvirtd.uri, "--domain-type", "auto", build_delay=0, op_delay=0) as process:
        hypervisor = process.driver().summary().hypervisor

    assert hypervisor == expected
