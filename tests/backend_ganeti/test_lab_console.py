"""The VNC console of a kvm instance on real Ganeti 3.0.2 (marker `ganeti`, `make lab-test`).

Ganeti 3.0.2 cannot report it (`GET /2/instances/X/console` answers 500: luxid fails to parse
the `display` field); `GanetiDriver.console` builds it from the instance's hvparams and port.
The test checks that the answer is right by reading the RFB banner at that address from inside
the primary node's namespace (the root namespace never sends traffic to a lab address).
"""

from __future__ import annotations

import time
import uuid

import pytest

from backend_ganeti.drivers.ganeti import GanetiDriver
from backend_ganeti.drivers.types import CreateSpec, JobState, NicSpec
from backend_ganeti.rapi import GanetiApiError, NotFound
from tests.backend_ganeti.conftest import client_for
from tests.backend_ganeti.lab_services import lab_command, wait_finished

pytestmark = pytest.mark.ganeti

RFB_PROBE = (
    "import socket, sys\n"
    "with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10) as s:\n"
    "    print(s.recv(12).decode())\n"
)


def test_kvm_vnc_console_is_built_from_the_instance_when_ganeti_cannot_report_it(lab):
    driver = GanetiDriver(client_for(lab["a"]), hypervisor="kvm")
    name = f"con-kvm-{uuid.uuid4().hex[:8]}.nefos.lab"
    spec = CreateSpec(
        name=name,
        vcpus=1,
        memory_mb=128,
        disk_template="diskless",
        disks=(),
        nics=(NicSpec(),),
        primary_node=lab["a"]["master"],
        hv_params={"kernel_path": "", "serial_console": False},
    )
    try:
        status = wait_finished(driver, driver.create(spec))
        if status.state == JobState.ERROR and "kvm_path" in status.error:
            pytest.skip(f"qemu is not installed in the lab nodes: {status.error}")
        assert status.state == JobState.SUCCESS, status.error
        started = time.monotonic()
        try:
            raw = driver.client.console(name)
        except GanetiApiError as exc:
            assert exc.status == 500  # Ganeti 3.0.2's luxid bug, as documented
        else:  # a Ganeti that can report it: the driver must agree with it
            assert raw["kind"] == "vnc"

        console = driver.console(name)

        node = driver.client.instance(name).pnode
        assert console.kind == "vnc" and console.port > 5900
        assert console.host == next(n.primary_ip for n in driver.client.nodes(bulk=True) if n.name == node)
        probe = lab_command("exec", node, "--", "python3", "-c", RFB_PROBE, console.host, str(console.port))
        assert probe.returncode == 0, probe.stderr
        assert probe.stdout.startswith("RFB 003.00"), probe.stdout
        assert time.monotonic() - started < 30
    finally:
        try:
            driver.instance(name)
        except NotFound:
            pass
        else:  # the guest sits in its firmware and ignores ACPI: power it off at once, then remove
            wait_finished(driver, driver.stop(name, timeout=0))
            wait_finished(driver, driver.destroy(name))
        driver.close()
